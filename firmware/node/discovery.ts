/*
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): what
 * the node announces. The rounds themselves (when, one at a time, removals, resend) are run by the node
 * (node.ts, "Discovery rounds").
 *
 * Config messages, retained, QoS 1, under <ha prefix>/<component>/<object id>/config:
 *   sensor/<id>_<quantity>          (several sensors: sensor/<id>_<sensor>_<quantity>)
 *   switch/<id>_pump                the relay: command_topic pump/set, state_topic pump, attributes
 *   binary_sensor/<id>_<interlock>  each interlock input
 * Each carries unique_id, default_entity_id (HA 2025.10 replaced object_id by it), availability on the
 * node's status topic, the device block and the origin block; sensors add device_class, state_class,
 * unit, suggested_display_precision and expire_after (3 x the longest of interval and heartbeat; none
 * without a heartbeat, as a value that does not move is then not republished). Keys use Home
 * Assistant's abbreviations (uniq_id, stat_t, dev, o, ...) and "~" for the node's base topic.
 *
 * Memory: a config is built only when it is its turn, from the few fields the node keeps anyway, and
 * dropped once published: the ESP8266 holds one payload (~0.45 KB) at a time. All the building code is
 * this one function: nothing of it outlives the call but its own function object.
 */
import { ONLINE, OFFLINE, ON, OFF, VERSION, PROJECT, T_STATUS, T_PUMP, T_PUMP_SET, T_PUMP_ATTRIBUTES, T_INTERLOCK, Q_TEMPERATURE, Q_HUMIDITY, Q_PRESSURE } from "../constants";
import { QT, QH, M_QM, M_DEC } from "./publisher";

/** Storage file with the list of config topics announced last time. */
export const DISCOVERY_FILE = "ha.json";
/** Pause between two accepted config messages. */
export const GAP_MS = 250;
/** Retry delay when the client refused a publish (in-flight list full). */
export const RETRY_MS = 1000;
/** Resend after Home Assistant's "online": this much plus up to RESEND_SPREAD_MS at random. */
export const RESEND_MIN_MS = 1000;
export const RESEND_SPREAD_MS = 4000;

/** The Storage calls discovery needs (require("Storage") on the device, a fake in tests). */
export interface StoragePort {
  readJSON(name: string, noExceptions: boolean): any;
  writeJSON(name: string, data: any): any;
}

/** A sensor as discovery describes it (the node's sensor slot). */
export interface DiscoverySensor {
  /** Sensor name (config.sensors[].name). */
  _name: string;
  /**
   * Bits (publisher.ts M_*): quantity q is measured when bit M_QM + q is set (publisher.ts quantityMask);
   * its decimals are (_m >> (M_DEC + 2 * q)) & 3.
   */
  _m: number;
  /** Read interval, seconds. */
  _sec: number;
  /** Heartbeat, seconds (0: none). */
  _hb: number;
  /** The next sensor, in config order; absent on the last. */
  _next?: DiscoverySensor;
}

/** What discovery reads from the node (node.ts NodeApp). */
export interface DiscoverySource {
  /** "<prefix>/<id>/". */
  base: string;
  /** Home Assistant's discovery prefix; "" when discovery is off (nothing is announced). */
  _ha: string;
  /** Device name and board name, for the device block. */
  _devName: string;
  _model: string;
  /** The first sensor (the others follow through _next); absent without sensors. */
  _slots?: DiscoverySensor;
  /** Interlock names; null without a pump. */
  _locks: string[] | null;
}

/**
 * Config message i (0-based, in sending order: each sensor's quantities, the pump switch, the interlocks)
 * as [topic, payload], or null past the last one (at once when discovery is off). The payload is built
 * in one concatenation; with "~" and the abbreviated keys a sensor config is ~0.45 KB instead of 0.8 KB.
 */
export function discoveryConfig(src: DiscoverySource, i: number): string[] | null {
  if (!src._ha) return null;
  var base = src.base.substr(0, src.base.length - 1);
  // "<prefix>/<id>/": the id is the last level (an id holds no "/").
  var levels = src.base.split("/");
  var id = levels[levels.length - 2] + "_";
  var several = !!(src._slots && src._slots._next);
  var locks = src._locks;
  var component = "sensor";
  var oid = "";
  var body = "";
  for (var sc = src._slots; sc && !oid; sc = sc._next) {
    for (var q = 0; q < 3 && !oid; q++) {
      if (!((sc._m >> (M_QM + q)) & 1) || i-- > 0) continue;
      var qname = q === QT ? Q_TEMPERATURE : q === QH ? Q_HUMIDITY : Q_PRESSURE;
      var longest = sc._sec > sc._hb ? sc._sec : sc._hb;
      oid = id + (several ? sc._name + "_" : "") + qname;
      body = "\",\"name\":\"" + (several ? sc._name + " " + qname : qname.charAt(0).toUpperCase() + qname.substr(1)) +
        "\",\"stat_t\":\"~/" + (several ? sc._name + "/" : "") + qname +
        "\",\"dev_cla\":\"" + (q === QT ? "temperature\",\"unit_of_meas\":\"\xC2\xB0C" : q === QH ? "humidity\",\"unit_of_meas\":\"%" : "atmospheric_pressure\",\"unit_of_meas\":\"hPa") +
        "\",\"stat_cla\":\"measurement\",\"sug_dsp_prc\":" + ((sc._m >> (M_DEC + 2 * q)) & 3) +
        (sc._hb > 0 ? ",\"exp_aft\":" + Math.ceil(3 * longest) : "");
    }
  }
  if (!oid && locks) {
    if (i === 0) {
      component = "switch";
      oid = id + "pump";
      body = "\",\"name\":\"Pump\",\"ic\":\"mdi:water-pump\",\"cmd_t\":\"~/" + T_PUMP_SET + "\",\"stat_t\":\"~/" + T_PUMP +
        "\",\"pl_on\":\"" + ON + "\",\"pl_off\":\"" + OFF + "\",\"json_attr_t\":\"~/" + T_PUMP_ATTRIBUTES + "\"";
    } else if (i <= locks.length) {
      var lock = locks[i - 1];
      component = "binary_sensor";
      oid = id + lock;
      body = "\",\"name\":\"Interlock " + lock + "\",\"stat_t\":\"~/" + T_INTERLOCK + "/" + lock + "\",\"pl_on\":\"" + ON + "\",\"pl_off\":\"" + OFF + "\"";
    }
  }
  if (!oid) return null;
  // VERSION and PROJECT appear twice but are named once (a constant named twice in the bundle becomes a
  // module-level variable, kept for ever).
  var sw = ",\"sw\":\"" + VERSION + "\"";
  var project = "\"" + PROJECT + "\"";
  // default_entity_id must be a valid entity id: lowercase a-z, 0-9, _ (the device id may hold "-" and
  // capitals). split/join, not replace(/-/g): the firmware's first RegExp would bring Espruino's RegExp
  // class into RAM for good (8 JsVars).
  return [
    src._ha + "/" + component + "/" + oid + "/config",
    "{\"~\":\"" + base + "\",\"uniq_id\":\"" + oid + "\",\"def_ent_id\":\"" + component + "." + oid.toLowerCase().split("-").join("_") + body +
      // Availability, device and origin blocks, the same for every entity.
      ",\"avty_t\":\"~/" + T_STATUS + "\",\"pl_avail\":\"" + ONLINE + "\",\"pl_not_avail\":\"" + OFFLINE +
      "\",\"dev\":{\"ids\":[\"" + id.substr(0, id.length - 1) + "\"],\"name\":" + JSON.stringify(src._devName) + ",\"mdl\":" + JSON.stringify(src._model) +
      sw + ",\"mf\":" + project + "},\"o\":{\"name\":" + project + sw + "}}"
  ];
}

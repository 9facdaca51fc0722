/*
 * The pump's safety rules (issue 6) proven on the built bundle (dist/firmware.js) in the simulator,
 * against a real Mosquitto, with MQTT.js as the home-automation side. Each test is one named behaviour with
 * its own broker and device (test/helpers/sim-fixtures.ts), small limits from the config so it fits in a
 * few seconds of real time, and asserts both the relay pin (d.relay()) and what the node published:
 * <prefix>/<id>/pump (ON/OFF, retained), pump/attributes (reason, counters, last refusal), error
 * ({"source":"pump","message":..}) and interlock/<name>.
 * Needs `npm run build` first (npm test does it).
 * Run: node --import tsx --test test/pump-sim.test.ts
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Scene, recorder, sleep } from "./helpers/sim-fixtures.ts";
import { DEFAULT_BUNDLE } from "../sim/api.ts";

before(() => {
  assert.ok(existsSync(DEFAULT_BUNDLE), "build the bundle first: npm run build");
});

/** Timers on a loaded machine fire late, never early: lower bounds are tight, upper bounds generous. */
const EARLY_MS = 100;

test("valid commands obey: ON, OFF, ON for N seconds, any case", { timeout: 30000 }, async () => {
  const s = await Scene.start("cmd");
  try {
    const d = s.dev;
    let m = s.mark();
    const on = await s.switchOn(m, "the relay holds ON when ON is published");
    assert.ok(s.lastRelay(true) <= on.at, "pin written before the state was published");
    let a = await s.attrsWhen("reason command", m, (x) => x.reason === "command");
    assert.equal(a.changes, 1);
    assert.equal(a.refused, 0);
    assert.ok(a.left_seconds > 25 && a.left_seconds <= 30, "a plain ON runs for maxRunSeconds (30): " + a.left_seconds);
    assert.equal(await s.retained("pump"), "ON", "state retained");

    m = s.mark();
    await s.send("OFF");
    await s.next(m, "pump", "OFF");
    assert.equal(d.relay(), false);
    a = await s.attrsWhen("OFF by command", m, (x) => x.changes === 2);
    assert.equal(a.reason, "command");
    assert.equal(a.left_seconds, 0);
    assert.equal(await s.retained("pump"), "OFF");

    m = s.mark();
    await s.send("{\"state\":\"ON\",\"seconds\":1}");
    await s.next(m, "pump", "ON");
    assert.equal(d.relay(), true);
    a = await s.attrsWhen("a run of 1 s", m, (x) => x.changes === 3);
    assert.equal(a.left_seconds, 1);
    const startedAt = s.lastRelay(true);
    await s.next(m, "pump", "OFF", 5000);
    assert.equal(d.relay(), false);
    assert.ok(s.lastRelay(false) - startedAt >= 1000 - EARLY_MS, "ran its second: " + (s.lastRelay(false) - startedAt) + " ms");
    a = await s.attrsWhen("auto-off", m, (x) => x.changes === 4);
    assert.equal(a.reason, "timeout");

    m = s.mark();
    await s.send("on");
    await s.next(m, "pump", "ON");
    assert.equal(d.relay(), true, "lower-case on");
    await s.send(" Off\n");
    await s.next(m, "pump", "OFF");
    assert.equal(d.relay(), false, "mixed-case OFF with spaces around it");
    await s.send("{\"state\":\"on\"}");
    await s.until("JSON state in lower case", () => s.since(m, "pump").length === 3, 5000);
    assert.equal(d.relay(), true);
    assert.equal(s.pumpErrors(0).length, 0, "no refusal along the way: " + s.pumpErrors(0).join(" | "));
  } finally {
    await s.close();
  }
});

test("a retained ON on pump/set is ignored at boot and again after a broker restart", { timeout: 30000 }, async () => {
  // The broker keeps retained messages across its restart (persistence), as a production broker does.
  const s = await Scene.open("ret1", undefined, { extraConfig: "persistence true\npersistence_location {DIR}/\n" });
  try {
    await s.send("ON", { retain: true });
    await s.boot();
    const e = await s.nextPumpError(0);
    assert.match(e, /retained/);
    let a = await s.attrsWhen("the refusal counted", 0, (x) => x.refused === 1);
    assert.equal(a.changes, 0);
    assert.equal(a.reason, "boot");
    assert.equal(a.last_refused, e);
    assert.equal(s.d!.relay(), false);
    assert.equal(await s.retained("pump"), "OFF");

    await s.broker.restart();
    // The scene's MQTT.js client (reconnectPeriod 0) does not come back by itself: a second one watches.
    const watcher = await recorder(s.broker.url, [s.base + "#"]);
    try {
      await s.until("the node online again", () => watcher.msgs.some((x) => x.topic === s.base + "status" && x.text === "online" && !x.retain), 15000);
      await s.until("the stored ON refused again", () => watcher.msgs.some((x) => x.topic === s.base + "error" && /retained/.test(JSON.parse(x.text).message)), 5000);
      await s.until("attributes with 2 refusals", () => watcher.msgs.some((x) => x.topic === s.base + "pump/attributes" && JSON.parse(x.text).refused === 2), 5000);
      a = JSON.parse(watcher.msgs.filter((x) => x.topic === s.base + "pump/attributes").pop()!.text);
      assert.equal(a.changes, 0, "the relay never changed");
    } finally {
      await watcher.c.endAsync();
    }
    assert.equal(s.d!.relay(), false);
    assert.equal(s.relayLog.length, 1, "the relay never turned on: " + JSON.stringify(s.relayLog));
  } finally {
    await s.close();
  }
});

test("a retained ON (and a queued ON) set while the Wifi was down is ignored at reconnect", { timeout: 30000 }, async () => {
  const s = await Scene.start("ret2");
  try {
    const d = s.dev;
    const m = s.mark();
    d.wifiDrop(2);
    await s.send("ON", { retain: true });
    await s.send("ON"); // QoS 1 to a session the node will not resume (clean session)
    await s.next(m, "status", "online", 15000);
    const e = await s.nextPumpError(m);
    assert.match(e, /retained/);
    // (Its attributes publish may be dropped when publishes were still unacknowledged at the drop: see
    // "state and counters consistent after a reconnect" below.)
    await sleep(500);
    assert.equal(d.relay(), false);
    assert.equal(s.relayLog.length, 1, "the relay never turned on: " + JSON.stringify(s.relayLog));
    assert.equal(s.pumpErrors(m).length, 1, "one refusal (the retained ON); the queued ON was not replayed");
    assert.equal(s.since(m, "pump").every((x) => x.text === "OFF"), true);
  } finally {
    await s.close();
  }
});

test("auto-off at maxRunSeconds; a command's seconds can shorten a run but never extend it", { timeout: 30000 }, async () => {
  const s = await Scene.start("max", (c) => { c.pump.maxRunSeconds = 2; });
  try {
    const d = s.dev;
    const m = s.mark();
    await s.send("{\"state\":\"ON\",\"seconds\":100}");
    await s.next(m, "pump", "ON");
    assert.equal(d.relay(), true);
    const a = await s.attrsWhen("running", m, (x) => x.reason === "command");
    assert.ok(a.left_seconds <= 2, "seconds beyond maxRunSeconds are cut to it: " + a.left_seconds);
    const startedAt = s.lastRelay(true);
    // ON while ON: refused, whatever seconds it asks for.
    await s.send("{\"state\":\"ON\",\"seconds\":60}");
    assert.match(await s.nextPumpError(m), /already ON .*cannot extend/);
    const m2 = s.mark();
    await s.send("ON");
    assert.match(await s.nextPumpError(m2), /already ON .*cannot extend/);
    await s.next(m, "pump", "OFF", 8000);
    assert.equal(d.relay(), false);
    const ran = s.lastRelay(false) - startedAt;
    assert.ok(ran >= 2000 - EARLY_MS && ran < 6000, "stopped at maxRunSeconds (2 s), not later: " + ran + " ms");
    const end = await s.attrsWhen("auto-off", m, (x) => x.reason === "timeout");
    assert.equal(end.changes, 2);
    assert.equal(end.refused, 2);
    assert.equal(await s.retained("pump"), "OFF");
  } finally {
    await s.close();
  }
});

test("minimum off time: counted from boot and from the last OFF; ON refused with the time left, accepted after", { timeout: 30000 }, async () => {
  const MIN_OFF = 3;
  const s = await Scene.start("minoff", (c) => { c.pump.minOffSeconds = MIN_OFF; });
  try {
    const d = s.dev;
    let m = s.mark();
    const sentAt = Date.now();
    await s.send("ON");
    // The node is online well within MIN_OFF seconds of power-on; if the machine was too slow for that,
    // the ON is legitimately accepted and this part says so rather than failing on the timing.
    if (sentAt - s.bootAt < (MIN_OFF - 1) * 1000) {
      const e = await s.nextPumpError(m);
      const left = Number((/minimum off time, (\d+) s left/.exec(e) || [])[1]);
      assert.ok(left >= 1 && left <= MIN_OFF, "refused after boot with the time left: " + e);
      assert.equal(d.relay(), false);
      await sleep(s.bootAt + MIN_OFF * 1000 + 200 - Date.now());
      m = s.mark();
      await s.send("ON");
    } else {
      console.log("# minoff: node online " + (sentAt - s.bootAt) + " ms after boot; boot part not checked");
    }
    await s.next(m, "pump", "ON");
    assert.equal(d.relay(), true);

    m = s.mark();
    await s.send("OFF");
    await s.next(m, "pump", "OFF");
    const offAt = s.lastRelay(false);
    await s.send("ON");
    const e = await s.nextPumpError(m);
    assert.match(e, /minimum off time, \d+ s left/);
    const left = Number(/(\d+) s left/.exec(e)![1]);
    assert.ok(left >= 1 && left <= MIN_OFF, "names the remaining time: " + e);
    assert.equal(d.relay(), false);
    const a = await s.attrsWhen("refusal recorded", m, (x) => x.last_refused === e);
    assert.equal(a.reason, "command");

    await sleep(offAt + MIN_OFF * 1000 + 200 - Date.now());
    m = s.mark();
    await s.switchOn(m, "accepted once the minimum off time has passed");
    assert.equal(s.pumpErrors(m).length, 0);
  } finally {
    await s.close();
  }
});

/*
 * An interlock input driven from outside. The simulator's tank model drives the tank_full float switch
 * itself every 200 ms (a level set by hand would be undone), so for tank_full the water level is set to
 * match: full (100 %) while active, half (50 %) once released.
 */
function setLock(s: Scene, name: string, active: boolean): void {
  if (name === "tank_full") {
    s.dev.hw.tank.demand = 0;
    s.dev.hw.tank.level = active ? 100 : 50;
  }
  s.dev.setInterlock(name, active);
}

for (const name of ["tank_full", "people_present"]) {
  test("interlock " + name + ": forces OFF at once, refuses ON naming it, the ON is not remembered", { timeout: 30000 }, async () => {
    const s = await Scene.start("il-" + name.replace("_", ""));
    try {
      const d = s.dev;
      let m = s.mark();
      await s.switchOn(m);

      m = s.mark();
      const at = Date.now();
      setLock(s, name, true);
      await s.until("relay off", () => d.relay() === false, 1000);
      // At once: the platform's watch passes an edge after 50 ms of stable level (setWatch debounce).
      assert.ok(s.lastRelay(false) - at < 500, "at once: " + (s.lastRelay(false) - at) + " ms");
      await s.next(m, "pump", "OFF");
      const a = await s.attrsWhen("reason interlock", m, (x) => x.changes === 2);
      assert.equal(a.reason, "interlock:" + name);
      await s.next(m, "interlock/" + name, "ON");
      assert.equal(await s.retained("interlock/" + name), "ON");
      assert.equal(await s.retained("pump"), "OFF");

      await s.send("ON");
      assert.match(await s.nextPumpError(m), new RegExp("interlock \"" + name + "\" is active"));
      assert.equal(d.relay(), false);

      m = s.mark();
      setLock(s, name, false);
      await s.next(m, "interlock/" + name, "OFF");
      await sleep(700); // nothing to wait for: the refused ON must not come back by itself
      assert.equal(d.relay(), false, "the ON refused during the interlock was not remembered");
      assert.equal(s.since(m, "pump").length, 0);
      assert.equal(await s.retained("interlock/" + name), "OFF");

      await s.switchOn(m, "a new ON is obeyed once the interlock is clear");
    } finally {
      await s.close();
    }
  });
}

test("the tank's float switch stops the pump by itself when the tank fills up", { timeout: 30000 }, async () => {
  const s = await Scene.start("tank");
  try {
    const d = s.dev;
    const tank = d.hw.tank;
    tank.demand = 0;
    tank.fillRate = 2; // %/s while pumping
    tank.level = tank.fullLevel - 2;
    let m = s.mark();
    await s.switchOn(m);
    await s.until("float switch", () => d.relay() === false, 8000);
    assert.ok(tank.full(), "stopped because the tank is full (level " + tank.level.toFixed(1) + " %)");
    await s.next(m, "interlock/tank_full", "ON");
    const a = await s.attrsWhen("reason interlock:tank_full", m, (x) => x.changes === 2);
    assert.equal(a.reason, "interlock:tank_full");
    await s.send("ON");
    assert.match(await s.nextPumpError(m), /interlock "tank_full" is active/);
    assert.equal(d.relay(), false);

    m = s.mark();
    tank.level = 50; // water used: the float drops
    await s.next(m, "interlock/tank_full", "OFF", 3000);
    assert.equal(d.relay(), false);
    await s.switchOn(m);
  } finally {
    await s.close();
  }
});

test("link lost (Wifi down): OFF after linkLostOffSeconds, reason link-lost republished on return", { timeout: 30000 }, async () => {
  const LOST = 1;
  const s = await Scene.start("lost1", (c) => { c.pump.linkLostOffSeconds = LOST; });
  try {
    const d = s.dev;
    let m = s.mark();
    await s.switchOn(m);

    m = s.mark();
    const at = Date.now();
    d.wifiDrop(3);
    await s.until("relay off", () => d.relay() === false, LOST * 1000 + 3000);
    const after = s.lastRelay(false) - at;
    assert.ok(after >= LOST * 1000 - EARLY_MS, "not before linkLostOffSeconds: " + after + " ms");

    await s.next(m, "status", "online", 15000);
    await s.next(m, "pump", "OFF");
    const a = await s.attrsWhen("link-lost", m, (x) => x.reason === "link-lost");
    assert.equal(a.changes, 2);
    assert.equal(a.left_seconds, 0);
    assert.equal(await s.retained("pump"), "OFF");
    assert.equal(JSON.parse((await s.retained("pump/attributes"))!).reason, "link-lost");
    assert.equal(d.relay(), false);

    m = s.mark();
    await s.switchOn(m, "commands obeyed again once the link is back");
  } finally {
    await s.close();
  }
});

test("link lost (TCP dies silently), linkLostOffSeconds 0: OFF as soon as keepalive declares it dead; consistent on return", { timeout: 40000 }, async () => {
  const s = await Scene.start("lost2", (c) => { c.pump.linkLostOffSeconds = 0; });
  try {
    const d = s.dev;
    let m = s.mark();
    await s.switchOn(m);

    m = s.mark();
    d.cutTcp();
    // Keepalive 5 s: the client gives the link up after 1.5 x 5 s without a byte received.
    await s.until("relay off", () => d.relay() === false, 7500 + 5000);
    assert.ok(await d.waitForConsole(/pump: OFF \(link-lost\)/, 1000));

    await s.next(m, "status", "online", 15000);
    await s.next(m, "pump", "OFF");
    const a = await s.attrsWhen("link-lost", m, (x) => x.reason === "link-lost");
    assert.equal(a.changes, 2);
    assert.equal(await s.retained("pump"), "OFF");
    assert.equal(d.relay(), false);
  } finally {
    await s.close();
  }
});

test("a link silently dead for longer than linkLostOffSeconds stops the pump, even when the reconnect is quick", { timeout: 40000 }, async () => {
  // Issue 6: "Link lost (WiFi or broker) for a configured number of seconds -> OFF". Here the link is dead
  // from the cut on; the node can only tell at the keepalive timeout (7.5 s later), and it then reconnects
  // within about a second, before linkLostOffSeconds (2 s) have passed since that detection.
  const LOST = 2;
  const s = await Scene.start("lost3", (c) => { c.pump.linkLostOffSeconds = LOST; });
  try {
    const d = s.dev;
    let m = s.mark();
    await s.switchOn(m);

    m = s.mark();
    const at = Date.now();
    d.cutTcp();
    await s.next(m, "status", "online", 20000);
    const silent = (s.since(m, "status").find((x) => x.text === "online")!.at - at) / 1000;
    assert.equal(d.relay(), false,
      "the broker could not reach the node for " + silent.toFixed(1) + " s (linkLostOffSeconds " + LOST + ") and the pump kept running: " +
      "the link-lost time counts from the keepalive timeout, not from the last packet received");
    const a = await s.attrsWhen("link-lost", m, (x) => x.reason === "link-lost");
    assert.equal(a.changes, 2);
  } finally {
    await s.close();
  }
});

test("state and counters consistent after a reconnect that left QoS 1 publishes unacknowledged", { timeout: 30000 }, async () => {
  // On reconnect the client resends every unacknowledged QoS 1 publish (up to maxInflight, 8) before the node
  // republishes its state, so the list can be full when the refusal's attributes are published: they are
  // dropped ("in-flight list full" on the console) and the broker keeps refused: 0.
  const s = await Scene.start("inflight");
  try {
    const d = s.dev;
    let m = s.mark();
    await s.send("ON");
    await s.next(m, "pump", "ON");
    // The broker freezes; the interlock stops the pump and the node publishes pump, attributes and the
    // interlock (QoS 1) into a link that never acknowledges them; then the Wifi drops.
    s.broker.pause();
    d.setInterlock("people_present", true);
    await s.until("relay off", () => d.relay() === false, 2000);
    await sleep(300);
    d.wifiDrop(2);
    s.broker.resume();
    m = s.mark();
    await s.send("ON", { retain: true }); // refused at the reconnect: a new refusal to count and publish
    await s.next(m, "status", "online", 15000);
    const e = await s.nextPumpError(m);
    assert.match(e, /retained/);
    await s.until("the refusal in the attributes", () => s.since(m, "pump/attributes").some((x) => JSON.parse(x.text).refused === 1), 5000);
    assert.equal(JSON.parse((await s.retained("pump/attributes"))!).refused, 1);
    assert.equal(await s.retained("interlock/people_present"), "ON");
    assert.equal(await s.retained("pump"), "OFF");
    assert.equal(d.relay(), false);
  } finally {
    await s.close();
  }
});

test("invalid payloads: an error that says what was wrong, state unchanged, each refusal counted", { timeout: 30000 }, async () => {
  const s = await Scene.start("bad");
  const cases: [string, string | Buffer, RegExp][] = [
    ["a word", "MAYBE", /expected ON, OFF or .*got "MAYBE"/],
    ["empty", "", /empty payload/],
    ["binary", Buffer.from([0x4f, 0x4e, 0x00, 0xff]), /binary payload: byte 0x00 at offset 2/],
    ["oversized", "ON" + " ".repeat(298), /payload too long: 300 bytes, at most 128/],
    ["negative seconds", "{\"state\":\"ON\",\"seconds\":-1}", /seconds must be more than 0/],
    ["unknown key", "{\"state\":\"ON\",\"force\":true}", /unknown key "force"/]
  ];
  try {
    const d = s.dev;
    let refused = 0;
    for (const running of [false, true]) {
      if (running) {
        const m = s.mark();
        await s.send("ON");
        await s.next(m, "pump", "ON");
      }
      const changes = running ? 1 : 0;
      for (const [what, payload, re] of cases) {
        const m = s.mark();
        await s.send(payload);
        const e = await s.nextPumpError(m);
        assert.match(e, re, what);
        refused++;
        const a = await s.attrsWhen(what + " counted", m, (x) => x.refused === refused);
        assert.equal(a.last_refused, e);
        assert.equal(a.changes, changes, what + ": no change of the relay");
        assert.equal(d.relay(), running, what + ": relay unchanged");
        assert.equal(s.since(m, "pump").length, 0, what + ": no state published");
      }
    }
    const err = s.since(0, "error")[0];
    assert.equal(err.retain, false, "errors are not retained");
    assert.equal(await s.retained("error", 300), undefined);
  } finally {
    await s.close();
  }
});

test("causes and counters: changes, refusals and the last refusal published after a sequence", { timeout: 30000 }, async () => {
  const s = await Scene.start("count");
  try {
    const d = s.dev;
    const m = s.mark();
    await s.send("ON"); // change 1
    await s.next(m, "pump", "ON");
    await s.send("ON"); // refused 1: already on
    await s.send("MAYBE"); // refused 2: invalid
    await s.send("OFF"); // change 2
    await s.next(m, "pump", "OFF");
    await s.send("OFF"); // OFF while OFF: nothing
    d.setInterlock("people_present", true);
    await s.next(m, "interlock/people_present", "ON");
    await s.send("ON"); // refused 3: interlock
    const a = await s.attrsWhen("3 refusals", m, (x) => x.refused === 3);
    assert.equal(a.changes, 2);
    assert.equal(a.reason, "command");
    assert.match(a.last_refused, /interlock "people_present" is active/);
    const errs = s.pumpErrors(m);
    assert.equal(errs.length, 3, errs.join(" | "));
    assert.match(errs[0], /already ON/);
    assert.match(errs[1], /MAYBE/);
    assert.equal(errs[2], a.last_refused);
    assert.deepEqual(s.since(m, "pump").map((x) => x.text), ["ON", "OFF"]);
    assert.deepEqual(JSON.parse((await s.retained("pump/attributes"))!), a, "the broker holds the final attributes");
    assert.equal(d.relay(), false);
  } finally {
    await s.close();
  }
});

test("power cycle mid-run: boots OFF (reason boot), counters reset, reconnects by itself", { timeout: 30000 }, async () => {
  const s = await Scene.start("pwr");
  try {
    const d = s.dev;
    let m = s.mark();
    await s.switchOn(m);

    m = s.mark();
    await d.powerCycle();
    assert.equal(d.relay(), false, "OFF from the first instant of the new boot");
    await s.next(m, "status", "offline", 15000); // the Will of the dead session
    await s.next(m, "status", "online", 15000);
    await s.next(m, "pump", "OFF");
    const a = await s.attrsWhen("boot", m, (x) => x.reason === "boot");
    assert.equal(a.changes, 0);
    assert.equal(a.refused, 0);
    assert.equal(await s.retained("pump"), "OFF");
    assert.equal(d.relay(), false);

    m = s.mark();
    await s.switchOn(m, "commands obeyed after the reboot");
  } finally {
    await s.close();
  }
});

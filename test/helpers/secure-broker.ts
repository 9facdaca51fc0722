/*
 * Mosquitto started with the documented user setup in deploy/mosquitto/ (mosquitto.conf + pumpnode.acl),
 * its paths pointed at a temp dir and its listener at a free loopback port; users made with
 * mosquitto_passwd. Optionally the TLS listener, with certificates from deploy/mosquitto/make-certs.sh.
 */
import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { resolve, join } from "node:path";
import { Broker, freePort } from "./mosquitto.ts";

const DEPLOY = resolve("deploy/mosquitto");

export function mosquittoPasswdPath(): string {
  for (const p of ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd"]) if (existsSync(p)) return p;
  return "mosquitto_passwd";
}

export interface SecureBroker {
  broker: Broker;
  /** Plain listener port. */
  port: number;
  /** TLS listener port (0 when not asked for). */
  tlsPort: number;
  /** CA certificate (PEM) when TLS is on. */
  ca: string;
}

/** users: username -> password. */
export async function startSecureBroker(users: Record<string, string>, tls = false): Promise<SecureBroker> {
  const tlsPort = tls ? await freePort() : 0;
  let conf = readFileSync(join(DEPLOY, "mosquitto.conf"), "utf8")
    .replace("/etc/mosquitto/pumpnode.passwd", "{DIR}/passwd")
    .replace("/etc/mosquitto/pumpnode.acl", join(DEPLOY, "pumpnode.acl"))
    .replace(/^listener 1883$/m, "listener {PORT} 127.0.0.1");
  if (tls) {
    conf = conf
      .replace(/^#listener 8883$/m, "listener " + tlsPort + " 127.0.0.1")
      .replace(/^#(cafile|certfile|keyfile) \/etc\/mosquitto\/certs\//gm, "$1 {DIR}/certs/");
  }
  const broker = await Broker.start({
    listenerConfig: conf,
    beforeStart(dir: string) {
      const pw = join(dir, "passwd");
      let first = true;
      for (const [u, p] of Object.entries(users)) {
        execFileSync(mosquittoPasswdPath(), first ? ["-b", "-c", pw, u, p] : ["-b", pw, u, p], { stdio: "ignore" });
        first = false;
      }
      if (tls) execFileSync(join(DEPLOY, "make-certs.sh"), [join(dir, "certs"), "localhost", "127.0.0.1"], { stdio: "ignore" });
    }
  });
  return { broker, port: broker.port, tlsPort, ca: tls ? readFileSync(join(broker.dir, "certs", "ca.crt"), "utf8") : "" };
}

/**
 * Certificates for TLS tests, made by the real `openssl` CLI in a temp dir: a private CA, a server
 * certificate for 127.0.0.1 (IP SAN) and a client certificate, both signed by that CA, and a second
 * CA that signed nothing here (for "the wrong CA" cases).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackDir, untrackDir } from "./leftovers.js";

export interface TestPki {
  dir: string;
  caCert: string;
  otherCaCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by the other CA, which the servers do not trust. */
  strangerCert: string;
  strangerKey: string;
  /** The nats-server `tls {}` block; `verify` demands a client certificate, `handshakeFirst` TLS before INFO. */
  serverTlsBlock(opts?: { verify?: boolean; handshakeFirst?: boolean }): string;
  remove(): void;
}

/** Is the openssl CLI installed? Tests that need it skip without it (scripts/setup.sh installs it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "insights-pki-"));
  trackDir(dir);
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ca = (name: string) => {
    ssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      f(`${name}-key.pem`),
      "-out",
      f(`${name}.pem`),
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
    );
  };
  const leaf = (name: string, ext: string, signer = "ca") => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      f(`${name}-key.pem`),
      "-out",
      f(`${name}.csr`),
      "-subj",
      `/CN=${name}`,
    );
    ssl(
      "x509",
      "-req",
      "-in",
      f(`${name}.csr`),
      "-CA",
      f(`${signer}.pem`),
      "-CAkey",
      f(`${signer}-key.pem`),
      "-CAcreateserial",
      "-out",
      f(`${name}.pem`),
      "-days",
      "2",
      "-extfile",
      f(`${name}.ext`),
    );
  };
  ca("ca");
  ca("other-ca");
  leaf("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  leaf("client", "extendedKeyUsage=clientAuth\n");
  leaf("stranger", "extendedKeyUsage=clientAuth\n", "other-ca");
  const q = JSON.stringify;
  return {
    dir,
    caCert: f("ca.pem"),
    otherCaCert: f("other-ca.pem"),
    serverCert: f("server.pem"),
    serverKey: f("server-key.pem"),
    clientCert: f("client.pem"),
    clientKey: f("client-key.pem"),
    strangerCert: f("stranger.pem"),
    strangerKey: f("stranger-key.pem"),
    serverTlsBlock({ verify = false, handshakeFirst = false } = {}) {
      return `tls {\n  cert_file: ${q(f("server.pem"))}\n  key_file: ${q(f("server-key.pem"))}\n  ca_file: ${q(f("ca.pem"))}\n  verify: ${verify}\n  ${handshakeFirst ? "handshake_first: true\n" : ""}  timeout: 2\n}\n`;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    },
  };
}

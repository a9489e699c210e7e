/**
 * A REAL nsc (nats-io/nsc) in a throw-away, fully isolated environment, for integration tests.
 *
 * Isolation: every nsc process gets a clean environment (nothing inherited from the test process)
 * in which HOME, XDG_CONFIG_HOME, XDG_DATA_HOME, NSC_HOME (config: nsc.json) and NKEYS_PATH
 * (keystore) all point into one temp dir. With nsc 2.12 that is what decides every location
 * (`nsc env` shows "Current Store Dir <tmp>/data/nats/nsc/stores"), so commands can be run exactly
 * as a person would type them — without --all-dirs — which is what running the engine's
 * remediation text verbatim needs. NSC_HOME alone is NOT enough: the store would still default to
 * ~/.local/share/nats/nsc/stores.
 *
 * `PATH` starts with `<tmp>/bin`, holding a symlink `nsc` → the real binary, so a command line
 * such as `nsc push --account IMP` resolves to the tool under test.
 *
 * Bridge to the rest of the harness: `testOperator()` / `testAccount()` wrap the nsc-made
 * operator and accounts (JWTs from nsc, identity keys from nsc's keystore) in the TestOperator /
 * TestAccount shapes that `startServer`, `connectAs`, `lookupAccount`, `streamFlows` and
 * `serviceFlows` take. Only the read side is meaningful on those objects: `jwt`, `id`, `key`,
 * `system` and `userCreds()` (users signed by the account's identity key). Never `reissue()` them —
 * nsc owns these accounts.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fromSeed, type KeyPair } from "@nats-io/jwt";
import { nuid, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { decodeUnverified, TestAccount, TestOperator } from "./deployment.js";
import { connectAs, type RunningServer } from "./nats-server.js";
import { toolPath } from "./tools.js";

const execFileP = promisify(execFile);

/** A command that exited non-zero, with everything nsc said. */
export class NscCommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(
      `command failed (exit ${String(code)}): ${command}\n${stderr.trim()}${stdout.trim() ? `\n${stdout.trim()}` : ""}`,
    );
    this.name = "NscCommandError";
  }
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
  /** Wall time of the command in ms. */
  ms: number;
}

interface AccountClaimsView {
  sub: string;
  name: string;
  iss: string;
  nats: { signing_keys?: (string | { key: string })[]; system_account?: string };
}

export class Nsc {
  /** Temp root: bin/, home/, cfg/, data/, keys/, work/. */
  readonly root: string;
  /** The working directory of every command (token files land here). */
  readonly workDir: string;
  readonly env: Record<string, string>;
  readonly bin: string;
  /** Every command run, in order, for diagnostics. */
  readonly history: string[] = [];

  private constructor(bin: string) {
    this.bin = bin;
    this.root = mkdtempSync(join(tmpdir(), "nats-insights-nsc-"));
    for (const d of ["bin", "home", "cfg", "data", "keys", "work", "h"]) mkdirSync(join(this.root, d));
    symlinkSync(bin, join(this.root, "bin", "nsc"));
    this.workDir = join(this.root, "work");
    this.env = {
      PATH: `${join(this.root, "bin")}:/usr/local/bin:/usr/bin:/bin`,
      HOME: join(this.root, "h"),
      XDG_CONFIG_HOME: join(this.root, "cfg"),
      XDG_DATA_HOME: join(this.root, "data"),
      NSC_HOME: join(this.root, "home"),
      NKEYS_PATH: join(this.root, "keys"),
      TMPDIR: tmpdir(),
    };
  }

  /** A fresh isolated nsc environment (the pinned nsc, or `bin`). Throws if the nsc binary is not available. */
  static create(bin: string | null = toolPath("nsc")): Nsc {
    if (!bin) throw new Error("nsc binary not found (set NSC_BIN or run scripts/setup.sh)");
    return new Nsc(bin);
  }

  /** Runs `nsc <args...>` (no shell). Throws NscCommandError on a non-zero exit. */
  async run(...args: string[]): Promise<CommandOutput> {
    const shown = `nsc ${args.map((a) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}`;
    return this.exec(shown, this.bin, args);
  }

  /** Runs one command line through /bin/sh, exactly as written (e.g. a remediation step). */
  async sh(commandLine: string): Promise<CommandOutput> {
    return this.exec(commandLine, "/bin/sh", ["-c", commandLine]);
  }

  private async exec(shown: string, file: string, args: string[]): Promise<CommandOutput> {
    this.history.push(shown);
    const t0 = Date.now();
    try {
      const { stdout, stderr } = await execFileP(file, args, { cwd: this.workDir, env: this.env, timeout: 30_000 });
      return { stdout, stderr, ms: Date.now() - t0 };
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string; message?: string };
      throw new NscCommandError(shown, e.code ?? null, e.stdout ?? "", e.stderr ?? e.message ?? "");
    }
  }

  /** The account's JWT as nsc holds it locally. `account` is a name or public key. */
  async accountJwt(account: string): Promise<string> {
    return (await this.run("describe", "account", "--name", account, "--raw")).stdout.trim();
  }

  async operatorJwt(): Promise<string> {
    return (await this.run("describe", "operator", "--raw")).stdout.trim();
  }

  async accountClaims(account: string): Promise<AccountClaimsView> {
    return decodeUnverified<AccountClaimsView>(await this.accountJwt(account)).claims;
  }

  async accountId(account: string): Promise<string> {
    return (await this.accountClaims(account)).sub;
  }

  /** Public keys of the account's current signing keys (plain or scoped). */
  async signingKeys(account: string): Promise<string[]> {
    return ((await this.accountClaims(account)).nats.signing_keys ?? []).map((k) =>
      typeof k === "string" ? k : k.key,
    );
  }

  /** The key pair nsc stored for `publicKey` (`<NKEYS_PATH>/keys/<P>/<XY>/<key>.nk`). */
  keyPair(publicKey: string): KeyPair {
    const path = join(this.env["NKEYS_PATH"]!, "keys", publicKey.slice(0, 1), publicKey.slice(1, 3), `${publicKey}.nk`);
    return fromSeed(new TextEncoder().encode(readFileSync(path, "utf8").trim()));
  }

  /**
   * The current nsc operator (and its system account) as a TestOperator for `startServer` and
   * the system-account helpers. A snapshot: later `nsc edit operator` does not change it, which is
   * fine for a server that only needs the operator's identity key.
   */
  async testOperator(): Promise<TestOperator> {
    const jwt = await this.operatorJwt();
    const { claims } = decodeUnverified<AccountClaimsView>(jwt);
    const sysId = claims.nats.system_account;
    if (!sysId) throw new Error("the nsc operator has no system account (use `nsc add operator --sys`)");
    const firstSk = (claims.nats.signing_keys ?? [])[0];
    const sk = firstSk === undefined ? null : this.keyPair(typeof firstSk === "string" ? firstSk : firstSk.key);
    // TestOperator's constructor is private (it always generates keys); build one around nsc's keys.
    const op = Object.create(TestOperator.prototype) as TestOperator;
    Object.assign(op, { name: claims.name, key: this.keyPair(claims.sub), id: claims.sub, signingKey: sk, jwt });
    op.system = await this.testAccount(op, sysId);
    return op;
  }

  /** An nsc account (name or public key) as a TestAccount whose `userCreds()` makes real users. */
  async testAccount(op: TestOperator, account: string): Promise<TestAccount> {
    const jwt = await this.accountJwt(account);
    const { claims } = decodeUnverified<AccountClaimsView>(jwt);
    const acc = new TestAccount(op, claims.name, this.keyPair(claims.sub));
    acc.jwt = jwt;
    return acc;
  }

  /** Removes the whole temp environment. */
  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * A stream-import probe that stays connected: an importer-side subscriber and an exporter-side
 * publisher opened once, so a test can ask "does it flow NOW?" before and after a change and see
 * what happens to a subscription that existed before the change (not only to fresh connections).
 */
export interface StreamProbe {
  /** Publishes a fresh marker every ~50 ms until it arrives or `timeoutMs` passes. */
  flows(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function openStreamProbe(
  server: RunningServer,
  exporter: TestAccount,
  importer: TestAccount,
  publishSubject: string,
  subscribeSubject: string,
): Promise<StreamProbe> {
  const ncImp: NatsConnection = await connectAs(server, importer);
  let ncExp: NatsConnection;
  try {
    ncExp = await connectAs(server, exporter);
  } catch (err) {
    await ncImp.close();
    throw err;
  }
  const seen = new Set<string>();
  const sub: Subscription = ncImp.subscribe(subscribeSubject, {
    callback: (err, msg) => {
      if (!err) seen.add(msg.string());
    },
  });
  await ncImp.flush();
  return {
    async flows(timeoutMs = 700): Promise<boolean> {
      const marker = `probe-${nuid.next()}`;
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        ncExp.publish(publishSubject, marker);
        await ncExp.flush();
        await ncImp.flush();
        if (seen.has(marker)) return true;
        await new Promise((r) => setTimeout(r, Math.min(50, Math.max(0, deadline - Date.now()))));
      }
      await ncImp.flush();
      return seen.has(marker);
    },
    async close(): Promise<void> {
      sub.unsubscribe();
      await Promise.allSettled([ncImp.close(), ncExp.close()]);
    },
  };
}

/**
 * N real nats-server processes (1 or 3, any N works) in operator mode, each with its own FULL
 * resolver, on 127.0.0.1 with FIXED ports chosen up front, so that a node can be stopped, killed
 * (SIGKILL), paused (SIGSTOP) and started again on the same ports with its data kept.
 *
 *  - Ports: client, cluster and monitoring (http) port of every node are picked before anything
 *    starts, by binding port 0 and closing. Someone may grab one in between: a start that fails with
 *    "address already in use" picks new ports for the whole cluster and tries again (up to 3 times);
 *    a later `start(i)` keeps its ports and retries for a few seconds.
 *  - Layout of node i's temp dir (`node.dir`, kept across stop/start, removed by `stopAll()`):
 *    `nats-server.conf`, `nats-server.log` (appended across restarts), `nats-server_<pid>.ports`,
 *    `jwt/<account public key>.jwt` (the full resolver's store: one file per account, not sharded;
 *    write a file there while the node is stopped and the node serves it after `start(i)`),
 *    `js/` (JetStream store, with `jetstream: true`).
 *  - N > 1: `cluster { name, listen, routes }` with routes to every other node. `startCluster`
 *    returns once every running node answers a `$SYS.REQ.SERVER.PING` with all running nodes
 *    (`waitForCluster()` does that again after a restart).
 *  - Supercluster (`clusters: [2, 1]`, say): that many clusters of those sizes (nodes numbered in
 *    order: 0-1 in the first, 2 in the second), each node with a `gateway { name, listen, gateways }`
 *    naming every cluster's gateway URLs; a cluster of one node has no `cluster {}` block. Formed
 *    means every node sees every node through the gateways too.
 *  - JetStream (`jetstream: true`): `jetstream { store_dir: <dir>/js }`. An account can use it only
 *    if its JWT grants JetStream limits, e.g. with test/support/deployment.ts:
 *      `op.account("APP", { limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } })`
 *    (those keys are merged over `defaultAccountLimits()`).
 *  - A push (`$SYS.REQ.CLAIMS.UPDATE`) reaches every running node's resolver (each subscribes to it
 *    and stores it); a node that was down when a push was made gets it only through the resolvers'
 *    periodic sync (`resolverInterval`, default "2m") or a later push.
 *  - Like test/support/nats-server.ts, an exit hook SIGKILLs every server and removes every temp
 *    dir when the test process ends, so no server outlives it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core";
import type { TestAccount, TestOperator } from "./deployment.js";
import { connectAs, pushWith, tcpProbe, type PushResult } from "./nats-server.js";
import { trackDir, untrackDir } from "./leftovers.js";
import { harnessKind, launchServer, type ServerProcess } from "./server-process.js";
import { toolPath } from "./tools.js";

export interface ClusterOptions {
  /** How many servers (default 1). More than one are clustered with routes to each other. */
  nodes?: number;
  /** Sizes of clusters joined by gateways into a supercluster (overrides `nodes`), e.g. [2, 1]. */
  clusters?: number[];
  /** Enable JetStream (store in `<dir>/js`). */
  jetstream?: boolean;
  /** The JetStream domain of every node (with `jetstream`). */
  jetstreamDomain?: string;
  /** Account JWTs put into `resolver_preload` of every node, besides the system account. */
  preload?: readonly Pick<TestAccount, "id" | "jwt">[];
  /**
   * "full" (default): each node's own directory store, answering `$SYS.REQ.CLAIMS.*`. "memory":
   * `resolver: MEMORY`, the preload is all a node has (`reload(i, preload)` changes it); the
   * store-related members (`storedJwt`, `writeJwt`, `push`) then say nothing about a resolver.
   */
  resolver?: "full" | "memory";
  /** Debug logging (default true; the log is in `<dir>/nats-server.log`). */
  debug?: boolean;
  /** Full resolver `interval` (periodic sync between nodes), default "2m". */
  resolverInterval?: string;
  /** Full resolver `timeout` (fetch of an unknown account from the other nodes), default "1.9s". */
  resolverTimeout?: string;
  /** The full resolver's `allow_delete` (default false): whether `$SYS.REQ.CLAIMS.DELETE` removes accounts. */
  allowDelete?: boolean;
  /** Appended verbatim to every node's config. */
  extraConfig?: string;
  /** How long to wait for one node to listen, and for the cluster to form (default 15 s). */
  readyTimeoutMs?: number;
  /** The nats-server binary of node i (a cluster of several lines, as in a rolling upgrade); default the newest. */
  binOf?: (index: number) => string | undefined;
}

export interface ClusterNode {
  readonly index: number;
  /** `server_name`, stable across restarts. */
  readonly name: string;
  /** The name of the cluster the node belongs to (one of several in a supercluster). */
  readonly cluster: string;
  readonly port: number;
  readonly clusterPort: number;
  /** The gateway port (used only in a supercluster). */
  readonly gatewayPort: number;
  readonly httpPort: number;
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  /** http://127.0.0.1:<httpPort> (varz, routez, ...) */
  readonly monitorUrl: string;
  readonly dir: string;
  /** The full resolver's store: `<jwtDir>/<account id>.jwt`. */
  readonly jwtDir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Pid of the running process, or null when stopped. */
  readonly pid: number | null;
  readonly running: boolean;
  readonly paused: boolean;
}

export interface Cluster {
  readonly operator: TestOperator;
  /** The cluster name (also used for server names). */
  readonly name: string;
  readonly servers: readonly ClusterNode[];
  /** Every node's client URL, running or not (what a client's server list would hold). */
  readonly urls: string[];
  url(i: number): string;
  /** Index of the node a client is connected to, from `nc.getServer()` ("127.0.0.1:4222" or a URL); -1 if none. */
  indexOf(server: string): number;
  /** Start node i again (same ports, same data). Waits until it listens, not for its routes. */
  start(i: number): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s); waits for the exit. Keeps the data. */
  stop(i: number): Promise<void>;
  /** SIGKILL; waits for the exit. Keeps the data. */
  kill(i: number): Promise<void>;
  /** SIGSTOP / SIGCONT: the process keeps its sockets but does nothing. */
  pause(i: number): void;
  resume(i: number): void;
  /** Every running node sees every running node (PING replies), or throws after the timeout. */
  waitForCluster(timeoutMs?: number): Promise<void>;
  /** Kill every node and remove every temp dir. Idempotent; never throws. */
  stopAll(): Promise<void>;
  /**
   * A connection to node i only, as a fresh user of `account` (default: the system account).
   * Reconnect is off unless `opts` says otherwise. The caller closes it.
   */
  connect(i: number, account?: TestAccount, opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** Push a JWT to node i over a fresh system connection (see pushWith in nats-server.ts). */
  push(i: number, jwt: string, timeoutMs?: number): Promise<PushResult>;
  /** Push accounts in order to node i; throws on the first rejection. */
  pushAll(i: number, accounts: TestAccount[]): Promise<void>;
  /**
   * The JWT node i's resolver stores for `id` (read from its store; null: none). A LOOKUP request
   * cannot tell: every node answers it, and the first answer wins.
   */
  storedJwt(i: number, id: string): string | null;
  /** Path of account `id`'s JWT file in node i's resolver store. */
  jwtPath(i: number, id: string): string;
  /** Write account `id`'s JWT straight into node i's resolver store; node i must be stopped. */
  writeJwt(i: number, id: string, jwt: string): void;
  /** Node i's log file plus what it wrote on stdout/stderr. */
  logs(i: number): string;
  /**
   * Rewrite every node's config with this preload (besides the system account) and send node i
   * SIGHUP; resolves once node i logs the reload done, throws if it logs a failure.
   */
  reload(i: number, preload: readonly Pick<TestAccount, "id" | "jwt">[]): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Safety net: no server outlives the test process.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------

const q = (s: string): string => JSON.stringify(s);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A port free right now (bind 0, read it, close). Someone may take it before we use it. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", resolve);
  });
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

class AddressInUse extends Error {}

interface Ports {
  port: number;
  clusterPort: number;
  gatewayPort: number;
  httpPort: number;
}

class Node implements ClusterNode {
  child: ServerProcess | null = null;
  exited: Promise<void> = Promise.resolve();
  /** What the node's earlier runs wrote to stdout/stderr. */
  output = "";
  paused = false;
  ports: Ports = { port: 0, clusterPort: 0, gatewayPort: 0, httpPort: 0 };
  readonly jwtDir: string;
  readonly configPath: string;
  readonly logPath: string;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly dir: string,
    readonly cluster: string,
  ) {
    this.jwtDir = join(dir, "jwt");
    this.configPath = join(dir, "nats-server.conf");
    this.logPath = join(dir, "nats-server.log");
    mkdirSync(this.jwtDir);
  }
  get port() {
    return this.ports.port;
  }
  get clusterPort() {
    return this.ports.clusterPort;
  }
  get gatewayPort() {
    return this.ports.gatewayPort;
  }
  get httpPort() {
    return this.ports.httpPort;
  }
  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }
  get monitorUrl() {
    return `http://127.0.0.1:${this.httpPort}`;
  }
  get running() {
    return this.child !== null;
  }
  get pid() {
    return this.child?.pid ?? null;
  }
  /** What every run of the node wrote to stdout/stderr, the current one's so far included. */
  allOutput(): string {
    return this.output + (this.child?.output() ?? "");
  }
}

function buildConfig(op: TestOperator, node: Node, all: Node[], opts: ClusterOptions): string {
  const preload = [op.system, ...(opts.preload ?? [])].map((a) => `    ${a.id}: ${q(a.jwt)}`).join("\n");
  const peers = all.filter((n) => n.cluster === node.cluster);
  const routes = peers.filter((n) => n !== node).map((n) => `    ${q(`nats-route://127.0.0.1:${n.clusterPort}`)}`);
  const clusterNames = [...new Set(all.map((n) => n.cluster))];
  const gateways = clusterNames.map((c) => {
    const urls = all.filter((n) => n.cluster === c).map((n) => q(`nats://127.0.0.1:${n.gatewayPort}`));
    return `        { name: ${q(c)}, urls: [${urls.join(", ")}] }`;
  });
  return `# generated by test/support/cluster.ts
server_name: ${q(node.name)}
listen: "127.0.0.1:${node.port}"
http: "127.0.0.1:${node.httpPort}"
ports_file_dir: ${q(node.dir)}
log_file: ${q(node.logPath)}
logtime: true
debug: ${opts.debug ?? true}

operator: ${q(op.jwt)}
system_account: ${op.system.id}

${
  opts.resolver === "memory"
    ? "resolver: MEMORY"
    : `resolver: {
    type: full
    dir: ${q(node.jwtDir)}
    allow_delete: ${opts.allowDelete ?? false}
    interval: ${q(opts.resolverInterval ?? "2m")}
    timeout: ${q(opts.resolverTimeout ?? "1.9s")}
}`
}

resolver_preload: {
${preload}
}
${
  peers.length > 1
    ? `
cluster: {
    name: ${q(node.cluster)}
    listen: "127.0.0.1:${node.clusterPort}"
    routes: [
${routes.join("\n")}
    ]
}
`
    : ""
}${
    clusterNames.length > 1
      ? `
gateway: {
    name: ${q(node.cluster)}
    listen: "127.0.0.1:${node.gatewayPort}"
    gateways: [
${gateways.join("\n")}
    ]
}
`
      : ""
  }${opts.jetstream ? `\njetstream: {\n    store_dir: ${q(join(node.dir, "js"))}\n    max_mem: 64MB\n    max_file: 256MB\n${opts.jetstreamDomain ? `    domain: ${q(opts.jetstreamDomain)}\n` : ""}}\n` : ""}
${opts.extraConfig ?? ""}
`;
}

export async function startCluster(op: TestOperator, opts: ClusterOptions = {}): Promise<Cluster> {
  const bin = toolPath("nats-server");
  if (!bin) throw new Error("nats-server binary not found (set NATS_SERVER_BIN or run scripts/setup.sh)");
  const sizes = opts.clusters ?? [opts.nodes ?? 1];
  const readyMs = opts.readyTimeoutMs ?? 15_000;
  const clusterName = `c${process.pid}-${Date.now().toString(36)}`;
  const nodes: Node[] = [];
  sizes.forEach((size, g) => {
    const cluster = sizes.length > 1 ? `${clusterName}-g${g}` : clusterName;
    for (let k = 0; k < size; k++) {
      const i = nodes.length;
      const dir = mkdtempSync(join(tmpdir(), "nats-insights-cluster-"));
      trackDir(dir);
      nodes.push(new Node(i, `${clusterName}-n${i}`, dir, cluster));
    }
  });
  const node = (i: number): Node => {
    const n = nodes[i];
    if (!n) throw new Error(`no node ${i} (cluster of ${nodes.length})`);
    return n;
  };

  const writeConfigs = () => {
    for (const n of nodes) writeFileSync(n.configPath, buildConfig(op, n, nodes, opts));
  };

  /** Start node i and wait until its ports file (this run's) exists and its client port accepts. */
  const spawnNode = async (n: Node): Promise<void> => {
    if (n.child) throw new Error(`node ${n.index} is already running`);
    // In a container the server is always pid 1: a file left by a killed run must not count.
    if (harnessKind === "containers") rmSync(join(n.dir, "nats-server_1.ports"), { force: true });
    const outputBefore = n.output;
    const child = await launchServer(opts.binOf?.(n.index) ?? bin, n.configPath, n.dir);
    n.child = child;
    n.paused = false;
    const output = () => child.output();
    n.exited = child.exited.then(() => {
      n.output = outputBefore + child.output();
      if (n.child === child) {
        n.child = null;
        n.paused = false;
      }
    });
    const portsFile = join(n.dir, `nats-server_${child.innerPid}.ports`);
    const deadline = Date.now() + readyMs;
    for (;;) {
      if (child.hasExited) {
        await n.exited;
        const log = tail(n);
        if (/address already in use/i.test(output() + log))
          throw new AddressInUse(`node ${n.index}: address already in use`);
        throw new Error(`node ${n.index} exited during start-up (${child.exitInfo})${configLine(n, output())}\n${log}`);
      }
      if (Date.now() > deadline) {
        await killNode(n);
        throw new Error(`node ${n.index} did not become ready in time\n${tail(n)}`);
      }
      if (existsSync(portsFile) && (await tcpProbe("127.0.0.1", n.port))) return;
      await sleep(20);
    }
  };

  const killNode = async (n: Node, signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    const child = n.child;
    if (!child) return;
    if (n.paused && signal !== "SIGKILL") child.signal("SIGCONT");
    child.signal(signal);
    if (signal === "SIGKILL") return n.exited;
    const done = await Promise.race([n.exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!done) child.signal("SIGKILL");
    return n.exited;
  };

  const tail = (n: Node): string => {
    let file = "";
    try {
      file = readFileSync(n.logPath, "utf8");
    } catch {
      /* not written yet */
    }
    return `${file.split("\n").slice(-40).join("\n")}\n--- stdout/stderr ---\n${n.allOutput()}`;
  };

  const connectTo = (n: Node, account: TestAccount, opts: Partial<ConnectionOptions> = {}) =>
    connectAccount(n.url, account, opts);

  /**
   * Is the JetStream meta group whole: every running node names the same leader, and that leader sees
   * every other running node as a current, online peer? A leader alone is not enough: an R3 stream
   * placed before its peers catch up is refused ("no suitable peers for placement"). The replicas
   * must be read from the leader's own JSZ: on 2.15 a follower lists them too, with every other
   * follower as not current (it is not in contact with them), so the first reply to arrive says
   * nothing about the group. Returns what it saw, for the error message of a cluster that never forms.
   */
  const metaGroup = async (nc: NatsConnection, size: number): Promise<{ whole: boolean; seen: string }> => {
    type Replica = { name?: string; current?: boolean; offline?: boolean };
    type Jsz = { server?: { name?: string }; data?: { meta_cluster?: { leader?: string; replicas?: Replica[] } } };
    const answers: Jsz[] = [];
    try {
      const replies = await nc.requestMany("$SYS.REQ.SERVER.PING.JSZ", "", {
        strategy: "count",
        maxMessages: size,
        maxWait: 2000,
      });
      for await (const reply of replies) answers.push(reply.json<Jsz>());
    } catch {
      /* no responders yet */
    }
    const leaders = new Set(answers.map((a) => a.data?.meta_cluster?.leader ?? ""));
    const leader = answers.find((a) => a.server?.name && a.server.name === a.data?.meta_cluster?.leader);
    const replicas = leader?.data?.meta_cluster?.replicas ?? [];
    const whole =
      answers.length >= size &&
      leaders.size === 1 &&
      leader !== undefined &&
      replicas.length >= size - 1 &&
      replicas.every((r) => r.current === true && r.offline !== true);
    const seen = `${answers.length} of ${size} JSZ replies, leaders named: [${[...leaders].join(", ")}], the leader's replicas: ${JSON.stringify(replicas.map((r) => [r.name, r.current ? "current" : "behind", r.offline ? "offline" : "online"]))}`;
    return { whole, seen };
  };

  const waitForCluster = async (timeoutMs = readyMs): Promise<void> => {
    const running = nodes.filter((n) => n.running && !n.paused);
    const deadline = Date.now() + timeoutMs;
    for (const n of running) {
      const nc = await connectTo(n, op.system);
      try {
        for (;;) {
          const seen = await pingCount(nc, running.length);
          // With JetStream, formed means a whole meta group too: before it, JetStream requests time out or are refused.
          const meta =
            !opts.jetstream || running.length < 2 ? { whole: true, seen: "" } : await metaGroup(nc, running.length);
          if (seen >= running.length && meta.whole) break;
          const last = `node ${n.index} sees ${seen} of ${running.length} servers${meta.whole ? "" : `, JetStream meta group not whole yet (${meta.seen})`}`;
          if (Date.now() > deadline) throw new Error(`cluster did not form: ${last}`);
          await sleep(100);
        }
      } finally {
        await nc.close().catch(() => {});
      }
    }
  };

  // Set by stopAll(), which a failed start calls too (before the cluster object exists).
  let stopped: Promise<void> | null = null;
  // Initial start: on a port collision, new ports for everyone and try again.
  for (let attempt = 1; ; attempt++) {
    for (const n of nodes)
      n.ports = {
        port: await freePort(),
        clusterPort: await freePort(),
        gatewayPort: await freePort(),
        httpPort: await freePort(),
      };
    writeConfigs();
    try {
      await Promise.all(nodes.map((n) => spawnNode(n)));
      break;
    } catch (e) {
      await Promise.all(nodes.map((n) => killNode(n)));
      if (!(e instanceof AddressInUse) || attempt >= 3) {
        await stopAll();
        throw e;
      }
    }
  }

  async function stopAll(): Promise<void> {
    stopped ??= (async () => {
      await Promise.all(nodes.map((n) => killNode(n).catch(() => {})));
      for (const n of nodes) {
        await rm(n.dir, { recursive: true, force: true }).catch(() => {});
        untrackDir(n.dir);
      }
    })();
    return stopped;
  }

  try {
    await waitForCluster();
  } catch (e) {
    await stopAll();
    throw e;
  }

  const cluster: Cluster = {
    operator: op,
    name: clusterName,
    servers: nodes,
    get urls() {
      return nodes.map((n) => n.url);
    },
    url: (i) => node(i).url,
    indexOf: (server) => {
      const m = /(\d+)\/?$/.exec(server.trim());
      return m ? nodes.findIndex((n) => n.port === Number(m[1])) : -1;
    },
    start: async (i) => {
      const n = node(i);
      const deadline = Date.now() + readyMs;
      for (;;) {
        try {
          return await spawnNode(n);
        } catch (e) {
          // The old process's sockets, or someone who took the port meanwhile: try again briefly.
          if (!(e instanceof AddressInUse) || Date.now() > deadline) throw e;
          await sleep(200);
        }
      }
    },
    stop: (i) => killNode(node(i), "SIGTERM"),
    kill: (i) => killNode(node(i), "SIGKILL"),
    pause: (i) => {
      const n = node(i);
      if (!n.child) throw new Error(`node ${i} is not running`);
      n.child.signal("SIGSTOP");
      n.paused = true;
    },
    resume: (i) => {
      const n = node(i);
      if (!n.child) throw new Error(`node ${i} is not running`);
      n.child.signal("SIGCONT");
      n.paused = false;
    },
    waitForCluster,
    stopAll,
    connect: (i, account = op.system, opts = {}) => connectTo(node(i), account, opts),
    push: async (i, jwt, timeoutMs = 10_000) => {
      const nc = await connectTo(node(i), op.system);
      try {
        return await pushWith(nc, jwt, timeoutMs);
      } finally {
        await nc.close().catch(() => {});
      }
    },
    pushAll: async (i, accounts) => {
      const nc = await connectTo(node(i), op.system);
      try {
        for (const a of accounts) {
          const r = await pushWith(nc, a.jwt);
          if (!r.ok) throw new Error(`push of ${a.name} (${a.id}) to node ${i} rejected: ${r.message}`);
        }
      } finally {
        await nc.close().catch(() => {});
      }
    },
    storedJwt: (i, id) => {
      const path = join(node(i).jwtDir, `${id}.jwt`);
      return existsSync(path) ? readFileSync(path, "utf8").trim() || null : null;
    },
    jwtPath: (i, id) => join(node(i).jwtDir, `${id}.jwt`),
    writeJwt: (i, id, jwt) => {
      const n = node(i);
      if (n.running) throw new Error(`node ${i} is running: stop it before writing into its resolver store`);
      writeFileSync(join(n.jwtDir, `${id}.jwt`), jwt);
    },
    reload: async (i, preload) => {
      const n = node(i);
      if (!n.child) throw new Error(`node ${i} is not running`);
      const reloads = () => {
        const text = cluster.logs(i);
        return {
          done: text.split("Reloaded server configuration").length - 1,
          failed: text.match(/Failed to reload server configuration.*|config reload failed.*/gi) ?? [],
        };
      };
      const before = reloads();
      opts = { ...opts, preload };
      writeConfigs();
      n.child.signal("SIGHUP");
      const deadline = Date.now() + readyMs;
      for (;;) {
        const now = reloads();
        if (now.failed.length > before.failed.length) throw new Error(`node ${i}: reload failed: ${now.failed.at(-1)}`);
        if (now.done > before.done) return;
        if (!n.child || Date.now() > deadline) throw new Error(`node ${i}: no reload logged\n${tail(n)}`);
        await sleep(20);
      }
    },
    logs: (i) => {
      const n = node(i);
      let file = "";
      try {
        file = readFileSync(n.logPath, "utf8");
      } catch {
        /* none yet */
      }
      return n.allOutput() ? `${file}\n--- stdout/stderr ---\n${n.allOutput()}` : file;
    },
  };
  return cluster;
}

/**
 * A config error names its place ("<config>:LINE:COL: ..."): the line itself, quoted for the caller
 * (a preload entry is "<account id>: <JWT>"), or "" when there is none.
 */
function configLine(n: Node, output: string): string {
  const m = /nats-server\.conf:(\d+):\d+/.exec(output);
  if (!m) return "";
  const text = readFileSync(n.configPath, "utf8").split("\n")[Number(m[1]) - 1] ?? "";
  return `; config line ${m[1]}: ${text.trim()}`;
}

/** A connection to one URL as a fresh unrestricted user of `account`; no reconnect unless asked. */
export async function connectAccount(
  url: string,
  account: TestAccount,
  opts: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  return connectAs({ url }, account, opts);
}

/** How many servers answer `$SYS.REQ.SERVER.PING` (stops early once `expected` have). */
async function pingCount(nc: NatsConnection, expected: number): Promise<number> {
  let n = 0;
  try {
    const replies = await nc.requestMany("$SYS.REQ.SERVER.PING", "", {
      strategy: "count",
      maxMessages: expected,
      maxWait: 1_000,
    });
    for await (const _ of replies) n++;
  } catch {
    /* no responders yet */
  }
  return n;
}

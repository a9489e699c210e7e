/**
 * A TCP proxy between NATS clients and one nats-server that can make messages get lost while the
 * connection stays up (PING/PONG and INFO always go through):
 *  - `drop = "replies"`: every MSG/HMSG the server sends on a subject starting with `_INBOX.` (the
 *    replies to the client's requests, nats.js's default inbox prefix) is dropped; messages on the
 *    client's own subscriptions (e.g. pushes on `$SYS.REQ.CLAIMS.UPDATE`) go through. To the client
 *    that is a resolver (and any other $SYS responder) that does not answer in time.
 *  - `drop = "all"`: every MSG/HMSG is dropped: the client hears nothing and does not know it.
 *  - `disconnect()` cuts every connection (the client sees a disconnect and reconnects).
 *  - `refuse = true`: every new connection is closed at once, so a client stays disconnected.
 *  - `published` lists the subjects the clients published to (PUB/HPUB), with times, so a test can
 *    wait for a request to have been sent; `droppedMessages` the subjects of the messages dropped,
 *    so a test can wait for the client to have missed a given one.
 *
 * Client → server bytes are forwarded untouched. The client may learn other servers' URLs from
 * INFO `connect_urls` (a cluster) and reach them directly after a reconnect; use it against one
 * node, or without reconnects.
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from "node:net";

export interface FaultProxy {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** What to drop of what the server sends: nothing, the replies (`_INBOX.…`), or every message. */
  drop: "none" | "replies" | "all";
  /** Subjects the clients published to, in order (the last 1000). */
  readonly published: { subject: string; at: number }[];
  /** Close every new connection at once (the server looks down) while true. */
  refuse: boolean;
  /** Cut every current connection. */
  disconnect(): void;
  /** How many messages were dropped so far. */
  readonly dropped: number;
  /** Subjects of the messages dropped, in order (the last 1000). */
  readonly droppedMessages: { subject: string; at: number }[];
  close(): Promise<void>;
}

const CRLF = Buffer.from("\r\n");

export async function startFaultProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let dropped = 0;
  const state: { drop: FaultProxy["drop"]; refuse: boolean } = { drop: "none", refuse: false };
  const published: { subject: string; at: number }[] = [];
  const droppedMessages: { subject: string; at: number }[] = [];

  const server = createServer((client) => {
    if (state.refuse) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect({ host: targetHost, port: targetPort });
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", closeBoth).on("close", closeBoth);
    upstream.on("error", closeBoth).on("close", closeBoth);
    client.pipe(upstream);
    // Client → server: note what it publishes to (a PUB line is short; keep a little carry-over).
    let carry = "";
    client.on("data", (chunk: Buffer) => {
      const text = carry + chunk.toString("latin1");
      for (const m of text.matchAll(/(?:^|\r\n)H?PUB (\S+) [^\r\n]*\r\n/g))
        published.push({ subject: m[1]!, at: Date.now() });
      if (published.length > 1000) published.splice(0, published.length - 1000);
      const lastEol = text.lastIndexOf("\r\n");
      carry = text.slice(lastEol >= 0 ? lastEol : Math.max(0, text.length - 256)).slice(-256);
    });

    // Server → client: cut the stream into protocol operations; drop replies while asked to.
    let buf: Buffer = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const out: Buffer[] = [];
      for (;;) {
        const eol = buf.indexOf(CRLF);
        if (eol < 0) break;
        const line = buf.subarray(0, eol).toString("latin1");
        let end = eol + 2;
        const op = /^(H?MSG)\s/i.exec(line);
        if (op) {
          const parts = line.trim().split(/\s+/);
          const size = Number(parts[parts.length - 1]);
          end = eol + 2 + size + 2;
          if (buf.length < end) break;
          if (state.drop === "all" || (state.drop === "replies" && parts[1]!.startsWith("_INBOX."))) {
            dropped++;
            droppedMessages.push({ subject: parts[1]!, at: Date.now() });
            if (droppedMessages.length > 1000) droppedMessages.splice(0, droppedMessages.length - 1000);
            buf = buf.subarray(end);
            continue;
          }
        }
        out.push(buf.subarray(0, end));
        buf = buf.subarray(end);
      }
      if (out.length) client.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get drop() {
      return state.drop;
    },
    set drop(mode: FaultProxy["drop"]) {
      state.drop = mode;
    },
    get refuse() {
      return state.refuse;
    },
    set refuse(on: boolean) {
      state.refuse = on;
    },
    published,
    droppedMessages,
    disconnect: () => {
      for (const s of sockets) s.destroy();
    },
    get dropped() {
      return dropped;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * The live connection once it is up (shell/connection.ts connects): whether it is connected now,
 * a hook for each reconnect, and a close that never hangs on a server that is gone.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../shell/log.js";
import { sleep } from "./clock.js";

export class ConnectionWatch {
  /** False from a disconnect until the reconnect. */
  private up = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.up && !this.nc.isClosed();
  }

  /** Follow the connection's status until it closes; `onReconnect` runs after each reconnect. */
  watch(onReconnect: () => void): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") {
          this.up = false;
          this.log.warn({ server: s.server }, "disconnected from NATS; reconnecting");
        }
        if (s.type === "reconnect") {
          this.up = true;
          this.log.info({ server: s.server }, "reconnected; resyncing");
          onReconnect();
        }
      }
    })();
  }
}

/** Drain, but never wait on a connection that cannot drain (reconnecting to a server that is gone). */
export async function drainOrClose(nc: NatsConnection, limitMs = 3000): Promise<void> {
  if (nc.isClosed()) return;
  await Promise.race([nc.drain().catch(() => {}), sleep(limitMs)]);
  if (!nc.isClosed()) await nc.close().catch(() => {});
}

/**
 * Where the live service is in its life. Every part reads it; only the app moves it on: started
 * once the first load is done and the endpoints answer, stopping from stop() on (a start that
 * fails stops without having started).
 */
import type { Readiness } from "../shell/http.js";

export class Lifecycle {
  private hasStarted = false;
  private isStopping = false;

  get started(): boolean {
    return this.hasStarted;
  }

  get stopping(): boolean {
    return this.isStopping;
  }

  markStarted(): void {
    this.hasStarted = true;
  }

  /** False when a stop is already under way. */
  beginStop(): boolean {
    if (this.isStopping) return false;
    this.isStopping = true;
    return true;
  }

  /** Ready: started, not stopping, and connected (not between a disconnect and a reconnect). */
  readiness(connected: boolean): Readiness {
    if (this.isStopping) return { ready: false, reason: "stopping" };
    if (!this.hasStarted) return { ready: false, reason: "loading account JWTs" };
    if (!connected) return { ready: false, reason: "disconnected from NATS; reconnecting" };
    return { ready: true };
  }
}

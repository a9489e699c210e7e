/** pino, plus a rate limiter for reports of bad input so a flood cannot flood the log. */
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/** JSON logs on stdout, or on `destination` (tests read them). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return destination
    ? pino({ level, base: { service: "nats-insights" } }, destination)
    : pino({ level, base: { service: "nats-insights" } });
}

/** Logs each distinct reason at most once per window, then how many were suppressed. */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  warn(reason: string, fields: Record<string, unknown> = {}): void {
    const now = this.clock();
    const seen = this.last.get(reason);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return;
    }
    if (this.last.size > 1000) this.last.clear();
    this.last.set(reason, { at: now, suppressed: 0 });
    this.log.warn({ ...fields, suppressed_before: seen?.suppressed ?? 0 }, reason);
  }
}

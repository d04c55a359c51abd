/**
 * One limiter for every request a process makes to an upstream: requests are spaced evenly
 * (`requests` per `perMs`, so no window of that length ever holds more), and a response that
 * asks everyone to wait (`429` or `503` with `Retry-After`) holds every request, not only the
 * one that got it. A backfill of many days, fetched several at a time, stays within the
 * upstream's limit however its requests interleave.
 */

export interface RequestLimiter {
  /** Resolves when the next request may start; each caller gets its own slot. */
  acquire(): Promise<void>;
  /** Holds every request for `ms` from now (the upstream said `Retry-After`). */
  holdFor(ms: number): void;
  /**
   * Called when the request `acquire` admitted is over (answered, failed or timed out), for a
   * limiter that allows one request at a time (`shared/arxiv/request-gate.ts`).
   */
  release?(): Promise<void>;
}

export interface RequestLimiterOptions {
  /** Requests allowed per `perMs`. */
  requests: number;
  perMs: number;
  /** Injected so tests run on a fake clock. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const FIVE_MINUTES_MS = 5 * 60_000;

/** @throws RangeError for a rate that is not a positive number of requests per positive time. */
export function createRequestLimiter(options: RequestLimiterOptions): RequestLimiter {
  const { requests, perMs } = options;
  if (!(requests > 0) || !(perMs > 0)) {
    throw new RangeError(`a request limiter needs requests > 0 per perMs > 0, got ${requests} per ${perMs}`);
  }
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const spacingMs = perMs / requests;
  let nextSlot = Number.NEGATIVE_INFINITY;
  let heldUntil = Number.NEGATIVE_INFINITY;
  return {
    async acquire() {
      for (;;) {
        const at = Math.max(now(), nextSlot, heldUntil);
        nextSlot = at + spacingMs;
        const wait = at - now();
        if (wait > 0) await sleep(wait);
        // A hold that arrived while this caller waited for its slot applies to it too.
        if (heldUntil <= now()) return;
      }
    },
    holdFor(ms: number) {
      heldUntil = Math.max(heldUntil, now() + ms);
    },
  };
}

import type { RequestLimiter } from './request-limiter';

/**
 * Polite HTTP fetching of listings: a timeout per attempt, retries with
 * exponential backoff and jitter on what a retry can fix (429, 408, 5xx, a
 * timeout, a connection reset), honouring `Retry-After`, and a User-Agent that
 * says who is asking. What a retry cannot fix fails at once: a refused
 * connection, a name that does not resolve, a TLS failure, any other 4xx.
 *
 * The body is read as a stream and refused past `maxBytes`, so a runaway
 * response is a {@link ListingTooLargeError}, not an out-of-memory crash.
 */

export interface FetchOptions {
  userAgent: string;
  /** The `Accept` header. @default JSON, then HTML, then anything */
  accept?: string;
  /** One attempt, from the request until the last byte of the body. */
  timeoutMs: number;
  maxAttempts: number;
  /** First backoff delay; doubles per attempt. */
  backoffBaseMs?: number;
  /** Upper bound on one wait, `Retry-After` included. */
  backoffMaxMs?: number;
  /** The largest body accepted. @default DEFAULT_MAX_BODY_BYTES */
  maxBytes?: number;
  /**
   * When the run must be done (epoch ms): no attempt starts that could not finish by then, and
   * no wait is taken that would leave too little time for the next attempt.
   */
  deadline?: number;
  /** Told of each failed attempt that will be retried, and how long the wait is. */
  onRetry?: (problem: string, attempt: number, waitMs: number) => void;
  /** Injected so tests run without waiting. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Shared by every fetch of a run: each attempt waits for its slot, and a `Retry-After` holds
   * the others too (see `request-limiter.ts`).
   */
  limiter?: RequestLimiter;
}

export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 15_000;
/** A day of the HF API at `limit=100` is a few hundred KB; an arXiv feed a few MB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
/** What one page costs besides fetching it (archiving it, sending its messages), in the budget. */
export const PAGE_HANDLING_ALLOWANCE_MS = 5_000;

/** What bounds a whole fetch-listing run: the fetch options, and the pages of one day. */
export interface FetchBudgetOptions {
  timeoutMs: number;
  maxAttempts: number;
  backoffMaxMs?: number;
  maxPages: number;
  pageDelayMs: number;
  /** @default PAGE_HANDLING_ALLOWANCE_MS */
  pageHandlingMs?: number;
}

/**
 * The worst case of one run, in ms: every page takes every attempt to its timeout, with the
 * longest wait between attempts (a `Retry-After` is capped at `backoffMaxMs`), plus archiving
 * and sending each page, plus the delays between pages. The function's timeout must be at least
 * this (checked at synth), and {@link fetchListing} enforces a run's deadline at run time.
 */
export function fetchRunBudgetMs(options: FetchBudgetOptions): number {
  const {
    timeoutMs,
    maxAttempts,
    backoffMaxMs = DEFAULT_BACKOFF_MAX_MS,
    maxPages,
    pageDelayMs,
    pageHandlingMs = PAGE_HANDLING_ALLOWANCE_MS,
  } = options;
  const page = maxAttempts * timeoutMs + (maxAttempts - 1) * backoffMaxMs + pageHandlingMs;
  return maxPages * page + Math.max(0, maxPages - 1) * pageDelayMs;
}

export interface FetchedListing {
  url: string;
  status: number;
  contentType?: string;
  bytes: Uint8Array;
  fetchedAt: string;
  attempts: number;
}

/**
 * The upstream could not be fetched: an error a retry cannot fix (a 4xx other than 408/429,
 * a refused connection, an unknown host, a TLS failure), every attempt failed, or the run ran
 * out of time. The message says which, and what was waited for.
 */
export class ListingFetchError extends Error {
  override name = 'ListingFetchError';
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** The body is larger than `maxBytes`: not retried (the same body would come again). */
export class ListingTooLargeError extends ListingFetchError {
  override name = 'ListingTooLargeError';
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Network failures a retry cannot fix, by the code Node gives them, with what to tell the user. */
const PERMANENT_NETWORK_ERRORS: [RegExp, string][] = [
  [/^ECONNREFUSED$/, 'connection refused (nothing listens on that port)'],
  [/^ENOTFOUND$/, 'the host name does not resolve (DNS)'],
  [/CERT|SSL|TLS|^EPROTO$|^ERR_OSSL/, 'TLS handshake failed'],
];

/** Internal: one attempt's failure, and whether another attempt could succeed. */
class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * GETs `url`. Resolves with the body of a 2xx response.
 * @throws ListingTooLargeError when the body is over `maxBytes`.
 * @throws ListingFetchError on a failure a retry cannot fix, when every attempt failed, or when
 *   the `deadline` leaves no time for another attempt.
 */
export async function fetchListing(url: string, options: FetchOptions): Promise<FetchedListing> {
  const {
    timeoutMs,
    maxAttempts,
    backoffBaseMs = DEFAULT_BACKOFF_BASE_MS,
    backoffMaxMs = DEFAULT_BACKOFF_MAX_MS,
  } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  let lastProblem = 'no attempt made';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    await options.limiter?.acquire();
    let failure: AttemptFailure;
    try {
      if (Date.now() + timeoutMs > deadline) {
        throw new ListingFetchError(
          `GET ${url} gave up after ${attempt - 1} attempt(s): no time left in this run for another attempt ` +
            `of up to ${timeoutMs} ms (last: ${lastProblem})`,
          url,
          lastStatus,
          attempt - 1,
        );
      }
      const fetched = await fetchOnce(url, options);
      return { ...fetched, attempts: attempt };
    } catch (error) {
      if (error instanceof ListingTooLargeError)
        throw new ListingTooLargeError(error.message, url, 200, attempt);
      if (!(error instanceof AttemptFailure)) throw error;
      failure = error;
    } finally {
      // The attempt is over, whatever its end: a one-at-a-time limiter lets the next one in.
      await options.limiter?.release?.();
    }
    lastStatus = failure.status;
    lastProblem = failure.message;
    if (failure.retryAfterMs !== undefined)
      options.limiter?.holdFor(Math.min(backoffMaxMs, failure.retryAfterMs));
    if (!failure.retryable) {
      throw new ListingFetchError(`GET ${url} failed: ${lastProblem}`, url, lastStatus, attempt);
    }
    if (attempt < maxAttempts) {
      const backoff = backoffBaseMs * 2 ** (attempt - 1);
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const wait = Math.min(backoffMaxMs, Math.max(jittered, failure.retryAfterMs ?? 0));
      if (Date.now() + wait + timeoutMs > deadline) {
        throw new ListingFetchError(
          `GET ${url} gave up after ${attempt} attempt(s): no time left in this run to wait ${Math.round(wait)} ms ` +
            `and make another attempt of up to ${timeoutMs} ms (last: ${lastProblem})`,
          url,
          lastStatus,
          attempt,
        );
      }
      options.onRetry?.(lastProblem, attempt, wait);
      await sleep(wait);
    }
  }
  throw new ListingFetchError(
    `GET ${url} failed after ${maxAttempts} attempt(s): ${lastProblem}`,
    url,
    lastStatus,
    maxAttempts,
  );
}

/**
 * One attempt: the request and the whole body within `timeoutMs`.
 * @throws AttemptFailure (retryable or not), ListingTooLargeError.
 */
async function fetchOnce(url: string, options: FetchOptions): Promise<Omit<FetchedListing, 'attempts'>> {
  const { timeoutMs, maxBytes = DEFAULT_MAX_BODY_BYTES } = options;
  const signal = AbortSignal.timeout(timeoutMs);
  const host = hostOf(url);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        'user-agent': options.userAgent,
        accept: options.accept ?? 'application/json, text/html;q=0.9, */*;q=0.8',
      },
      signal,
      redirect: 'follow',
    });
  } catch (error) {
    if (signal.aborted) {
      throw new AttemptFailure(`no response headers from ${host} within ${timeoutMs} ms`, true);
    }
    throw networkFailure(error, host);
  }
  if (!response.ok) {
    // The error page's body is not needed; release the connection.
    await response.body?.cancel().catch(() => {});
    const problem = `HTTP ${response.status} ${response.statusText}`.trim();
    const retryable = RETRYABLE_STATUS.has(response.status);
    throw new AttemptFailure(
      retryable ? problem : `${problem} (a retry would not change it)`,
      retryable,
      response.status,
      retryAfter(response.headers.get('retry-after')),
    );
  }
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ListingTooLargeError(
      `GET ${url}: the body is ${declared} bytes (Content-Length), more than ${maxBytes} bytes allowed`,
      url,
      response.status,
      1,
    );
  }
  const bytes = await readBody(response, { url, host, timeoutMs, maxBytes, signal });
  return {
    url: response.url || url,
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    bytes,
    fetchedAt: new Date().toISOString(),
  };
}

/** Reads the body chunk by chunk, refusing it as soon as it passes `maxBytes`. */
async function readBody(
  response: Response,
  context: { url: string; host: string; timeoutMs: number; maxBytes: number; signal: AbortSignal },
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > context.maxBytes) {
        await reader.cancel().catch(() => {});
        throw new ListingTooLargeError(
          `GET ${context.url}: the body is more than ${context.maxBytes} bytes allowed`,
          context.url,
          response.status,
          1,
        );
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ListingTooLargeError) throw error;
    if (context.signal.aborted) {
      throw new AttemptFailure(
        `the body from ${context.host} did not finish within ${context.timeoutMs} ms (${received} bytes received)`,
        true,
      );
    }
    throw new AttemptFailure(`the body from ${context.host} broke off: ${describeError(error)}`, true);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function networkFailure(error: unknown, host: string): AttemptFailure {
  const code = errorCode(error);
  const permanent = code ? PERMANENT_NETWORK_ERRORS.find(([pattern]) => pattern.test(code)) : undefined;
  if (permanent) return new AttemptFailure(`${host}: ${permanent[1]} [${code}]`, false);
  return new AttemptFailure(`${host}: ${describeError(error)}`, true);
}

/** The system or library error code (`ECONNREFUSED`, `ERR_SSL_…`) under undici's "fetch failed". */
function errorCode(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // An AggregateError (one per address tried) carries the code on its errors.
    const errors = (cause as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      const nested = errors.map(errorCode).find(Boolean);
      if (nested) return nested;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : url;
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

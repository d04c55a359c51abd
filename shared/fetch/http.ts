/**
 * Polite HTTP fetching of listings: a timeout per attempt, retries with
 * exponential backoff and jitter on 429, 5xx and network failures (honouring
 * `Retry-After`), and a User-Agent that says who is asking.
 */

export interface FetchOptions {
  userAgent: string;
  timeoutMs: number;
  maxAttempts: number;
  /** First backoff delay; doubles per attempt. */
  backoffBaseMs?: number;
  /** Upper bound on one wait, `Retry-After` included. */
  backoffMaxMs?: number;
  /** Injected so tests run without waiting. */
  sleep?: (ms: number) => Promise<void>;
}

export interface FetchedListing {
  url: string;
  status: number;
  contentType?: string;
  bytes: Uint8Array;
  fetchedAt: string;
  attempts: number;
}

/** The upstream answered with an error that retrying will not fix (a 4xx other than 429), or kept failing. */
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

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * GETs `url`. Resolves with the body of a 2xx response.
 * @throws ListingFetchError on a non-retryable status, or when every attempt failed.
 */
export async function fetchListing(url: string, options: FetchOptions): Promise<FetchedListing> {
  const { userAgent, timeoutMs, maxAttempts, backoffBaseMs = 500, backoffMaxMs = 30_000 } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let lastProblem = 'no attempt made';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(url, {
        headers: { 'user-agent': userAgent, accept: 'application/json, text/html;q=0.9, */*;q=0.8' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'follow',
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (response.ok) {
        return {
          url: response.url || url,
          status: response.status,
          contentType: response.headers.get('content-type') ?? undefined,
          bytes,
          fetchedAt: new Date().toISOString(),
          attempts: attempt,
        };
      }
      lastStatus = response.status;
      lastProblem = `HTTP ${response.status} ${response.statusText}`.trim();
      if (!RETRYABLE_STATUS.has(response.status)) {
        throw new ListingFetchError(`GET ${url} failed: ${lastProblem}`, url, response.status, attempt);
      }
      retryAfterMs = retryAfter(response.headers.get('retry-after'));
    } catch (error) {
      if (error instanceof ListingFetchError) throw error;
      lastStatus = undefined;
      lastProblem = describeNetworkError(error, timeoutMs);
    }
    if (attempt < maxAttempts) {
      const backoff = backoffBaseMs * 2 ** (attempt - 1);
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      await sleep(Math.min(backoffMaxMs, Math.max(jittered, retryAfterMs ?? 0)));
    }
  }
  throw new ListingFetchError(
    `GET ${url} failed after ${maxAttempts} attempt(s): ${lastProblem}`,
    url,
    lastStatus,
    maxAttempts,
  );
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no response within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ANSWER_REQUEST_HEADERS } from '../shared/query/http-api';
import type { FunctionUrlHandler } from './http-adapter';

/**
 * `papers serve`'s cache of the query API's answers: what CloudFront is to the deployed API
 * (`infra/public-front.ts`), with one difference that makes it exact. CloudFront keeps an answer
 * for the `max-age` the API gave it, however the table changes meanwhile; this cache keeps it
 * only while the table's version (`LocalStack.tableVersion`, which moves with every write the
 * local DynamoDB answers) is the one it was computed at, and never past its `max-age` (some
 * answers depend on the date as well as the table). So a `papers ingest` in another terminal is
 * visible at the next request, and a reader paging through settled days does not make the
 * stand-ins read the same 700 listings again for every request.
 *
 * - Only `GET` and `HEAD`, and only answers whose `Cache-Control` lets a shared cache store
 *   them (`max-age` > 0, no `no-store`, `no-cache` or `private`): errors are `no-store`.
 * - Keyed on the method, path, query string and the request headers the answer depends on
 *   ({@link ANSWER_REQUEST_HEADERS}, the only ones the API reads).
 * - Requests for the same answer that arrive while it is being computed wait for that one
 *   computation instead of starting their own (CloudFront's request collapsing).
 * - Bounded: the least recently used answers go first past {@link ResponseCacheOptions.maxEntries}
 *   answers or {@link ResponseCacheOptions.maxBytes} of bodies.
 * - Every answer says where it came from, as CloudFront's do: `x-cache: Hit from papers serve`
 *   (with `age`, seconds since it was computed) or `Miss from papers serve`.
 */

export interface ResponseCacheOptions {
  /** The table's current version: an answer is reused only while it is unchanged. */
  tableVersion: () => Promise<string>;
  maxEntries?: number;
  maxBytes?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

export interface CachingHandler {
  handler: FunctionUrlHandler;
  stats(): ResponseCacheStats;
}

export const DEFAULT_MAX_ENTRIES = 5_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const HIT = 'Hit from papers serve';
export const MISS = 'Miss from papers serve';

interface Entry {
  version: string;
  storedAt: number;
  expiresAt: number;
  result: APIGatewayProxyStructuredResultV2;
  bytes: number;
}

/** Wraps the query handler in the cache. */
export function cachingHandler(handler: FunctionUrlHandler, options: ResponseCacheOptions): CachingHandler {
  const { tableVersion, maxEntries = DEFAULT_MAX_ENTRIES, maxBytes = DEFAULT_MAX_BYTES } = options;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recent first.
  const entries = new Map<string, Entry>();
  const computing = new Map<string, ReturnType<FunctionUrlHandler>>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;

  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
  };
  const keep = (key: string, entry: Entry) => {
    drop(key);
    if (entry.bytes > maxBytes) return;
    entries.set(key, entry);
    bytes += entry.bytes;
    for (const oldest of entries.keys()) {
      if (entries.size <= maxEntries && bytes <= maxBytes) break;
      drop(oldest);
    }
  };

  const cached: FunctionUrlHandler = async (event, context) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return handler(event, context);
    const key = cacheKey(method, event);
    const version = await tableVersion();
    const entry = entries.get(key);
    if (entry && entry.version === version && now() < entry.expiresAt) {
      hits++;
      entries.delete(key);
      entries.set(key, entry);
      const age = Math.max(0, Math.floor((now() - entry.storedAt) / 1000));
      return labelled(entry.result, { 'x-cache': HIT, age: String(age) });
    }
    misses++;
    const flight = `${version}\u0000${key}`;
    let computation = computing.get(flight);
    if (!computation) {
      const storedAt = now();
      computation = handler(event, context).then((result) => {
        const maxAgeSeconds = storableFor(result);
        if (maxAgeSeconds !== undefined && typeof result === 'object') {
          const structured = result as APIGatewayProxyStructuredResultV2;
          keep(key, {
            version,
            storedAt,
            expiresAt: storedAt + maxAgeSeconds * 1000,
            result: structured,
            bytes: (structured.body?.length ?? 0) + key.length,
          });
        }
        return result;
      });
      computing.set(flight, computation);
      const forget = () => computing.delete(flight);
      computation.then(forget, forget);
    }
    const result = await computation;
    return typeof result === 'object' && result !== null && 'statusCode' in result
      ? labelled(result as APIGatewayProxyStructuredResultV2, { 'x-cache': MISS })
      : result;
  };

  return {
    handler: cached,
    stats: () => ({ hits, misses, entries: entries.size, bytes }),
  };
}

function cacheKey(method: string, event: APIGatewayProxyEventV2): string {
  const headers = event.headers ?? {};
  const parts = [`${method} ${event.rawPath ?? '/'}?${event.rawQueryString ?? ''}`];
  for (const name of ANSWER_REQUEST_HEADERS) parts.push(`${name}:${headers[name] ?? ''}`);
  return parts.join('\n');
}

/**
 * Seconds a shared cache may keep `result`, or undefined when it may not: a structured result
 * whose `Cache-Control` has a positive `max-age` (`s-maxage` first) and none of `no-store`,
 * `no-cache` and `private`.
 */
export function storableFor(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) return undefined;
  const headers = (result as APIGatewayProxyStructuredResultV2).headers ?? {};
  const header = Object.entries(headers).find(([name]) => name.toLowerCase() === 'cache-control')?.[1];
  if (typeof header !== 'string') return undefined;
  const directives = new Map<string, string | undefined>();
  for (const part of header.split(',')) {
    const [name = '', value] = part.trim().split('=', 2);
    directives.set(name.toLowerCase(), value);
  }
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private')) return undefined;
  const seconds = Number(directives.get('s-maxage') ?? directives.get('max-age'));
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}

function labelled(
  result: APIGatewayProxyStructuredResultV2,
  extra: Record<string, string>,
): APIGatewayProxyStructuredResultV2 {
  return { ...result, headers: { ...result.headers, ...extra } };
}

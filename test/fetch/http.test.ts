import { afterEach, describe, expect, it } from 'vitest';
import { fetchListing, ListingFetchError } from '../../shared/fetch/http';
import { type FixtureResponse, type FixtureServer, startFixtureServer } from '../support/fixture-server';

const noWait = async () => {};
const options = { userAgent: 'daily-papers-pipeline/test', timeoutMs: 2_000, maxAttempts: 3, sleep: noWait };

describe('fetchListing', () => {
  let server: FixtureServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(responses: FixtureResponse[]) {
    let call = 0;
    server = await startFixtureServer(
      () => responses[Math.min(call++, responses.length - 1)] as FixtureResponse,
    );
    return server;
  }

  it('returns the body, content type and attempt count of a 2xx, sending its User-Agent', async () => {
    const upstream = await serve([{ body: '[]', contentType: 'application/json; charset=utf-8' }]);

    const fetched = await fetchListing(`${upstream.origin}/api/daily_papers?date=2026-06-12`, options);

    expect(new TextDecoder().decode(fetched.bytes)).toBe('[]');
    expect(fetched).toMatchObject({
      status: 200,
      attempts: 1,
      contentType: 'application/json; charset=utf-8',
    });
    expect(upstream.requests[0]?.userAgent).toBe('daily-papers-pipeline/test');
  });

  it('retries 429 and 5xx with backoff, honouring Retry-After', async () => {
    const waits: number[] = [];
    const upstream = await serve([
      { status: 429, body: 'slow down', headers: { 'retry-after': '2' } },
      { status: 502, body: 'bad gateway' },
      { body: '[]' },
    ]);

    const fetched = await fetchListing(upstream.origin, {
      ...options,
      backoffBaseMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    expect(fetched.attempts).toBe(3);
    expect(waits[0]).toBe(2_000);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
  });

  it('does not retry a 400: the request itself is wrong', async () => {
    const upstream = await serve([{ status: 400, body: '{"error":"Invalid date"}' }]);

    const failure = fetchListing(upstream.origin, options);

    await expect(failure).rejects.toBeInstanceOf(ListingFetchError);
    await expect(failure).rejects.toMatchObject({ status: 400, attempts: 1 });
    expect(upstream.requests).toHaveLength(1);
  });

  it('gives up after maxAttempts and says what the last failure was', async () => {
    const upstream = await serve([{ status: 503, body: 'down' }]);

    await expect(fetchListing(upstream.origin, options)).rejects.toThrow(/after 3 attempt\(s\): HTTP 503/);
    expect(upstream.requests).toHaveLength(3);
  });

  it('times out a silent upstream and reports it as such', async () => {
    server = await startFixtureServer(() => new Promise<FixtureResponse>(() => {}));

    await expect(fetchListing(server.origin, { ...options, timeoutMs: 100, maxAttempts: 1 })).rejects.toThrow(
      /no response within 100 ms/,
    );
  });

  it('reports an unreachable host as a ListingFetchError', async () => {
    await expect(
      fetchListing('http://127.0.0.1:9/nothing', { ...options, maxAttempts: 2 }),
    ).rejects.toBeInstanceOf(ListingFetchError);
  });
});

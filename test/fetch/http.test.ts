import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchListing,
  fetchRunBudgetMs,
  ListingFetchError,
  ListingTooLargeError,
} from '../../shared/fetch/http';
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
      /no response headers from 127\.0\.0\.1:\d+ within 100 ms/,
    );
  });

  it('reports an unreachable host as a ListingFetchError', async () => {
    await expect(
      fetchListing('http://127.0.0.1:9/nothing', { ...options, maxAttempts: 2 }),
    ).rejects.toBeInstanceOf(ListingFetchError);
  });
});

describe('fetchListing: what retrying can fix', () => {
  let server: FixtureServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function closedPort(): Promise<number> {
    // A port that was just free: bind, note it, close, so nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  it('fails at once on a closed port (connection refused), saying so', async () => {
    const port = await closedPort();
    const waits: number[] = [];

    const failure = fetchListing(`http://127.0.0.1:${port}/api`, {
      ...options,
      maxAttempts: 4,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    await expect(failure).rejects.toMatchObject({ name: 'ListingFetchError', attempts: 1 });
    await expect(failure).rejects.toThrow(/connection refused/i);
    expect(waits).toEqual([]);
  });

  it('fails at once on a host name that does not resolve', async () => {
    const failure = fetchListing('http://no-such-host.invalid/api', { ...options, maxAttempts: 4 });

    await expect(failure).rejects.toMatchObject({ attempts: 1 });
    await expect(failure).rejects.toThrow(/does not resolve|DNS/i);
  });

  it('fails at once on a TLS handshake with a server that does not speak TLS', async () => {
    server = await startFixtureServer(() => ({ body: '[]' }));
    const failure = fetchListing(server.origin.replace('http:', 'https:'), { ...options, maxAttempts: 4 });

    await expect(failure).rejects.toMatchObject({ attempts: 1 });
    await expect(failure).rejects.toThrow(/TLS/);
  });

  it.each([401, 403, 404, 410, 425])('fails at once on HTTP %i', async (status) => {
    let requests = 0;
    server = await startFixtureServer(() => {
      requests++;
      return { status, body: 'no' };
    });

    await expect(fetchListing(server.origin, { ...options, maxAttempts: 4 })).rejects.toMatchObject({
      status,
      attempts: 1,
    });
    expect(requests).toBe(1);
  });

  it('retries a 408, and a 500 then a 200 ends in the 200', async () => {
    const answers: FixtureResponse[] = [
      { status: 408, body: 'slow' },
      { status: 500, body: 'oops' },
      { body: '[]' },
    ];
    server = await startFixtureServer(() => answers.shift() ?? { body: '[]' });

    const fetched = await fetchListing(server.origin, { ...options, maxAttempts: 4 });

    expect(fetched).toMatchObject({ status: 200, attempts: 3 });
  });

  it('times out each attempt of a server that accepts and never answers, naming what it waited for', async () => {
    server = await startFixtureServer(() => new Promise<FixtureResponse>(() => {}));
    const retries: string[] = [];
    const started = Date.now();

    const failure = fetchListing(server.origin, {
      ...options,
      timeoutMs: 150,
      maxAttempts: 2,
      onRetry: (problem) => retries.push(problem),
    });

    await expect(failure).rejects.toThrow(
      /after 2 attempt\(s\): no response headers from 127\.0\.0\.1:\d+ within 150 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(retries).toEqual([expect.stringMatching(/no response headers .* within 150 ms/)]);
  });

  it('times out a body that never finishes, saying how much had arrived', async () => {
    const hanging = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[{"paper":');
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      await expect(
        fetchListing(`http://127.0.0.1:${port}/`, { ...options, timeoutMs: 150, maxAttempts: 1 }),
      ).rejects.toThrow(/body .* did not finish within 150 ms \(10 bytes received\)/);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  it('gives up when the run has no time left for another attempt', async () => {
    server = await startFixtureServer(() => ({ status: 503, body: 'busy' }));

    const failure = fetchListing(server.origin, {
      ...options,
      timeoutMs: 1_000,
      maxAttempts: 4,
      // A wait of 200–400 ms plus another attempt of up to 1 s cannot fit in what is left.
      backoffBaseMs: 400,
      deadline: Date.now() + 1_100,
    });

    await expect(failure).rejects.toMatchObject({ attempts: 1 });
    await expect(failure).rejects.toThrow(/no time left .* another attempt/);
    expect(server.requests).toHaveLength(1);
  });
});

describe('fetchListing: the body size bound', () => {
  let server: FixtureServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('refuses a body larger than maxBytes while streaming it, with a named error', async () => {
    // No Content-Length (chunked): the bound must hold while reading.
    const big = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && response.write(chunk)) sent++;
        if (sent < 64) response.once('drain', pump);
        else response.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    const { port } = big.address() as AddressInfo;
    try {
      const failure = fetchListing(`http://127.0.0.1:${port}/`, { ...options, maxBytes: 256 * 1024 });
      await expect(failure).rejects.toBeInstanceOf(ListingTooLargeError);
      await expect(failure).rejects.toMatchObject({ attempts: 1 });
      await expect(failure).rejects.toThrow(/more than 262144 bytes/);
    } finally {
      big.closeAllConnections();
      await new Promise<void>((resolve) => big.close(() => resolve()));
    }
  });

  it('refuses at once a Content-Length over maxBytes, and takes a body at the bound', async () => {
    server = await startFixtureServer((url) => ({
      body: url.pathname === '/big' ? 'x'.repeat(2_000) : '[1]',
    }));

    await expect(fetchListing(`${server.origin}/big`, { ...options, maxBytes: 1_000 })).rejects.toThrow(
      ListingTooLargeError,
    );
    const fetched = await fetchListing(`${server.origin}/ok`, { ...options, maxBytes: 3 });
    expect(new TextDecoder().decode(fetched.bytes)).toBe('[1]');
  });
});

describe('fetchRunBudgetMs', () => {
  it('adds every attempt, every worst-case wait and every page, so a bound below it can be enforced', async () => {
    const budget = fetchRunBudgetMs({
      timeoutMs: 1_000,
      maxAttempts: 3,
      backoffMaxMs: 500,
      maxPages: 2,
      pageDelayMs: 100,
      pageHandlingMs: 50,
    });
    // Two pages of (3 × 1000 ms attempts + 2 × 500 ms waits + 50 ms archiving and sending), one delay between.
    expect(budget).toBe(2 * (3_000 + 1_000 + 50) + 100);
  });
});

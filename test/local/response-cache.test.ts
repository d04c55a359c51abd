import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { cachingHandler, HIT, MISS, storableFor } from '../../local/response-cache';
import { ANSWER_REQUEST_HEADERS } from '../../shared/query/http-api';
import { makeDataDir, openTestStack, type SeedPaper, seed } from '../query/support';
import { type ServeProcess, startPapersServe } from '../support/papers-serve';

/**
 * `papers serve`'s answer cache (`local/response-cache.ts`) over the real query handler and a
 * real local table: an answer is reused only while the table is unchanged and within its
 * max-age, keyed on what the answer depends on, and never for errors. Then the same through a
 * `papers serve` process connected to this process's stack, which writes to the table under it.
 */

const DAY = '2026-06-11';
const OLD_DAY = '2026-01-05';

const PAPERS: SeedPaper[] = [
  { id: '2606.00001', listedOn: DAY, upvotes: 50, categories: ['cs.CV'] },
  { id: '2606.00002', listedOn: DAY, upvotes: 30, categories: ['cs.CL'] },
  { id: '2601.00003', listedOn: OLD_DAY, upvotes: 4, categories: ['cs.LG'] },
];

let stack: Awaited<ReturnType<typeof openTestStack>>;
let dataDir: string;
let handler: FunctionUrlHandler;
/** Requests that reached the handler, by URL. */
const reached: string[] = [];
const counted: FunctionUrlHandler = (event, context) => {
  reached.push(`${event.requestContext.http.method} ${event.rawPath}?${event.rawQueryString}`);
  return handler(event, context);
};

beforeAll(async () => {
  dataDir = await makeDataDir();
  stack = await openTestStack(dataDir);
  await seed(stack.store, PAPERS);
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  handler = await loadQueryHandler(stack.env);
});

afterAll(async () => {
  await stack?.close();
});

type Answer = { status: number; headers: Record<string, string>; body: string };

async function call(
  cached: FunctionUrlHandler,
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  const result = await cached(functionUrlEvent({ method, url, headers }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  return {
    status: result.statusCode,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body: result.body ?? '',
  };
}

const ids = (answer: Answer): string[] =>
  (JSON.parse(answer.body) as { items: { id: string }[] }).items.map((item) => item.id);

describe('the answer cache in front of the query handler', () => {
  it('answers a repeated request from the cache, byte for byte what the handler answered', async () => {
    // Arrange
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion });
    reached.length = 0;

    // Act
    const first = await call(cache.handler, `/papers?date=${DAY}`);
    const second = await call(cache.handler, `/papers?date=${DAY}`);
    const direct = await call(handler, `/papers?date=${DAY}`);

    // Assess
    expect(first.headers['x-cache']).toBe(MISS);
    expect(second.headers['x-cache']).toBe(HIT);
    expect(second.headers.age).toMatch(/^\d+$/);
    expect(reached).toEqual([`GET /papers?date=${DAY}`]);
    expect(second.body).toBe(direct.body);
    expect(second.headers.etag).toBe(direct.headers.etag);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('computes the answer again after any write to the table, and shows what was written', async () => {
    // Arrange
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion });
    const before = await call(cache.handler, `/papers?date=${DAY}`);

    // Act
    await seed(stack.store, [{ id: '2606.00009', listedOn: DAY, upvotes: 99, categories: ['cs.AI'] }]);
    const after = await call(cache.handler, `/papers?date=${DAY}`);

    // Assess
    expect(ids(before)).not.toContain('2606.00009');
    expect(after.headers['x-cache']).toBe(MISS);
    expect(ids(after)[0]).toBe('2606.00009');
  });

  it('keys on each request header the answer depends on, and on nothing else', async () => {
    // Arrange
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion });
    const url = `/papers?date=${OLD_DAY}`;
    const plain = await call(cache.handler, url);

    // Act
    const csv = await call(cache.handler, url, { accept: 'text/csv' });
    const conditional = await call(cache.handler, url, { 'if-none-match': plain.headers.etag ?? '' });
    const otherHost = await call(cache.handler, '/feeds/daily.xml', { host: 'a.example' });
    const sameFeedOtherHost = await call(cache.handler, '/feeds/daily.xml', { host: 'b.example' });
    const otherAgent = await call(cache.handler, url, { 'user-agent': 'another reader' });

    // Assess
    expect(csv.headers['x-cache']).toBe(MISS);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(conditional.headers['x-cache']).toBe(MISS);
    expect(conditional.status).toBe(304);
    expect(sameFeedOtherHost.headers['x-cache']).toBe(MISS);
    expect(sameFeedOtherHost.body).toContain('b.example');
    expect(otherHost.body).not.toContain('b.example');
    expect(otherAgent.headers['x-cache']).toBe(HIT);
    expect(ANSWER_REQUEST_HEADERS).not.toContain('user-agent');
  });

  it('never keeps an error, and passes other methods straight to the handler', async () => {
    // Arrange
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion });
    reached.length = 0;

    // Act
    const bad = [
      await call(cache.handler, '/papers?date=2026-13-01'),
      await call(cache.handler, '/papers?date=2026-13-01'),
    ];
    const posted = await call(cache.handler, '/papers', {}, 'POST');

    // Assess
    expect(bad.map((answer) => [answer.status, answer.headers['x-cache']])).toEqual([
      [400, MISS],
      [400, MISS],
    ]);
    expect(posted.status).toBe(405);
    expect(posted.headers['x-cache']).toBeUndefined();
    expect(reached).toHaveLength(3);
    expect(cache.stats().entries).toBe(0);
  });

  it('lets an answer go when its max-age runs out, even with the table unchanged', async () => {
    // Arrange
    let now = Date.parse('2026-06-11T12:00:00Z');
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion, now: () => now });
    const first = await call(cache.handler, '/days');
    const maxAge = storableFor({ statusCode: 200, headers: first.headers }) ?? 0;

    // Act
    now += (maxAge - 1) * 1000;
    const within = await call(cache.handler, '/days');
    now += 2000;
    const past = await call(cache.handler, '/days');

    // Assess
    expect(maxAge).toBeGreaterThan(0);
    expect(within.headers).toMatchObject({ 'x-cache': HIT, age: String(maxAge - 1) });
    expect(past.headers['x-cache']).toBe(MISS);
  });

  it('computes one answer for requests that arrive together', async () => {
    // Arrange
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion });
    reached.length = 0;

    // Act
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => call(cache.handler, `/categories?from=${OLD_DAY}&to=${DAY}`)),
    );

    // Assess
    expect(reached).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.body)).size).toBe(1);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    // Arrange
    const cache = cachingHandler(counted, { tableVersion: stack.tableVersion, maxEntries: 2 });
    await call(cache.handler, `/papers?date=${DAY}`);
    await call(cache.handler, `/papers?date=${OLD_DAY}`);
    await call(cache.handler, `/papers?date=${DAY}`);

    // Act
    await call(cache.handler, '/days');
    const recent = await call(cache.handler, `/papers?date=${DAY}`);
    const dropped = await call(cache.handler, `/papers?date=${OLD_DAY}`);

    // Assess
    expect(recent.headers['x-cache']).toBe(HIT);
    expect(dropped.headers['x-cache']).toBe(MISS);
    expect(cache.stats().entries).toBe(2);
  });
});

describe('papers serve connected to another process’s stack', () => {
  let serve: ServeProcess | undefined;
  const env = { ...process.env, PAPERS_DATA_DIR: '', POWERTOOLS_LOG_LEVEL: 'WARN' };

  afterAll(async () => {
    await serve?.stop();
  });

  it('caches by the owner’s table version, so writes made by the owner show at the next request', async () => {
    // Arrange
    serve = await startPapersServe([], { ...env, PAPERS_DATA_DIR: dataDir });
    const get = async (path: string) => {
      const response = await fetch(`${serve?.origin}${path}`);
      return { cache: response.headers.get('x-cache'), body: await response.text() };
    };
    await get(`/papers?date=${OLD_DAY}`);
    const repeated = await get(`/papers?date=${OLD_DAY}`);

    // Act
    await seed(stack.store, [{ id: '2601.00004', listedOn: OLD_DAY, upvotes: 8, categories: ['cs.LG'] }]);
    const afterWrite = await get(`/papers?date=${OLD_DAY}`);

    // Assess
    expect(repeated.cache).toBe(HIT);
    expect(afterWrite.cache).toBe(MISS);
    expect(afterWrite.body).toContain('2601.00004');
  }, 60_000);

  it('with --no-cache, sends every request to the handler', async () => {
    // Arrange
    await serve?.stop();
    serve = await startPapersServe(['--no-cache'], { ...env, PAPERS_DATA_DIR: dataDir });

    // Act
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push(await fetch(`${serve.origin}/days`));

    // Assess
    expect(answers.map((answer) => [answer.status, answer.headers.get('x-cache')])).toEqual([
      [200, null],
      [200, null],
    ]);
  }, 60_000);
});

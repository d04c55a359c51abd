import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { AllowedOriginsSchema } from '../../shared/query/cors';
import { answerHttpRequest } from '../../shared/query/http-api';
import { openTestStack, type SeedPaper, seed } from './support';

/**
 * The query API's HTTP surface through the real Function URL handler on the stand-ins: content
 * negotiation, validators and caching, HEAD, OPTIONS and CORS, the health route, sealed cursors.
 */

const OLD_DAY = '2026-06-12';
const TODAY = new Date().toISOString().slice(0, 10);

const PAPERS: SeedPaper[] = [
  { id: '2606.00001', listedOn: OLD_DAY, upvotes: 50, categories: ['cs.CV'], title: 'Seeing, "clearly"' },
  { id: '2606.00002', listedOn: OLD_DAY, upvotes: 30, categories: ['cs.CL'], authors: ['Grace Hopper'] },
  { id: '2606.00003', listedOn: OLD_DAY, upvotes: 20, categories: ['cs.CV', 'cs.LG'] },
  { id: '2606.00004', listedOn: TODAY, upvotes: 9, categories: ['cs.CV'] },
];

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, PAPERS);
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  handler = await loadQueryHandler(stack.env);
});

afterAll(async () => {
  await stack?.close();
});

async function send(url: string, { method = 'GET', headers = {} as Record<string, string> } = {}) {
  const result = await handler(functionUrlEvent({ method, url, headers }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  const responseHeaders = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  return { status: result.statusCode, headers: responseHeaders, text: result.body ?? '' };
}

describe('content negotiation', () => {
  it('answers JSON by default', async () => {
    const response = await send(`/papers?date=${OLD_DAY}`);

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.text).items).toHaveLength(3);
  });

  it.each([
    ['format=csv', `/papers?date=${OLD_DAY}&format=csv`, {}],
    ['Accept: text/csv', `/papers?date=${OLD_DAY}`, { accept: 'text/csv' }],
    ['an Accept that prefers CSV', `/papers?date=${OLD_DAY}`, { accept: 'application/json;q=0.5, text/csv' }],
  ])('answers CSV with a header row for %s, quoted as RFC 4180 asks', async (_case, url, headers) => {
    const response = await send(url, { headers });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    const lines = response.text.split('\r\n');
    expect(lines[0]).toBe('id,title,listedOn,upvotes,primaryCategory,authors,arxiv');
    expect(lines[1]).toBe(
      `2606.00001,"Seeing, ""clearly""",${OLD_DAY},50,cs.CV,Ada Lovelace; Alan Turing,https://arxiv.org/abs/2606.00001`,
    );
    expect(lines).toHaveLength(5); // header, three papers, and the empty string after the last CRLF
  });

  it('lets format=json win over Accept: text/csv, and prefers JSON on a tie or an Accept naming neither', async () => {
    const explicit = await send(`/days?format=json`, { headers: { accept: 'text/csv' } });
    const tie = await send('/days', { headers: { accept: 'text/csv, application/json' } });
    const neither = await send('/days', { headers: { accept: 'text/html' } });

    for (const response of [explicit, tie, neither]) {
      expect(response.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('gives a ranked range and a search the same CSV columns on every page, the days listed among them', async () => {
    const ranked = await send(`/papers?from=${OLD_DAY}&to=${OLD_DAY}&sort=upvotes&format=csv`);
    const search = await send('/papers?q=abstract&format=csv');

    const header = 'id,title,listedOn,upvotes,primaryCategory,authors,arxiv,days,score';
    expect(ranked.text.split('\r\n')[0]).toBe(header);
    expect(ranked.text.split('\r\n')[1]).toBe(
      `2606.00001,"Seeing, ""clearly""",${OLD_DAY},50,cs.CV,Ada Lovelace; Alan Turing,https://arxiv.org/abs/2606.00001,${OLD_DAY},`,
    );
    expect(search.status).toBe(200);
    expect(search.text.split('\r\n')[0]).toBe(header);
  });

  it('gives a paper record as one CSV line per listing day, and days with their columns', async () => {
    const record = await send('/papers/2606.00002?format=csv');
    const days = await send('/days?format=csv');

    expect(record.text.split('\r\n')[1]).toBe(
      `2606.00002,Paper 2606.00002,${OLD_DAY},30,cs.CL,Grace Hopper,https://arxiv.org/abs/2606.00002`,
    );
    expect(days.text.split('\r\n')[0]).toBe('day,papers,listed,lastFetchedAt,lastStoredAt');
    expect(days.text).toContain(`\r\n${OLD_DAY},3,`);
  });

  it.each([
    ['format=xml', 'must be json (the default) or csv'],
    ['format=csv&format=json', 'is given more than once'],
  ])('refuses %s with a 400 naming format', async (query, problem) => {
    const response = await send(`/days?${query}`);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({
      error: 'BadRequest',
      message: `format: ${problem}`,
      parameter: 'format',
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('validators and caching', () => {
  it('lets caches keep a day more than 14 days old for a day, and today for five minutes', async () => {
    const old = await send(`/papers?date=${OLD_DAY}`);
    const today = await send(`/papers?date=${TODAY}`);
    const days = await send('/days');
    const oldPaper = await send('/papers/2606.00001');
    const oldRange = await send(`/papers?category=cs.CV&from=2026-06-01&to=${OLD_DAY}`);

    expect(old.headers['cache-control']).toBe('public, max-age=86400');
    expect(oldPaper.headers['cache-control']).toBe('public, max-age=86400');
    expect(oldRange.headers['cache-control']).toBe('public, max-age=86400');
    expect(today.headers['cache-control']).toBe('public, max-age=300');
    expect(days.headers['cache-control']).toBe('public, max-age=300');
  });

  it('lets caches keep an old day never fetched for minutes only: a backfill may fetch it any time', async () => {
    const never = await send('/papers?date=2020-01-01');

    expect(JSON.parse(never.text).day).toMatchObject({ status: 'not-fetched' });
    expect(never.headers['cache-control']).toBe('public, max-age=300');
  });

  it('gives the same ETag for the same bytes, another for another representation, and 304 for If-None-Match', async () => {
    const first = await send(`/papers?date=${OLD_DAY}`);
    const again = await send(`/papers?date=${OLD_DAY}`);
    const csv = await send(`/papers?date=${OLD_DAY}&format=csv`);
    const etag = first.headers.etag ?? '';

    const notModified = await send(`/papers?date=${OLD_DAY}`, {
      headers: { 'if-none-match': `"other", ${etag}` },
    });
    const weak = await send(`/papers?date=${OLD_DAY}`, { headers: { 'if-none-match': `W/${etag}` } });
    const stale = await send(`/papers?date=${OLD_DAY}`, { headers: { 'if-none-match': '"other"' } });

    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(again.headers.etag).toBe(etag);
    expect(csv.headers.etag).not.toBe(etag);
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    expect(notModified.headers['cache-control']).toBe('public, max-age=86400');
    expect(weak.status).toBe(304);
    expect(stale.status).toBe(200);
  });

  it('gives a page with more after it a Link to the next page', async () => {
    const first = await send(`/papers?date=${OLD_DAY}&limit=2&format=csv`);
    const link = first.headers.link ?? '';
    const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? '';

    const second = await send(next);

    expect(next).toMatch(new RegExp(`^/papers\\?date=${OLD_DAY}&limit=2&format=csv&cursor=`));
    expect(second.status).toBe(200);
    expect(second.text.split('\r\n')[1]).toMatch(/^2606\.00003,/);
    expect(second.headers.link).toBeUndefined();
  });
});

describe('HEAD and OPTIONS', () => {
  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await send(`/papers?date=${OLD_DAY}`);
    const head = await send(`/papers?date=${OLD_DAY}`, { method: 'HEAD' });

    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
  });

  it('answers HEAD on a bad request with the 400 status', async () => {
    const head = await send('/papers?date=nope', { method: 'HEAD' });

    expect(head.status).toBe(400);
    expect(head.text).toBe('');
  });

  it('answers OPTIONS on a route with 204 and the methods allowed, and a preflight with CORS headers', async () => {
    const options = await send('/days', { method: 'OPTIONS' });
    const preflight = await send('/papers/2606.00001', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://dashboards.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, x-amz-date',
      },
    });

    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    expect(preflight.headers['access-control-allow-headers']).toContain('x-amz-date');
  });

  it('answers OPTIONS on an unknown route with a 404', async () => {
    expect((await send('/nowhere', { method: 'OPTIONS' })).status).toBe(404);
  });
});

describe('HEAD, OPTIONS and other methods on the web page', () => {
  const PAGE_PATHS = ['/', '/web/page.js', '/web/page.css'];
  const PREFLIGHT = {
    origin: 'https://dashboards.example.com',
    'access-control-request-method': 'GET',
  };

  it.each(PAGE_PATHS)('answers HEAD %s with the status and headers of GET and no body', async (path) => {
    const get = await send(path);
    const head = await send(path, { method: 'HEAD' });

    expect(get.status).toBe(200);
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers).toEqual({ ...get.headers, 'content-length': String(Buffer.byteLength(get.text)) });
  });

  it.each(PAGE_PATHS)('answers OPTIONS %s as the API answers OPTIONS on its routes', async (path) => {
    const options = await send(path, { method: 'OPTIONS' });
    const preflight = await send(path, { method: 'OPTIONS', headers: PREFLIGHT });

    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(options).toEqual(await send('/days', { method: 'OPTIONS' }));
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(preflight).toEqual(await send('/days', { method: 'OPTIONS', headers: PREFLIGHT }));
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])(
    'refuses %s on the page with the 405 and allow header the API gives',
    async (method) => {
      const refused = await send('/', { method });
      const api = await send('/days', { method, headers: { origin: PREFLIGHT.origin } });

      expect(refused.status).toBe(405);
      expect(refused.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(JSON.parse(refused.text)).toEqual({
        error: 'MethodNotAllowed',
        message: `${method} /: only GET, HEAD and OPTIONS are allowed`,
      });
      expect((await send('/', { method, headers: { origin: PREFLIGHT.origin } })).headers).toEqual(
        api.headers,
      );
    },
  );
});

describe('CORS', () => {
  it('lets any origin read the API by default, exposing ETag and Link', async () => {
    const response = await send('/days', { headers: { origin: 'https://dashboards.example.com' } });

    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-expose-headers']).toContain('etag');
  });

  it('gives every answer the same CORS headers when any origin may read, Origin sent or not', async () => {
    // A shared cache may keep an answer to a request without Origin and give it to a browser.
    const withOrigin = await send('/days', { headers: { origin: 'https://dashboards.example.com' } });
    const without = await send('/days');

    expect(without.headers['access-control-allow-origin']).toBe('*');
    expect(without.headers['access-control-expose-headers']).toBe(
      withOrigin.headers['access-control-expose-headers'],
    );
  });

  it('with origins configured, allows only those, and varies on Origin', async () => {
    const allowedOrigins = AllowedOriginsSchema.parse('https://a.example.com, http://localhost:5173');
    const ask = (origin: string) =>
      answerHttpRequest(
        { method: 'GET', path: '/days', rawQueryString: '', headers: { origin } },
        stack.store,
        { allowedOrigins },
      );

    const allowed = await ask('http://localhost:5173');
    const refused = await ask('https://evil.example.com');

    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(allowed.headers.vary).toBe('accept, origin');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers.vary).toBe('accept, origin');
    expect(refused.statusCode).toBe(200);
  });

  it.each(['', 'localhost', 'https://a.example.com/path', 'https://a.example.com,ftp://b'])(
    'refuses %j as the allowed origins',
    (value) => {
      expect(AllowedOriginsSchema.safeParse(value).success).toBe(false);
    },
  );
});

describe('GET /health', () => {
  it('answers 200 with the latest ingested day, never cached', async () => {
    const response = await send('/health');

    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ status: 'ok', latestDay: TODAY });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 503 when the table cannot be read', async () => {
    // The store, with its read of the days failing as an unreachable table would.
    const broken: typeof stack.store = Object.create(stack.store);
    broken.ingestedDays = () => Promise.reject(new Error('table gone'));
    const response = await answerHttpRequest(
      { method: 'GET', path: '/health', rawQueryString: '', headers: {} },
      broken,
      { allowedOrigins: '*' },
    );

    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'Unavailable' });
  });
});

describe('cursors', () => {
  it('are opaque: no table key can be read from them', async () => {
    const { text } = await send(`/papers?date=${OLD_DAY}&limit=1`);
    const { cursor } = JSON.parse(text) as { cursor: string };

    const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
    expect(decoded).not.toContain('PAPER#');
    expect(decoded).not.toContain(OLD_DAY);
    expect(() => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).toThrow();
  });

  it('refuses any altered cursor with a 400 naming cursor', async () => {
    const { text } = await send('/days?limit=1');
    const { cursor } = JSON.parse(text) as { cursor: string };
    const failures: string[] = [];
    for (let at = 0; at < cursor.length; at++) {
      const flipped = cursor[at] === 'A' ? 'B' : 'A';
      const altered = cursor.slice(0, at) + flipped + cursor.slice(at + 1);
      const response = await send(`/days?limit=1&cursor=${altered}`);
      const body = JSON.parse(response.text);
      // The last character's low bits may be padding that base64url decoding ignores.
      const sameBytes = Buffer.from(altered, 'base64url').equals(Buffer.from(cursor, 'base64url'));
      if (!sameBytes && (response.status !== 400 || body.parameter !== 'cursor')) failures.push(altered);
    }

    expect(failures).toEqual([]);
  });

  it('refuses a forged /days cursor (the store encoding of a real key) with a message', async () => {
    const forged = Buffer.from(JSON.stringify({ q: 'days', k: { pk: 'DAYS', sk: OLD_DAY } })).toString(
      'base64url',
    );

    const response = await send(`/days?cursor=${forged}`);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({
      error: 'BadRequest',
      message:
        'cursor: was altered or was not issued by this API (pass back the cursor of the previous page unchanged)',
      parameter: 'cursor',
    });
  });

  it('still pages through every item', async () => {
    const ids: string[] = [];
    let url = `/papers?date=${OLD_DAY}&limit=1&sort=id`;
    for (let page = 0; page < 10; page++) {
      const body = JSON.parse((await send(url)).text) as { items: { id: string }[]; cursor?: string };
      ids.push(...body.items.map((item) => item.id));
      if (!body.cursor) break;
      url = `/papers?date=${OLD_DAY}&limit=1&sort=id&cursor=${body.cursor}`;
    }

    expect(ids).toEqual(['2606.00001', '2606.00002', '2606.00003']);
  });
});

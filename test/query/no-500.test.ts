import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { openTestStack, type SeedPaper, seed } from './support';

/**
 * Nothing a client sends may produce a 500: generated requests (paths, methods, parameters,
 * cursors real, mutated and forged) against the real Function URL handler on the stand-ins, over a
 * table that also holds unreadable items. Seeded, so a failure names a request that reproduces it.
 */

const DAYS = ['2026-06-11', '2026-06-12'];
const PAPERS: SeedPaper[] = Array.from({ length: 12 }, (_, i) => ({
  id: `2606.3${String(i).padStart(4, '0')}`,
  listedOn: DAYS[i % 2] ?? '2026-06-11',
  upvotes: (i * 7) % 13,
  categories: i % 3 === 0 ? ['cs.CV', 'cs.LG'] : ['cs.CL'],
}));
const RUNS = 400;

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, PAPERS);
  // Unreadable items on the pages the generated requests read.
  const put = (Item: Record<string, unknown>) =>
    stack.client.send(new PutCommand({ TableName: stack.tableName, Item }));
  await put({
    pk: 'PAPER#2606.39999',
    sk: 'LISTED#2026-06-11',
    dayPk: 'DAY#2026-06-11',
    upvotes: 5,
    paper: 'junk',
  });
  await put({
    pk: 'PAPER#2606.39999',
    sk: 'CATEGORY#cs.CL#2026-06-11',
    categoryPk: 'CATEGORY#cs.CL',
    categorySk: '2026-06-11#2606.39999',
  });
  await put({ pk: 'DAYS', sk: 'not-a-day' });
  handler = await loadQueryHandler(stack.env);
});

afterAll(async () => {
  await stack?.close();
});

/** mulberry32: a small seeded generator, so every run sends the same requests. */
function generator(seedValue: number) {
  let state = seedValue >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(values: readonly T[]): T => values[int(values.length)] as T;
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

const NASTY_STRINGS = [
  '',
  ' ',
  '%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '%00',
  '\u0000',
  '\ud800',
  '😀',
  'é',
  '../days',
  '&',
  '=',
  '==',
  '+',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'toString',
  '[]',
  '{}',
  '-1',
  '0',
  '1e400',
  '9007199254740993',
  'NaN',
  '2026-06-12',
  '2026-02-30',
  '9999-12-31',
  '0000-01-01',
  'cs.CV',
  'cs.cv',
  'x'.repeat(3000),
];
const NAMES = [
  'date',
  'category',
  'from',
  'to',
  'limit',
  'cursor',
  'sort',
  'DATE',
  'day',
  '',
  '__proto__',
  'q',
];
const VALUES: Record<string, readonly string[]> = {
  date: DAYS,
  category: ['cs.CV', 'cs.CL', 'cs.LG', 'eess.SY'],
  from: ['2026-06-01', '2026-06-11', '2025-06-12'],
  to: ['2026-06-12', '2026-06-30', '2027-06-12'],
  limit: ['1', '2', '3', '100', '101'],
  sort: ['upvotes', 'id'],
};

/** A JSON value a forger might put in a key. */
function forgedValue(random: Random): unknown {
  return random.pick<unknown>([
    1e308,
    -1,
    2 ** 53 + 2,
    0.5,
    '',
    '\ud800',
    'x'.repeat(2000),
    null,
    true,
    [],
    {},
    { S: 'x' },
    'PAPER#2606.30001',
    'DAY#2026-06-11',
    '2026-06-11#2606.30000',
    3,
  ]);
}

function mutatedCursor(random: Random, cursor: string): string {
  const roll = random.int(4);
  if (roll === 0) {
    // Flip one character.
    const at = random.int(cursor.length);
    return cursor.slice(0, at) + random.pick(['A', '_', '-', 'z', '0']) + cursor.slice(at + 1);
  }
  let decoded: { q?: unknown; k?: Record<string, unknown>; r?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return cursor;
  }
  if (roll === 1 && decoded.k) {
    const names = Object.keys(decoded.k);
    decoded.k[random.pick(names)] = forgedValue(random);
  } else if (roll === 2) {
    decoded.r = random.pick([{ from: '2026-05-14', to: '2026-06-12' }, { from: 'x', to: 1 }, 'r', null]);
  } else {
    decoded.q = random.pick(['days', 'day:2026-06-11', 'day-by-id:2026-06-11', 'category:cs.CV:rolling', 1]);
  }
  return Buffer.from(JSON.stringify(decoded)).toString('base64url');
}

/** Percent-encodes what can be; a lone surrogate goes as the bytes a careless client would send. */
function encode(value: string): string {
  return value
    .split(/(\p{Cs})/u)
    .map((part) => (/^\p{Cs}$/u.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

async function send(method: string, url: string) {
  const result = await handler(functionUrlEvent({ method, url }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  // `GET /` is the web page (HTML); every other answer is the API's JSON.
  const isJson = String(result.headers?.['content-type'] ?? '').startsWith('application/json');
  const body = isJson ? (JSON.parse(result.body ?? 'null') as { cursor?: string }) : {};
  return { status: result.statusCode, body };
}

describe('the query handler, under generated requests', () => {
  it(`answers ${RUNS} generated requests with 200, 400, 404 or 405, never a 500`, async () => {
    const random = generator(20260612);
    const cursors: string[] = [];
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const wellFormed = random.next() < 0.5 ? random.pick(['date', 'category', 'days'] as const) : undefined;
      const anyPath = random.pick([
        '/papers',
        '/papers',
        '/papers',
        '/days',
        '/days/',
        '/',
        '//papers',
        `/papers/${random.pick(['2606.30001', '2606.39999', 'hep-th/9901001', 'hep-th%2F9901001', '2606.30001v2'])}`,
        `/papers/${encode(random.pick(NASTY_STRINGS))}`,
        `/papers/${random.pick(NASTY_STRINGS)}`,
        `/${random.pick(NASTY_STRINGS)}`,
      ]);
      const path = wellFormed === undefined ? anyPath : wellFormed === 'days' ? '/days' : '/papers';
      const parameters: string[] = [];
      if (wellFormed !== undefined) {
        // A well-formed query, to reach real pages and collect their cursors, sometimes with one cursor.
        const route = wellFormed;
        const limit = `limit=${random.pick(['1', '2', '3'])}`;
        if (route === 'date')
          parameters.push(`date=${random.pick(DAYS)}`, `sort=${random.pick(['id', 'upvotes'])}`);
        if (route === 'category') parameters.push(`category=${random.pick(['cs.CV', 'cs.CL'])}`);
        if (route === 'category' && random.next() < 0.5) parameters.push('from=2026-06-01', 'to=2026-06-30');
        parameters.push(limit);
        if (cursors.length > 0 && random.next() < 0.5) {
          const cursor = random.pick(cursors);
          parameters.push(`cursor=${random.next() < 0.5 ? cursor : mutatedCursor(random, cursor)}`);
        }
      }
      for (let count = random.int(wellFormed === undefined ? 5 : 2); count > 0; count--) {
        const name = random.pick(NAMES);
        const known = Object.hasOwn(VALUES, name) ? VALUES[name] : undefined;
        const value =
          name === 'cursor'
            ? random.next() < 0.6 && cursors.length > 0
              ? mutatedCursor(random, random.pick(cursors))
              : random.next() < 0.5 && cursors.length > 0
                ? random.pick(cursors)
                : Buffer.from(
                    JSON.stringify({ q: 'days', k: { pk: 'DAYS', sk: forgedValue(random) } }),
                  ).toString('base64url')
            : known && random.next() < 0.7
              ? random.pick(known)
              : random.pick(NASTY_STRINGS);
        const raw = random.next() < 0.5;
        parameters.push(raw ? `${name}=${value}` : `${encode(name)}=${encode(value)}`);
      }
      const method = random.next() < 0.9 ? 'GET' : random.pick(['POST', 'DELETE', 'HEAD', 'OPTIONS']);
      const url = parameters.length > 0 ? `${path}?${parameters.join('&')}` : path;

      const { status, body } = await send(method, url);

      if (![200, 400, 404, 405].includes(status)) failures.push(`${status} ${method} ${url}`);
      if (status === 200 && typeof body.cursor === 'string') cursors.push(body.cursor);
    }

    expect(failures).toEqual([]);
    // The generator reached real pages and their cursors, not only refusals.
    expect(cursors.length).toBeGreaterThan(10);
  }, 120_000);
});

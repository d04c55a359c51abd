import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { cursorSeal, withSealedCursors } from '../../shared/query/cursor-seal';
import { answerHttpRequest } from '../../shared/query/http-api';
import { ALL_ROUTE_NAMES, openApiDocument } from '../../shared/query/openapi';
import { isWebAssetPath } from '../../shared/query/web-page';
import type { PaperReader } from '../../shared/store/paper-store';
import { openTestStack, type SeedPaper, seed } from './support';

/**
 * Property-based: fast-check throws random methods, paths, parameters and headers at the real
 * Function URL handler on the stand-ins. Whatever it sends, the answer is never a 5xx, every 4xx
 * says what is wrong in JSON, a parameter no route knows is refused, and every 200 names a route
 * the OpenAPI document describes. Paths, parameter names and values are drawn from the document
 * itself, so a route or parameter added later is exercised without touching this file. Seeded:
 * a failure prints the request that reproduces it.
 */

interface Operation {
  parameters: { name: string; schema: { enum?: string[] } }[];
  'x-routes': { example: string }[];
}
const document = openApiDocument() as { paths: Record<string, { get: Operation }> };
const TEMPLATES = Object.keys(document.paths);
const OPERATIONS = Object.values(document.paths).map((item) => item.get);
const PARAMETER_NAMES = [
  ...new Set(OPERATIONS.flatMap((operation) => operation.parameters.map((p) => p.name))),
];
const EXAMPLES = OPERATIONS.flatMap((operation) => operation['x-routes'].map((route) => route.example));
/** Every value an example or an enum gives, by parameter name. */
const KNOWN_VALUES = new Map<string, string[]>();
for (const operation of OPERATIONS) {
  for (const parameter of operation.parameters) {
    KNOWN_VALUES.set(parameter.name, [
      ...(KNOWN_VALUES.get(parameter.name) ?? []),
      ...(parameter.schema.enum ?? []),
    ]);
  }
}
for (const example of EXAMPLES) {
  for (const [name, value] of new URLSearchParams(example.split('?')[1] ?? '')) {
    KNOWN_VALUES.set(name, [...(KNOWN_VALUES.get(name) ?? []), value]);
  }
}

const NASTY = [
  '',
  ' ',
  '%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '%00',
  '\u0000',
  '😀',
  '..',
  '../days',
  '&',
  '=',
  '+',
  '#',
  '__proto__',
  'constructor',
  '-1',
  '0',
  '1e400',
  'NaN',
  '2026-02-30',
  '9999-12-31',
  'cs.cv',
  'x'.repeat(3000),
];
const SEEDED: SeedPaper[] = Array.from({ length: 6 }, (_, i) => ({
  id: `2606.4${String(i).padStart(4, '0')}`,
  listedOn: i % 2 ? '2026-06-12' : '2026-06-11',
  upvotes: i,
  categories: i % 2 ? ['cs.CV'] : ['cs.CL', 'cs.CV'],
}));

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;
/** The table as the handler reads it, cursors sealed with the same key. */
let sealed: PaperReader;
const cursors: string[] = [];

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, SEEDED);
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  handler = await loadQueryHandler(stack.env);
  sealed = withSealedCursors(stack.store, cursorSeal(stack.env.QUERY_CURSOR_KEY ?? ''));
  for (const url of [
    '/days?limit=1',
    '/papers?date=2026-06-11&limit=1',
    '/papers?category=cs.CV&from=2026-06-01&to=2026-06-30&limit=1',
  ]) {
    const result = await handler(functionUrlEvent({ method: 'GET', url }), localLambdaContext('query'));
    if (typeof result === 'object' && result.body) cursors.push(JSON.parse(result.body).cursor);
  }
});

afterAll(async () => {
  await stack?.close();
});

const anyText = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
/** A cursor: real, altered in one place, or made up. */
const cursorValue = fc.oneof(
  fc.constantFrom(...(cursors.length ? cursors : ['x'])),
  fc.tuple(fc.nat(), fc.constantFrom('A', '_', '-', 'z', '0')).map(([at, character]) => {
    const cursor = cursors[at % Math.max(1, cursors.length)] ?? 'x';
    const i = at % cursor.length;
    return cursor.slice(0, i) + character + cursor.slice(i + 1);
  }),
  fc
    .base64String({ maxLength: 200 })
    .map((text) => text.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')),
);
const parameterName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PARAMETER_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('DATE', 'day', 'q', 'page', 'Limit', '') },
  { weight: 1, arbitrary: anyText },
);
const parameter = parameterName.chain((name) =>
  fc.tuple(
    fc.constant(name),
    name === 'cursor'
      ? fc.oneof(cursorValue, anyText)
      : KNOWN_VALUES.get(name)?.length
        ? fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...(KNOWN_VALUES.get(name) ?? [])) },
            { weight: 1, arbitrary: anyText },
          )
        : anyText,
    fc.boolean(),
  ),
);
/** A path from a documented template (placeholders filled with anything), an example's, or any path. */
const path = fc.oneof(
  // Whole examples (their parameters included): well-formed requests that reach real pages.
  { weight: 4, arbitrary: fc.constantFrom(...EXAMPLES) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...TEMPLATES),
        fc.oneof(fc.constantFrom('2606.40001', 'hep-th/9901001', 'cs.CV', 'cs.cv'), anyText),
        fc.boolean(),
      )
      .map(([template, value, encoded]) =>
        template.replace(/\{[^}]+\}/g, encoded ? encodeURIComponent(value) : value),
      ),
  },
  { weight: 1, arbitrary: fc.webPath() },
  { weight: 1, arbitrary: anyText.map((text) => `/${text}`) },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant('GET') },
  { weight: 3, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/) },
);
const headers = fc.record(
  {
    accept: fc.oneof(
      fc.constantFrom('text/csv', 'application/json', '*/*', 'text/csv;q=abc, */*;q=0.1', 'text/*', ''),
      anyText,
    ),
    'if-none-match': fc.oneof(fc.constantFrom('*', 'W/"x"', '"x", "y"'), anyText),
    origin: fc.oneof(fc.constantFrom('https://a.example.com', 'null'), anyText),
    'access-control-request-method': fc.constantFrom('GET', 'DELETE', ''),
  },
  { requiredKeys: [] },
);

/** Percent-encodes what can be; a lone surrogate goes as the bytes a careless client would send. */
function encode(value: string): string {
  return value
    .split(/(\p{Cs})/u)
    .map((part) => (/^\p{Cs}$/u.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

describe('the query API under property-based requests', () => {
  it('never answers 5xx; every 4xx carries a message; unknown parameters are refused; every 200 names a documented route', async () => {
    const documented = new Set<string>(ALL_ROUTE_NAMES);
    const seen = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        fc.oneof(fc.constant([]), fc.array(parameter, { maxLength: 5 })),
        headers,
        async (verb, target, parameters, sent) => {
          const query = parameters.map(([name, value, raw]) =>
            raw ? `${name}=${value}` : `${encode(name)}=${encode(value)}`,
          );
          const url = query.length
            ? `${target}${target.includes('?') ? '&' : '?'}${query.join('&')}`
            : target;
          const cleanHeaders = Object.fromEntries(
            Object.entries(sent).filter(([, value]) => value !== undefined),
          ) as Record<string, string>;
          const event = functionUrlEvent({ method: verb, url, headers: cleanHeaders });
          const result = await handler(event, localLambdaContext('query'));
          if (typeof result !== 'object' || result.statusCode === undefined)
            throw new Error('unstructured result');
          const status = result.statusCode;

          expect(status).toBeLessThan(500);
          if (status >= 400 && verb !== 'HEAD') {
            const body = JSON.parse(result.body ?? '') as { error?: unknown; message?: unknown };
            expect(typeof body.error).toBe('string');
            expect(typeof body.message === 'string' && body.message.length > 0).toBe(true);
            seen.refused++;
          }
          // The web page (`GET /`, `shared/query/web-page.ts`) is served before the API's routes.
          if (status === 200 && verb === 'GET' && !isWebAssetPath(event.rawPath)) {
            // The route functions/query.ts logs for this answer must be one the document describes.
            const answer = await answerHttpRequest(
              {
                method: 'GET',
                path: event.rawPath,
                rawQueryString: event.rawQueryString,
                headers: event.headers,
              },
              sealed,
              { allowedOrigins: '*' },
            );
            expect(answer.statusCode).toBe(200);
            expect(documented.has(answer.route ?? '')).toBe(true);
            seen.ok++;
          }
          const names = [...new URLSearchParams(event.rawQueryString)]
            .filter(([name, value]) => !(name === '' && value === ''))
            .map(([name]) => name);
          if (
            verb === 'GET' &&
            !isWebAssetPath(event.rawPath) &&
            names.some((name) => !PARAMETER_NAMES.includes(name))
          ) {
            expect([400, 404]).toContain(status);
          }
        },
      ),
      { numRuns: 400, seed: 20261202, endOnFailure: true },
    );

    // The generator reached real answers, not only refusals.
    expect(seen.ok).toBeGreaterThan(20);
    expect(seen.refused).toBeGreaterThan(20);
  }, 180_000);
});

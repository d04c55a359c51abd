import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { ALL_ROUTE_NAMES, openApiDocument } from '../../shared/query/openapi';
import { openTestStack, seed } from './support';

/**
 * The OpenAPI document against the router: every route name the router gives (`ROUTE_NAMES`,
 * `HTTP_ROUTE_NAMES`) is described, each description's example reaches that very route, and the
 * parameters described are exactly those the route's own schema accepts (the handler's 400 for an
 * unknown parameter lists them).
 */

interface XRoute {
  route: string;
  parameters: string[];
  required: string[];
  example: string;
}
interface Operation {
  operationId: string;
  parameters: { name: string; in: 'query' | 'path'; required: boolean; schema: Record<string, unknown> }[];
  'x-routes': XRoute[];
  responses: Record<string, unknown>;
}

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, [{ id: '2410.17243', listedOn: '2026-06-12', upvotes: 3, categories: ['cs.CV'] }]);
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  handler = await loadQueryHandler(stack.env);
});

afterAll(async () => {
  await stack?.close();
});

async function send(url: string) {
  const result = await handler(functionUrlEvent({ method: 'GET', url }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  return { status: result.statusCode, body: result.body ?? '' };
}

const document = openApiDocument() as { openapi: string; paths: Record<string, { get: Operation }> };
const operations = Object.entries(document.paths).map(([path, item]) => ({ path, ...item.get }));
const xRoutes = operations.flatMap((operation) =>
  operation['x-routes'].map((route) => ({ ...route, operation })),
);

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, served as JSON at GET /openapi.json', async () => {
    const served = await send('/openapi.json');

    expect(document.openapi).toBe('3.1.0');
    expect(served.status).toBe(200);
    // Served from shared/query/web/openapi.json: when this fails, `npm run openapi` rewrites it.
    expect(served.body).toBe(JSON.stringify(document));
  });

  it('describes every route the router names, each once', () => {
    expect(xRoutes.map((route) => route.route).sort()).toEqual([...ALL_ROUTE_NAMES].sort());
  });

  it.each(xRoutes.map((route) => [route.route, route] as const))(
    "%s: its example reaches it, and the parameters described are the route schema's",
    async (name, route) => {
      // The router's answer names the route: a 200 that a log would attribute to it.
      const example = await send(route.example);
      expect(example.status, example.body).toBe(200);

      const separator = route.example.includes('?') ? '&' : '?';
      const unknown = await send(`${route.example}${separator}zz-not-a-parameter=1`);
      const body = JSON.parse(unknown.body) as { parameter?: string; message: string };
      expect(unknown.status).toBe(400);
      expect(body.parameter).toBe('zz-not-a-parameter');
      const allowed = /\(allowed: ([^)]*)\)$/.exec(body.message)?.[1]?.split(', ') ?? [];
      // format belongs to the HTTP layer around the route, not the route's own schema.
      const ownParameters = route.parameters.filter((parameter) => parameter !== 'format');
      expect(allowed.sort()).toEqual(ownParameters.sort());
      if (ownParameters.length === 0) expect(body.message).toMatch(/\(it takes none\)$/);

      for (const parameter of route.parameters) {
        expect(route.operation.parameters.map((described) => described.name)).toContain(parameter);
      }
      for (const required of route.required) {
        const stripped = route.example
          .replace(new RegExp(`([?&])${required}=[^&]*&?`), '$1')
          .replace(/[?&]$/, '');
        const missing = await send(stripped);
        // Without it the request may be another route's (?from&to without category is a ranked
        // range): then that route must be documented with everything it requires present.
        const present = new Set(new URLSearchParams(stripped.split('?')[1] ?? '').keys());
        const otherRoute = xRoutes.find(
          (other) =>
            other.route !== route.route &&
            other.operation.path === route.operation.path &&
            other.required.every((name) => present.has(name)),
        );
        // (or a 400 when that route's router wants a parameter its schema leaves optional).
        if (otherRoute) expect([200, 400], `${stripped} (${otherRoute.route})`).toContain(missing.status);
        else expect(missing.status, `${stripped} without ${required}`).toBe(400);
      }
      name satisfies string;
    },
  );

  it('describes each path parameter of a path template', () => {
    for (const operation of operations) {
      const names = [...operation.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const name of names) {
        expect(operation.parameters).toContainEqual(
          expect.objectContaining({ name, in: 'path', required: true }),
        );
      }
    }
  });

  it('gives every parameter a description and a JSON schema, and every operation its error answers', () => {
    for (const operation of operations) {
      for (const parameter of operation.parameters) {
        expect(parameter, `${operation.path} ${parameter.name}`).toMatchObject({
          description: expect.any(String),
          schema: expect.objectContaining({ type: 'string' }),
        });
      }
      expect(Object.keys(operation.responses)).toEqual(
        expect.arrayContaining(['200', '304', '400', '404', '405']),
      );
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { ALL_ROUTE_NAMES, DOCUMENTED_ROUTES, openApiDocument } from '../../shared/query/openapi';
import { RepresentationQuerySchema } from '../../shared/query/representation';
import { WEB_ASSETS } from '../../shared/query/web-page';
import * as z from '../../shared/zod';
import { openTestStack, seed } from './support';

/**
 * The OpenAPI document against the router: every route name the router gives (`ROUTE_NAMES`,
 * `HTTP_ROUTE_NAMES`) is described, each description's example reaches that very route, and the
 * parameters described are exactly those the route's own schema accepts (the handler's 400 for an
 * unknown parameter lists them). Then by value: every value a route's own schema takes passes the
 * documented parameter schema of its path (several routes share `/papers`), every example's 200
 * body passes its route's schema and its path's 200 schema, and the web page's paths are there.
 */

interface XRoute {
  route: string;
  parameters: string[];
  required: string[];
  example: string;
}
interface Operation {
  operationId: string;
  parameters: {
    name: string;
    in: 'query' | 'path';
    required: boolean;
    description?: string;
    schema: Record<string, unknown>;
  }[];
  /** Empty on the web page's paths, which the JSON API's router does not name. */
  'x-routes': XRoute[];
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
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
  const headers = (result.headers ?? {}) as Record<string, string>;
  return { status: result.statusCode, body: result.body ?? '', contentType: headers['content-type'] ?? '' };
}

const document = openApiDocument() as {
  openapi: string;
  paths: Record<string, { get: Operation }>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
const operations = Object.entries(document.paths).map(([path, item]) => ({ path, ...item.get }));
const apiOperations = operations.filter((operation) => operation['x-routes'].length > 0);
const xRoutes = apiOperations.flatMap((operation) =>
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
    for (const operation of apiOperations) {
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

type RouteName = keyof typeof DOCUMENTED_ROUTES;

/**
 * Requests each route answers with a 200 on the seeded table, beyond its example: values a
 * first-seen merge of the routes sharing `/papers` documented wrongly (`sort=date`,
 * `sort=relevance`, a comma-separated `category`). Each is checked against the route's own schema
 * and sent, so the table cannot drift from what the handler takes.
 */
const KNOWN_VALID_REQUESTS: Partial<Record<RouteName, string[]>> = {
  'GET /papers?date': ['date=2026-06-12&sort=id&limit=10', 'date=2024-02-29&sort=upvotes&format=csv'],
  'GET /papers?category': ['category=cs.CV&from=2026-06-01&to=2026-06-12&limit=100', 'category=quant-ph'],
  'GET /papers?q': [
    'q=diffusion&sort=date&category=cs.CV,cs.AI&primary=true&from=2026-06-01&to=2026-06-12',
    'q=diffusion&sort=relevance&date=2026-06-12&limit=1',
  ],
  'GET /papers?from': [
    'from=2026-06-01&to=2026-06-12&sort=date&category=cs.CV,cs.AI',
    'from=2026-06-01&category=cond-mat.mes-hall,cs.CV&primary=false',
  ],
  'GET /categories': ['from=2026-06-01&to=2026-06-12'],
  'GET /quality': ['from=2026-06-06'],
  'GET /days': ['limit=1'],
};

/** Values to try on each parameter, beside the enum options of the route's own schema. */
const CANDIDATE_VALUES: Record<string, string[]> = {
  date: ['2026-06-12', '2024-02-29'],
  from: ['2026-06-01', '2026-06-12'],
  to: ['2026-06-12'],
  sort: ['upvotes', 'id', 'date', 'relevance'],
  category: ['cs.CV', 'quant-ph', 'cond-mat.mes-hall', 'cs.CV,cs.AI', 'cs.CV,cs.AI,cs.LG,stat.ML'],
  primary: ['true', 'false'],
  q: ['diffusion', 'diffusion models', 'Transformers: a survey'],
  limit: ['1', '50', '100'],
  cursor: ['abc', 'A-b_9'],
  format: ['json', 'csv'],
};

/** The enum options a parameter's own schema lists, wherever in it they are. */
function enumOptions(schema: z.core.$ZodType): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'enum' && Array.isArray(value)) found.push(...value.map(String));
        else walk(value);
      }
    }
  };
  walk(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
  return found;
}

const queryRoutes = (
  Object.entries(DOCUMENTED_ROUTES) as [RouteName, (typeof DOCUMENTED_ROUTES)[RouteName]][]
)
  .filter(([, route]) => Object.keys(route.query.shape).length > 0 || route.csv)
  .map(([name, route]) => ({ name, route }));

/** The route's own parameters, `format` included where the HTTP layer gives CSV. */
function routeShape(route: (typeof DOCUMENTED_ROUTES)[RouteName]): Record<string, z.core.$ZodType> {
  return {
    ...(route.query.shape as Record<string, z.core.$ZodType>),
    ...(route.csv ? RepresentationQuerySchema.shape : {}),
  };
}

/** Whether the route takes `query`: its own schema, and the HTTP layer's `format`. */
function routeAccepts(route: (typeof DOCUMENTED_ROUTES)[RouteName], query: Record<string, string>): boolean {
  const { format, ...own } = query;
  if (format !== undefined && !(route.csv && RepresentationQuerySchema.safeParse({ format }).success))
    return false;
  return z.safeParse(route.query, own).success;
}

function documentedParameter(path: string, name: string) {
  return document.paths[path]?.get.parameters.find(
    (parameter) => parameter.in === 'query' && parameter.name === name,
  );
}

function queryOf(url: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(url.split('?')[1] ?? ''));
}

describe('the parameters documented on a path', () => {
  it.each(queryRoutes.map(({ name, route }) => [name, route] as const))(
    '%s: every value its own schema accepts, the documented schema accepts',
    (name, route) => {
      // Prepare: bases the candidates are tried in, so a value that needs a companion (primary needs category) is tried.
      const bases = [route.example, ...(KNOWN_VALID_REQUESTS[name] ?? []).map((query) => `?${query}`)].map(
        queryOf,
      );
      const rejected: string[] = [];
      for (const [parameter, schema] of Object.entries(routeShape(route))) {
        const candidates = [...new Set([...(CANDIDATE_VALUES[parameter] ?? []), ...enumOptions(schema)])];
        // Act: the values the route's own schema takes.
        const valid = candidates.filter((value) =>
          bases.some((base) => routeAccepts(route, { ...base, [parameter]: value })),
        );
        expect(valid, `${name}: no sampled value of ${parameter} is valid`).not.toEqual([]);
        // Assess
        const documented = documentedParameter(route.path, parameter);
        expect(documented, `${route.path} documents ${parameter}`).toBeDefined();
        for (const value of valid) {
          const errors = schemaErrors(documented?.schema ?? {}, value);
          if (errors.length > 0) rejected.push(`${parameter}=${value}: ${errors.join('; ')}`);
        }
      }
      expect(rejected).toEqual([]);
    },
  );

  it.each(
    Object.entries(KNOWN_VALID_REQUESTS).flatMap(([name, queries]) =>
      (queries ?? []).map((query) => [name as RouteName, query] as const),
    ),
  )('%s takes ?%s, and the document says so', async (name, query) => {
    const route = DOCUMENTED_ROUTES[name];
    const parameters = queryOf(`?${query}`);
    expect(routeAccepts(route, parameters)).toBe(true);
    const answer = await send(`${route.path}?${query}`);
    expect(answer.status, answer.body).toBe(200);

    for (const [parameter, value] of Object.entries(parameters)) {
      const documented = documentedParameter(route.path, parameter);
      expect(schemaErrors(documented?.schema ?? {}, value), `${parameter}=${value}`).toEqual([]);
    }
  });

  it('name the routes that take a parameter when not every route on the path does', () => {
    const onPapers = Object.entries(DOCUMENTED_ROUTES).filter(([, route]) => route.path === '/papers');
    const takers = onPapers.filter(([, route]) => 'q' in route.query.shape).map(([name]) => name);
    expect(takers).toEqual(['GET /papers?q']);

    expect(documentedParameter('/papers', 'q')?.description).toMatch(/Taken by GET \/papers\?q\.$/);
  });
});

/** The schema of `path`'s 200 JSON body, and the component names it refers to. */
function okJsonSchema(path: string) {
  const schema = document.paths[path]?.get.responses['200']?.content?.['application/json']?.schema ?? {};
  const refs = [...JSON.stringify(schema).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map(
    (match) => match[1],
  );
  return { schema, refs };
}

describe('the responses documented', () => {
  it.each(Object.entries(DOCUMENTED_ROUTES).map(([name, route]) => [name, route] as const))(
    "%s: its example's 200 is what the document says, under the route's own schema and its path's",
    async (name, route) => {
      const answer = await send(route.example);
      expect(answer.status, answer.body).toBe(200);
      const content = document.paths[route.path]?.get.responses['200']?.content ?? {};
      if ('schema' in route.response) {
        const { schema, refs } = okJsonSchema(route.path);
        expect(refs, `${name} returns ${route.response.schema}`).toContain(route.response.schema);
        const body: unknown = JSON.parse(answer.body);
        const own = document.components.schemas[route.response.schema] ?? {};
        expect(schemaErrors(own, body, document), `${name} under ${route.response.schema}`).toEqual([]);
        expect(schemaErrors(schema, body, document), `${name} under ${route.path}'s 200`).toEqual([]);
      } else {
        expect(answer.contentType.split(';')[0]).toBe(route.response.mediaType);
        expect(Object.keys(content)).toContain(route.response.mediaType);
      }
    },
  );

  it('lists every page schema GET /papers can return', () => {
    const { refs } = okJsonSchema('/papers');
    const returned = Object.values(DOCUMENTED_ROUTES)
      .filter((route) => route.path === '/papers')
      .map((route) => ('schema' in route.response ? route.response.schema : route.response.mediaType));
    expect(new Set(refs)).toEqual(new Set(returned));
    expect(refs).toEqual(expect.arrayContaining(['ListedPaperPage', 'RankedPaperPage']));
  });

  it.each(['/papers?category=cs.CVV', '/papers?date=2026-02-30', '/papers?zz=1', '/papers/2410.99999'])(
    'describes the error body of %s',
    async (url) => {
      const answer = await send(url);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(
        schemaErrors(document.components.schemas.Error ?? {}, JSON.parse(answer.body), document),
      ).toEqual([]);
    },
  );
});

describe('the web page in the document', () => {
  it.each(Object.entries(WEB_ASSETS))('describes GET %s, served as %s', async (path, asset) => {
    const mediaType = asset.contentType.split(';')[0] ?? '';
    const operation = document.paths[path]?.get;
    expect(operation, `${path} is documented`).toBeDefined();
    expect(Object.keys(operation?.responses['200']?.content ?? {})).toEqual([mediaType]);

    const served = await send(path);
    expect(served.status).toBe(200);
    expect(served.contentType).toBe(asset.contentType);
  });
});

type JsonSchema = Record<string, unknown>;

/** Keywords that only annotate (JSON Schema 2020-12 treats `format` as an annotation by default). */
const ANNOTATIONS = new Set([
  'description',
  'title',
  'default',
  'examples',
  'format',
  'deprecated',
  'readOnly',
]);

/**
 * Why `value` fails `schema` (none when it passes), for the keywords the document uses: no JSON
 * Schema validator is among the dependencies, and zod's `fromJSONSchema` ignores `anyOf` beside
 * `type`. A keyword this does not know fails the check, so a new one cannot pass unseen.
 */
function schemaErrors(schema: JsonSchema, value: unknown, root?: JsonSchema, at = '$'): string[] {
  const errors: string[] = [];
  const typeOf = (v: unknown) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  for (const [keyword, expected] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-')) continue;
    const fail = (why: string) => errors.push(`${at}: ${why}`);
    switch (keyword) {
      case '$ref': {
        const name = /^#\/components\/schemas\/(.+)$/.exec(String(expected))?.[1];
        const target =
          name === undefined
            ? undefined
            : (root?.components as { schemas?: Record<string, JsonSchema> })?.schemas?.[name];
        if (!target) fail(`unresolved $ref ${String(expected)}`);
        else errors.push(...schemaErrors(target, value, root, at));
        break;
      }
      case 'type': {
        const types = Array.isArray(expected) ? expected : [expected];
        const actual = typeOf(value);
        if (!types.some((type) => type === actual || (type === 'number' && actual === 'integer')))
          fail(`is ${actual}, not ${types.join(' or ')}`);
        break;
      }
      case 'enum':
        if (!(expected as unknown[]).some((option) => JSON.stringify(option) === JSON.stringify(value)))
          fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(expected)}`);
        break;
      case 'const':
        if (JSON.stringify(expected) !== JSON.stringify(value)) fail(`is not ${JSON.stringify(expected)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(String(expected), 'u').test(value))
          fail(`${JSON.stringify(value)} does not match ${String(expected)}`);
        break;
      case 'minLength':
      case 'maxLength':
        if (typeof value === 'string') {
          const length = [...value].length;
          if (keyword === 'minLength' ? length < Number(expected) : length > Number(expected))
            fail(`length ${length} breaks ${keyword} ${String(expected)}`);
        }
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number') {
          const bound = Number(expected);
          const ok = {
            minimum: value >= bound,
            maximum: value <= bound,
            exclusiveMinimum: value > bound,
            exclusiveMaximum: value < bound,
          }[keyword];
          if (!ok) fail(`${value} breaks ${keyword} ${bound}`);
        }
        break;
      case 'minItems':
      case 'maxItems':
        if (
          Array.isArray(value) &&
          (keyword === 'minItems' ? value.length < Number(expected) : value.length > Number(expected))
        )
          fail(`${value.length} items break ${keyword} ${String(expected)}`);
        break;
      case 'items':
        if (Array.isArray(value))
          for (const [index, item] of value.entries())
            errors.push(...schemaErrors(expected as JsonSchema, item, root, `${at}[${index}]`));
        break;
      case 'required':
        if (typeOf(value) === 'object')
          for (const name of expected as string[])
            if (!Object.hasOwn(value as object, name)) fail(`lacks ${name}`);
        break;
      case 'properties':
        if (typeOf(value) === 'object')
          for (const [name, property] of Object.entries(expected as Record<string, JsonSchema>))
            if (Object.hasOwn(value as object, name))
              errors.push(
                ...schemaErrors(property, (value as Record<string, unknown>)[name], root, `${at}.${name}`),
              );
        break;
      case 'additionalProperties':
        if (typeOf(value) === 'object') {
          const known = new Set(Object.keys((schema.properties ?? {}) as object));
          for (const [name, property] of Object.entries(value as object)) {
            if (known.has(name)) continue;
            if (expected === false) fail(`has ${name}, which the schema does not allow`);
            else if (typeof expected === 'object')
              errors.push(...schemaErrors(expected as JsonSchema, property, root, `${at}.${name}`));
          }
        }
        break;
      case 'anyOf':
      case 'oneOf': {
        const passing = (expected as JsonSchema[]).filter(
          (member) => schemaErrors(member, value, root, at).length === 0,
        );
        if (passing.length === 0) fail(`matches none of its ${keyword}`);
        else if (keyword === 'oneOf' && passing.length > 1) fail(`matches ${passing.length} of its oneOf`);
        break;
      }
      case 'allOf':
        for (const member of expected as JsonSchema[]) errors.push(...schemaErrors(member, value, root, at));
        break;
      default:
        fail(`unchecked keyword ${keyword}`);
    }
  }
  return errors;
}

import { IsoDateSchema } from '../paper';
import * as z from '../zod';
import { type DayStatus, ROUTE_NAMES, type RouteName } from './handle-query';
import { HTTP_ROUTE_NAMES, type HttpRouteName, NoQuerySchema } from './http-routes';
import {
  CategoryCodeSchema,
  CategoryQuerySchema,
  DayQuerySchema,
  DaysQuerySchema,
  PaperQuerySchema,
  QualityQuerySchema,
} from './parameters';
import { CategoriesQuerySchema, RangeQuerySchema, SearchQuerySchema } from './ranked-parameters';
import { RepresentationQuerySchema } from './representation';
import {
  CategoryCountSchema,
  IngestedDaySchema,
  ListedPaperSchema,
  PaperRecordSchema,
  QualityReportSchema,
  RankedPaperSchema,
} from './response-schemas';
import { WEB_ASSETS, type WebAssetPath } from './web-page';

/**
 * The query API's OpenAPI 3.1 document, generated from the zod schemas the handler validates
 * its parameters with and the store validates its items with (zod's `toJSONSchema`): no copy to
 * drift. Each route is described once below, keyed by the name the router gives it
 * (`ROUTE_NAMES`, `HTTP_ROUTE_NAMES`), so a route added without a description fails the type
 * check, and `test/query/openapi.test.ts` checks the parameters against the handler's answers.
 * Routes sharing a path (the four on `/papers`) are one operation: each parameter's schema accepts
 * what any of them accepts and the 200 lists every body they return. The web page's paths
 * (`web-page.ts`) are described too, though the JSON API's router does not name them.
 */

interface RouteDescription {
  /** The OpenAPI path template. */
  path: string;
  summary: string;
  /** The route's query parameters: the very schema the handler parses them with. */
  query: z.ZodMiniObject;
  pathParameters?: Record<string, { schema: z.core.$ZodType; description: string }>;
  /** The 200 body: a JSON schema name in `components.schemas`, or a media type of its own. */
  response: { schema: string } | { mediaType: string; description: string };
  /** Whether `format=csv` / `Accept: text/csv` gives CSV. */
  csv: boolean;
  /** A request that this route answers with a 200 on a table holding 2026-06-12. */
  example: string;
}

const QUERY_ROUTES: Record<RouteName, RouteDescription> = {
  'GET /papers?date': {
    path: '/papers',
    summary:
      'Papers listed on one day, most upvoted first (sort=upvotes) or by id (sort=id, stable for exports)',
    query: DayQuerySchema,
    response: { schema: 'DayPaperPage' },
    csv: true,
    example: '/papers?date=2026-06-12',
  },
  'GET /papers?category': {
    path: '/papers',
    summary:
      'Papers assigned an arXiv category and listed within [from, to] (at most 366 days; 30 days ending today by default), by day then id',
    query: CategoryQuerySchema,
    response: { schema: 'ListedPaperPage' },
    csv: true,
    example: '/papers?category=cs.CV&from=2026-06-01&to=2026-06-12',
  },
  'GET /papers?q': {
    path: '/papers',
    summary:
      'Keyword search over titles, abstracts and authors, each paper once, best match first (sort=relevance, ties by upvotes) or newest first (sort=date)',
    query: SearchQuerySchema,
    response: { schema: 'RankedPaperPage' },
    csv: true,
    example: '/papers?q=diffusion',
  },
  'GET /papers?from': {
    path: '/papers',
    summary:
      'Papers listed within [from, to], each once with the days it was listed, most upvoted (sort=upvotes) or latest first (sort=date); optionally in categories (any assigned, or primary=true)',
    query: RangeQuerySchema,
    response: { schema: 'RankedPaperPage' },
    csv: true,
    example: '/papers?from=2026-06-01&to=2026-06-12',
  },
  'GET /papers/{id}': {
    path: '/papers/{id}',
    summary: 'One paper with every day it was listed and its upvotes on each',
    query: PaperQuerySchema,
    pathParameters: {
      id: {
        schema: z.string(),
        description:
          'An arXiv id without version (2410.17243, hep-th/9901001: its slash as is or as %2F), or a title- id as the API returned it',
      },
    },
    response: { schema: 'PaperRecord' },
    csv: true,
    example: '/papers/2410.17243',
  },
  'GET /categories': {
    path: '/categories',
    summary: 'The number of papers per category listed within [from, to] (30 days ending today by default)',
    query: CategoriesQuerySchema,
    response: { schema: 'CategoryCounts' },
    csv: true,
    example: '/categories?from=2026-06-01&to=2026-06-12',
  },
  'GET /quality': {
    path: '/quality',
    summary:
      "The shipped model against arXiv on the enriched papers listed within [from, to] (7 days ending today by default): per day and in total, how often the model's first category is arXiv's primary, is one of arXiv's categories, and how often arXiv's primary is in its top 3; with the model's validation figures",
    query: QualityQuerySchema,
    response: { schema: 'QualityReport' },
    csv: true,
    example: '/quality?from=2026-06-06&to=2026-06-12',
  },
  'GET /days': {
    path: '/days',
    summary: 'The ingested days, newest first, with their paper counts',
    query: DaysQuerySchema,
    response: { schema: 'IngestedDayPage' },
    csv: true,
    example: '/days',
  },
};

const HTTP_ROUTES: Record<HttpRouteName, RouteDescription> = {
  'GET /health': {
    path: '/health',
    summary: 'Whether the API can read its table (200), or not (503); never cached',
    query: NoQuerySchema,
    response: { schema: 'Health' },
    csv: false,
    example: '/health',
  },
  'GET /openapi.json': {
    path: '/openapi.json',
    summary: 'This document',
    query: NoQuerySchema,
    response: { mediaType: 'application/json', description: 'An OpenAPI 3.1 document' },
    csv: false,
    example: '/openapi.json',
  },
  'GET /feeds/daily.xml': {
    path: '/feeds/daily.xml',
    summary: 'An Atom feed of the latest listing day, most upvoted first',
    query: NoQuerySchema,
    response: { mediaType: 'application/atom+xml', description: 'An Atom feed (RFC 4287)' },
    csv: false,
    example: '/feeds/daily.xml',
  },
  'GET /feeds/categories/{code}.xml': {
    path: '/feeds/categories/{code}.xml',
    summary: "An Atom feed of one arXiv category's papers over the last 14 days, newest first",
    query: NoQuerySchema,
    pathParameters: {
      code: { schema: CategoryCodeSchema, description: 'An arXiv category code such as cs.CV' },
    },
    response: { mediaType: 'application/atom+xml', description: 'An Atom feed (RFC 4287)' },
    csv: false,
    example: '/feeds/categories/cs.CV.xml',
  },
};

/** Every route, with the name the router gives it. */
export const DOCUMENTED_ROUTES: Readonly<Record<RouteName | HttpRouteName, RouteDescription>> = {
  ...QUERY_ROUTES,
  ...HTTP_ROUTES,
};

/** The web page and its files (`web-page.ts`), which the query function serves before the JSON API. */
const WEB_PAGE: Record<WebAssetPath, { operationId: string; summary: string }> = {
  '/': {
    operationId: 'getWebPage',
    summary: 'A web page to browse and search the papers, calling this API from its own origin',
  },
  '/web/page.css': { operationId: 'getWebPageStyleSheet', summary: "The web page's style sheet" },
  '/web/page.js': { operationId: 'getWebPageScript', summary: "The web page's script" },
};

/** What a parameter is for, when its schema does not say (`.describe()` on it takes precedence). */
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  date: 'A listing day, YYYY-MM-DD',
  sort: 'The order: on a day upvotes (the default; a live ranking) or id (stable); on a range upvotes or date; on a search relevance or date',
  q: 'Words to search for in titles, abstracts and authors (stemmed: transformers finds transformer)',
  primary:
    'true: only papers whose primary category is one of those named; false (the default): any assigned',
  category:
    'An arXiv category code such as cs.CV, math.OC or quant-ph (case-sensitive); on a search or a ranked range, several comma-separated (cs.CV,cs.AI: papers assigned any of them)',
  from: 'First listing day of the range, YYYY-MM-DD (inclusive)',
  to: 'Last listing day of the range, YYYY-MM-DD (inclusive)',
  limit: 'Items per page, 1 to 100 (default 50)',
  cursor: 'The cursor of the previous page of the same query, unchanged (opaque and signed)',
};

const ErrorBodySchema = z.object({
  error: z.enum(['BadRequest', 'NotFound', 'MethodNotAllowed', 'Unavailable']),
  message: z.string(),
  parameter: z.optional(z.string()).check(z.describe('On a 400: the parameter at fault')),
  suggestions: z
    .optional(z.array(z.string()))
    .check(
      z.describe(
        "On some 400s: values the client may have meant (an unknown category's nearest known codes)",
      ),
    ),
});

const HealthSchema = z.object({
  status: z.literal('ok'),
  latestDay: z
    .nullable(z.string())
    .check(z.describe('The newest ingested day, null before the first ingest')),
});

const pageOf = (item: z.core.$ZodType) =>
  z.object({
    items: z.array(item),
    cursor: z
      .optional(z.string())
      .check(z.describe('Present when more items follow: pass it back as cursor')),
  });

const DayStatusSchema = z
  .object({ date: IsoDateSchema, status: z.enum(['has-papers', 'fetched-empty', 'not-fetched']) })
  .check(
    z.describe(
      'What is known of the day: it has papers, it was fetched and held none (a weekend), or it was never fetched; an empty list alone cannot tell',
    ),
  );
// The handler's type and this schema say the same (a compile error when one changes alone).
true satisfies [z.infer<typeof DayStatusSchema>, DayStatus] extends [
  DayStatus,
  z.infer<typeof DayStatusSchema>,
]
  ? true
  : false;

const COMPONENT_SCHEMAS: Record<string, z.core.$ZodType> = {
  DayPaperPage: z.object({ ...pageOf(ListedPaperSchema).shape, day: DayStatusSchema }),
  ListedPaperPage: pageOf(ListedPaperSchema),
  PaperRecord: PaperRecordSchema,
  IngestedDayPage: pageOf(IngestedDaySchema),
  RankedPaperPage: pageOf(RankedPaperSchema),
  CategoryCounts: z.object({ items: z.array(CategoryCountSchema), from: z.string(), to: z.string() }),
  QualityReport: QualityReportSchema,
  Health: HealthSchema,
  Error: ErrorBodySchema,
};

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

interface Parameter {
  name: string;
  in: 'query' | 'path';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

/**
 * Parameters the handler splits at commas into a list (`category=cs.CV,cs.AI`). Their input is a
 * string a transform splits, which zod cannot describe, so each is documented from the list it
 * becomes ({@link commaSeparatedSchema}).
 */
const COMMA_SEPARATED: ReadonlySet<z.core.$ZodType> = new Set([
  RangeQuerySchema.shape.category,
  SearchQuerySchema.shape.category,
]);

/** A comma-separated list as a string: the list's item pattern, repeated as often as the list allows. */
function commaSeparatedSchema(field: z.core.$ZodType): JsonSchema {
  const list = jsonSchema(field, 'output') as { items?: JsonSchema; minItems?: number; maxItems?: number };
  const item = list.items ?? {};
  // zod anchors its patterns; inside the list they are one part of a longer match.
  const itemPattern =
    typeof item.pattern === 'string' ? item.pattern.replace(/^\^/, '').replace(/\$$/, '') : '[^,]*';
  const fewest = Math.max(list.minItems ?? 1, 1);
  const most = list.maxItems;
  const repeats = `{${fewest - 1},${most === undefined ? '' : most - 1}}`;
  const itemLength = typeof item.maxLength === 'number' ? item.maxLength : undefined;
  return {
    type: 'string',
    pattern: `^(?:${itemPattern})(?:,(?:${itemPattern}))${repeats}$`,
    ...(most !== undefined && itemLength !== undefined ? { maxLength: most * itemLength + most - 1 } : {}),
  };
}

function queryParameters(description: RouteDescription): Parameter[] {
  const shape = { ...description.query.shape, ...(description.csv ? RepresentationQuerySchema.shape : {}) };
  return Object.entries(shape).map(([name, field]) => {
    const schema = field as z.core.$ZodType;
    return {
      name,
      in: 'query',
      required: !z.safeParse(schema, undefined).success,
      description: z.globalRegistry.get(schema)?.description ?? PARAMETER_DESCRIPTIONS[name],
      schema: COMMA_SEPARATED.has(schema) ? commaSeparatedSchema(schema) : jsonSchema(schema, 'input'),
    };
  });
}

/** `text` ending as a sentence, so notes can follow it. */
const sentence = (text: string | undefined) =>
  text === undefined || /[.!?]$/.test(text) ? text : `${text}.`;

/**
 * One parameter of the routes sharing a path, as the routes that take it (`taken`) take it: its
 * schema accepts every value any of them accepts (an `anyOf` of theirs when they differ, each
 * member naming its routes), it is required only when every route on the path requires it, and
 * its description names the routes that take it when not all do.
 */
function mergeParameter(taken: { route: string; parameter: Parameter }[], routesOnPath: number): Parameter {
  const [first] = taken;
  if (!first) throw new Error('mergeParameter needs a route that takes the parameter');
  const bySchema = new Map<string, { schema: JsonSchema; routes: string[] }>();
  for (const { route, parameter } of taken) {
    const key = JSON.stringify(parameter.schema);
    const group = bySchema.get(key) ?? { schema: parameter.schema, routes: [] };
    group.routes.push(route);
    bySchema.set(key, group);
  }
  const groups = [...bySchema.values()];
  const types = new Set(groups.map((group) => JSON.stringify(group.schema.type)));
  const schema: JsonSchema =
    groups.length === 1
      ? first.parameter.schema
      : {
          // Query values are strings on every route: said once, so a tool need not read the anyOf for it.
          ...(types.size === 1 ? { type: groups[0]?.schema.type } : {}),
          anyOf: groups.map((group) => ({
            ...group.schema,
            description: [group.routes.join(', '), group.schema.description].filter(Boolean).join(': '),
          })),
        };
  const routes = taken.map(({ route }) => route);
  const notes = [
    ...(taken.length < routesOnPath ? [`Taken by ${routes.join(', ')}.`] : []),
    ...(groups.length > 1
      ? ['Its values differ by route: each member of the anyOf names the routes it is for.']
      : []),
  ];
  return {
    ...first.parameter,
    required: taken.length === routesOnPath && taken.every(({ parameter }) => parameter.required),
    description:
      notes.length === 0
        ? first.parameter.description
        : [sentence(first.parameter.description), ...notes].filter(Boolean).join(' '),
    schema,
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

/** The document, as served at `GET /openapi.json`. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, { get: Record<string, unknown> }> = {};
  const byPath = new Map<string, [string, RouteDescription][]>();
  for (const [name, description] of Object.entries(DOCUMENTED_ROUTES)) {
    byPath.set(description.path, [...(byPath.get(description.path) ?? []), [name, description]]);
  }
  for (const [path, routes] of byPath) {
    // Routes on one path (GET /papers?date, ?category) are one operation: its parameters are
    // the union, each accepting what any route accepts (`mergeParameter`); `x-routes` says which goes with which.
    const taken = new Map<string, { route: string; parameter: Parameter }[]>();
    const variants = routes.map(([name, description]) => {
      const own = queryParameters(description);
      for (const parameter of own)
        taken.set(parameter.name, [...(taken.get(parameter.name) ?? []), { route: name, parameter }]);
      return {
        route: name,
        summary: description.summary,
        parameters: own.map((parameter) => parameter.name),
        required: own.filter((parameter) => parameter.required).map((parameter) => parameter.name),
        example: description.example,
      };
    });
    const parameters = [...taken.values()].map((routesTaking) => mergeParameter(routesTaking, routes.length));
    const [, first] = routes[0] ?? [];
    if (!first) continue;
    const pathParameters = Object.entries(first.pathParameters ?? {}).map(([name, parameter]) => ({
      name,
      in: 'path',
      required: true,
      description: parameter.description,
      schema: jsonSchema(parameter.schema, 'input'),
    }));
    // Every body schema the path's routes return, each naming its routes. anyOf, not oneOf: an
    // empty page ({"items": []}) is a page of every kind at once.
    const bodies = new Map<string, string[]>();
    const okContent: Record<string, unknown> = {};
    for (const [name, description] of routes) {
      const { response } = description;
      if ('schema' in response) bodies.set(response.schema, [...(bodies.get(response.schema) ?? []), name]);
      else okContent[response.mediaType] = { schema: { type: 'string', description: response.description } };
    }
    if (bodies.size === 1) okContent['application/json'] = { schema: ref([...bodies.keys()][0] ?? '') };
    else if (bodies.size > 1) {
      okContent['application/json'] = {
        schema: {
          anyOf: [...bodies].map(([schema, names]) => ({ ...ref(schema), description: names.join(', ') })),
        },
      };
    }
    if (bodies.size > 0 && routes.some(([, description]) => description.csv)) {
      okContent['text/csv'] = { schema: { type: 'string' } };
    }
    paths[path] = {
      get: {
        operationId: operationId(path),
        summary:
          variants.length === 1
            ? variants[0]?.summary
            : `One of ${variants.map((variant) => variant.route).join(', ')}`,
        ...(variants.length > 1
          ? {
              description: variants.map((variant) => `- \`${variant.route}\`: ${variant.summary}`).join('\n'),
            }
          : {}),
        parameters: [...pathParameters, ...parameters],
        'x-routes': variants,
        responses: {
          200: {
            description: 'OK (with ETag and Cache-Control; HEAD gives the same headers without a body)',
            content: okContent,
          },
          304: { description: 'Not modified: If-None-Match named the current ETag' },
          400: errorResponse('A bad, missing, repeated or unknown parameter (named in `parameter`)'),
          404: errorResponse('No such route or paper'),
          405: errorResponse('A method other than GET, HEAD or OPTIONS'),
          ...(path === '/health' ? { 503: errorResponse('The table cannot be read') } : {}),
        },
      },
    };
  }
  for (const [path, page] of Object.entries(WEB_PAGE) as [WebAssetPath, (typeof WEB_PAGE)[WebAssetPath]][]) {
    const mediaType = WEB_ASSETS[path].contentType.split(';')[0] ?? 'text/plain';
    paths[path] = {
      get: {
        operationId: page.operationId,
        summary: page.summary,
        description:
          "Served by the query function itself, before the JSON API, with its HTTP semantics: HEAD gives GET's status and headers without the body, OPTIONS a 204 with Allow, any other method a 405; any query string ignored, cached for 5 minutes, under a Content-Security-Policy that allows only this origin",
        parameters: [],
        // The JSON API's router names none of these: no route, no example to check against it.
        'x-routes': [],
        responses: {
          200: {
            description: 'OK',
            content: { [mediaType]: { schema: { type: 'string' } } },
          },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'daily-papers query API',
      version: '1',
      description:
        'Read-only access to the Hugging Face Daily Papers listings ingested by daily-papers-pipeline. ' +
        'JSON by default; list and record routes give CSV with format=csv or Accept: text/csv. ' +
        'Every route of the JSON API also answers HEAD and OPTIONS (CORS preflight). ' +
        'The web page (GET /) and its files are served beside it.',
    },
    servers: [{ url: '/' }],
    security: [{ sigv4: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(
        Object.entries(COMPONENT_SCHEMAS).map(([name, schema]) => [name, jsonSchema(schema, 'output')]),
      ),
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 for service lambda (the Function URL is AWS_IAM); the local server needs none',
        },
      },
    },
  };
}

function operationId(path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return `get${words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join('')}`;
}

/** Every route name the router gives, for tests: the query handler's and the HTTP layer's. */
export const ALL_ROUTE_NAMES: readonly (RouteName | HttpRouteName)[] = [...ROUTE_NAMES, ...HTTP_ROUTE_NAMES];

import * as z from '../zod';
import { ROUTE_NAMES, type RouteName } from './handle-query';
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

/**
 * The query API's OpenAPI 3.1 document, generated from the zod schemas the handler validates
 * its parameters with and the store validates its items with (zod's `toJSONSchema`): no copy to
 * drift. Each route is described once below, keyed by the name the router gives it
 * (`ROUTE_NAMES`, `HTTP_ROUTE_NAMES`), so a route added without a description fails the type
 * check, and `test/query/openapi.test.ts` checks the parameters against the handler's answers.
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
    response: { schema: 'ListedPaperPage' },
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

/** What a parameter is for, when its schema does not say (`.describe()` on it takes precedence). */
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  date: 'A listing day, YYYY-MM-DD',
  sort: 'The order: on a day upvotes (the default; a live ranking) or id (stable); on a range upvotes or date; on a search relevance or date',
  q: 'Words to search for in titles, abstracts and authors (stemmed: transformers finds transformer)',
  primary:
    'true: only papers whose primary category is one of those named; false (the default): any assigned',
  category: 'An arXiv category code such as cs.CV, math.OC or quant-ph (case-sensitive)',
  from: 'First listing day of the range, YYYY-MM-DD (inclusive)',
  to: 'Last listing day of the range, YYYY-MM-DD (inclusive)',
  limit: 'Items per page, 1 to 100 (default 50)',
  cursor: 'The cursor of the previous page of the same query, unchanged (opaque and signed)',
};

const ErrorBodySchema = z.object({
  error: z.enum(['BadRequest', 'NotFound', 'MethodNotAllowed', 'Unavailable']),
  message: z.string(),
  parameter: z.optional(z.string()).check(z.describe('On a 400: the parameter at fault')),
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

const COMPONENT_SCHEMAS: Record<string, z.core.$ZodType> = {
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

function queryParameters(description: RouteDescription): Parameter[] {
  const shape = { ...description.query.shape, ...(description.csv ? RepresentationQuerySchema.shape : {}) };
  return Object.entries(shape).map(([name, field]) => {
    const schema = field as z.core.$ZodType;
    return {
      name,
      in: 'query',
      required: !z.safeParse(schema, undefined).success,
      description: z.globalRegistry.get(schema)?.description ?? PARAMETER_DESCRIPTIONS[name],
      schema: jsonSchema(schema, 'input'),
    };
  });
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
    // the union, required only where every route requires them; `x-routes` says which goes with which.
    const parameters = new Map<string, Parameter>();
    const variants = routes.map(([name, description]) => {
      const own = queryParameters(description);
      for (const parameter of own)
        if (!parameters.has(parameter.name)) parameters.set(parameter.name, parameter);
      return {
        route: name,
        summary: description.summary,
        parameters: own.map((parameter) => parameter.name),
        required: own.filter((parameter) => parameter.required).map((parameter) => parameter.name),
        example: description.example,
      };
    });
    for (const [name, parameter] of parameters) {
      parameters.set(name, {
        ...parameter,
        required: variants.every((variant) => variant.required.includes(name)),
      });
    }
    const [, first] = routes[0] ?? [];
    if (!first) continue;
    const pathParameters = Object.entries(first.pathParameters ?? {}).map(([name, parameter]) => ({
      name,
      in: 'path',
      required: true,
      description: parameter.description,
      schema: jsonSchema(parameter.schema, 'input'),
    }));
    const ok = routes.map(([, description]) => description.response);
    const okContent: Record<string, unknown> = {};
    for (const response of ok) {
      if ('schema' in response) {
        okContent['application/json'] = { schema: ref(response.schema) };
        if (first.csv) okContent['text/csv'] = { schema: { type: 'string' } };
      } else {
        okContent[response.mediaType] = { schema: { type: 'string', description: response.description } };
      }
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
        parameters: [...pathParameters, ...parameters.values()],
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
  return {
    openapi: '3.1.0',
    info: {
      title: 'daily-papers query API',
      version: '1',
      description:
        'Read-only access to the Hugging Face Daily Papers listings ingested by daily-papers-pipeline. ' +
        'JSON by default; list and record routes give CSV with format=csv or Accept: text/csv. ' +
        'Every route also answers HEAD and OPTIONS (CORS preflight).',
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

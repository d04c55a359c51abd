import * as z from 'zod';
import { AllowedOriginsSchema } from './query/cors';

/**
 * Environment schemas, one per function, checked once at cold start: a
 * misconfigured function fails at load with a message that names the variable,
 * not halfway through a batch.
 */

/** Set only locally: point the SDK clients at the stand-ins (see `shared/aws.ts`). Unset on AWS. */
const s3Endpoint = { AWS_ENDPOINT_URL_S3: z.url().optional() };
const sqsEndpoint = { AWS_ENDPOINT_URL_SQS: z.url().optional() };
const dynamoEndpoint = { AWS_ENDPOINT_URL_DYNAMODB: z.url().optional() };

/**
 * What bounds one fetch-listing run: attempts and their timeout, the longest wait between
 * attempts, the pages of a day and the pause between them. Their worst case
 * (`fetchRunBudgetMs`) must fit in the function's timeout; the stack checks it at synth.
 */
export const FetchRunEnvSchema = z.object({
  /** One attempt, from the request to the last byte of the body. */
  FETCH_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  FETCH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  /** The longest wait between two attempts, a `Retry-After` included. */
  FETCH_BACKOFF_MAX_MS: z.coerce.number().int().nonnegative().default(15_000),
  /** Pages of one day at most (the HF API at `limit=100`: 500 papers; a day has had fewer than 150). */
  FETCH_MAX_PAGES: z.coerce.number().int().min(1).max(50).default(5),
  /** Pause between pages of one listing: HF allows ~500 unauthenticated requests per 5 minutes. */
  FETCH_PAGE_DELAY_MS: z.coerce.number().int().nonnegative().default(1_000),
});
export type FetchRunEnv = z.infer<typeof FetchRunEnvSchema>;

/** {@link FetchRunEnv} as the fetch options and `fetchRunBudgetMs` name them. */
export function fetchRunSettings(env: FetchRunEnv) {
  return {
    timeoutMs: env.FETCH_TIMEOUT_MS,
    maxAttempts: env.FETCH_MAX_ATTEMPTS,
    backoffMaxMs: env.FETCH_BACKOFF_MAX_MS,
    maxPages: env.FETCH_MAX_PAGES,
    pageDelayMs: env.FETCH_PAGE_DELAY_MS,
  };
}

/**
 * The arXiv export API, for enrichment (`shared/arxiv/`). On AWS the stack always sets
 * `ARXIV_API_URL` (CDK context `arxivApiUrl`, default `http://export.arxiv.org/api/query`);
 * locally enrichment is off unless it is set, and arXiv papers wait as `pending`.
 */
export const ArxivEnvSchema = z.object({
  ARXIV_API_URL: z.url().optional(),
  /** The least time between two requests to arXiv, across every process (arXiv asks for 3 s). */
  ARXIV_REQUEST_SPACING_MS: z.coerce.number().int().positive().default(3_000),
  /** One attempt at arXiv, from the request to the last byte; past it the papers stay pending. */
  ARXIV_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  ARXIV_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  ARXIV_USER_AGENT: z
    .string()
    .min(1)
    .default(
      'daily-papers-pipeline/0.1 (+https://github.com/daily-papers-pipeline; categories of the papers HF Daily Papers lists; one request per 100 ids, 3 s apart)',
    ),
});
export type ArxivEnv = z.infer<typeof ArxivEnvSchema>;

export const FetchListingEnvSchema = z.object({
  ...s3Endpoint,
  ...sqsEndpoint,
  ...dynamoEndpoint,
  /** The day fetched is recorded in the table, so an empty day still counts as ingested. */
  TABLE_NAME: z.string().min(1),
  ARCHIVE_BUCKET: z.string().min(1),
  PARSE_QUEUE_URL: z.url(),
  /** Listing URL template; `{date}` is replaced by the listing day. */
  LISTING_URL_TEMPLATE: z
    .string()
    .includes('{date}')
    .default('https://huggingface.co/api/daily_papers?date={date}&limit=100'),
  USER_AGENT: z
    .string()
    .min(1)
    .default('daily-papers-pipeline/0.1 (+https://github.com/daily-papers-pipeline; polite daily fetch)'),
  ...FetchRunEnvSchema.shape,
  /** The largest listing body accepted; a larger one is refused while it streams in. */
  FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  /**
   * Requests to the upstream per 5 minutes, pages and retries included, for every fetch this
   * process makes (a local backfill runs many days in one process). HF allows ~500: half is polite.
   */
  FETCH_MAX_REQUESTS_PER_5_MIN: z.coerce.number().positive().default(250),
  /** The first day the template's source has a listing for; earlier days are refused. Default: HF Daily Papers'. */
  LISTING_FIRST_DAY: z.iso.date().default('2023-05-01'),
  ...ArxivEnvSchema.shape,
  /** A revisit sends the day's listings arXiv has since answered for to the classify queue. */
  CLASSIFY_QUEUE_URL: z.url().optional(),
});
export type FetchListingEnv = z.infer<typeof FetchListingEnvSchema>;

export const ParsePaperEnvSchema = z.object({
  ...dynamoEndpoint,
  ...sqsEndpoint,
  ...s3Endpoint,
  TABLE_NAME: z.string().min(1),
  /** An item too large for its message is read from the archived listing (`listings/…`). */
  ARCHIVE_BUCKET: z.string().min(1),
  CLASSIFY_QUEUE_URL: z.url(),
  /** The parse queue's dead-letter queue: a record that cannot succeed is sent there with its reason. */
  PARSE_DEAD_LETTER_QUEUE_URL: z.url(),
});
export type ParsePaperEnv = z.infer<typeof ParsePaperEnvSchema>;

export const ClassifyPaperEnvSchema = z.object({
  ...dynamoEndpoint,
  ...sqsEndpoint,
  TABLE_NAME: z.string().min(1),
  /** The classify queue's dead-letter queue: a record that cannot succeed is sent there with its reason. */
  CLASSIFY_DEAD_LETTER_QUEUE_URL: z.url(),
});
export type ClassifyPaperEnv = z.infer<typeof ClassifyPaperEnvSchema>;

export const QueryEnvSchema = z
  .object({
    ...dynamoEndpoint,
    /** Set only locally, where a test serves Secrets Manager's protocol. */
    AWS_ENDPOINT_URL_SECRETS_MANAGER: z.url().optional(),
    TABLE_NAME: z.string().min(1),
    /** The key cursors are sealed with (locally: generated into the data folder). */
    QUERY_CURSOR_KEY: z.string().min(32).optional(),
    /** On AWS: the generated secret holding that key, read once per cold start. */
    QUERY_CURSOR_KEY_SECRET_ARN: z.string().startsWith('arn:').optional(),
    /** `*` (the default) or the origins, comma-separated, whose browser scripts may read the API. */
    QUERY_CORS_ALLOWED_ORIGINS: AllowedOriginsSchema,
  })
  .superRefine((env, context) => {
    if ((env.QUERY_CURSOR_KEY === undefined) === (env.QUERY_CURSOR_KEY_SECRET_ARN === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['QUERY_CURSOR_KEY'],
        message: 'set either QUERY_CURSOR_KEY or QUERY_CURSOR_KEY_SECRET_ARN (exactly one)',
      });
    }
  });
export type QueryEnv = z.infer<typeof QueryEnvSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` (default `process.env`) with `schema`; throws a {@link ConfigError} naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${issues}`);
  }
  return result.data;
}

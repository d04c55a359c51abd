import { NonEmptyStringSchema } from '../common-schemas';
import * as z from '../zod';
import { ArxivEnvSchema } from './arxiv';
import { dynamoEndpoint, s3Endpoint, sqsEndpoint } from './endpoints';

/** fetch-listing's environment, checked once at cold start (see `shared/config.ts`). */

/**
 * What bounds one fetch-listing run: attempts and their timeout, the longest wait between
 * attempts, the pages of a day and the pause between them. Their worst case
 * (`fetchRunBudgetMs`) must fit in the function's timeout; the stack checks it at synth.
 */
export const FetchRunEnvSchema = z.object({
  /** One attempt, from the request to the last byte of the body. */
  FETCH_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.positive()), 15_000),
  FETCH_MAX_ATTEMPTS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10)), 4),
  /** The longest wait between two attempts, a `Retry-After` included. */
  FETCH_BACKOFF_MAX_MS: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 15_000),
  /** Pages of one day at most (the HF API at `limit=100`: 500 papers; a day has had fewer than 150). */
  FETCH_MAX_PAGES: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(50)), 5),
  /** Pause between pages of one listing: HF allows ~500 unauthenticated requests per 5 minutes. */
  FETCH_PAGE_DELAY_MS: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 1_000),
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

export const FetchListingEnvSchema = z.object({
  ...s3Endpoint,
  ...sqsEndpoint,
  ...dynamoEndpoint,
  /** The day fetched is recorded in the table, so an empty day still counts as ingested. */
  TABLE_NAME: NonEmptyStringSchema,
  ARCHIVE_BUCKET: NonEmptyStringSchema,
  PARSE_QUEUE_URL: z.url(),
  /** Listing URL template; `{date}` is replaced by the listing day. */
  LISTING_URL_TEMPLATE: z._default(
    z.string().check(z.includes('{date}')),
    'https://huggingface.co/api/daily_papers?date={date}&limit=100',
  ),
  USER_AGENT: z._default(
    NonEmptyStringSchema,
    'daily-papers-pipeline/0.1 (+https://github.com/daily-papers-pipeline; polite daily fetch)',
  ),
  ...FetchRunEnvSchema.shape,
  /** The largest listing body accepted; a larger one is refused while it streams in. */
  FETCH_MAX_BYTES: z._default(z.coerce.number().check(z.int(), z.positive()), 32 * 1024 * 1024),
  /**
   * Requests to the upstream per 5 minutes, pages and retries included, for every fetch this
   * process makes (a local backfill runs many days in one process). HF allows ~500: half is polite.
   */
  FETCH_MAX_REQUESTS_PER_5_MIN: z._default(z.coerce.number().check(z.positive()), 250),
  /** The first day the template's source has a listing for; earlier days are refused. Default: HF Daily Papers'. */
  LISTING_FIRST_DAY: z._default(z.iso.date(), '2023-05-01'),
  ...ArxivEnvSchema.shape,
  /** A revisit sends the day's listings arXiv has since answered for to the classify queue. */
  CLASSIFY_QUEUE_URL: z.optional(z.url()),
});
export type FetchListingEnv = z.infer<typeof FetchListingEnvSchema>;

import { NonEmptyStringSchema } from '../common-schemas';
import * as z from '../zod';

/**
 * The arXiv export API, for enrichment (`shared/arxiv/`): read by fetch-listing and by
 * `papers enrich`. On AWS the stack always sets `ARXIV_API_URL` (CDK context `arxivApiUrl`,
 * default `http://export.arxiv.org/api/query`); locally enrichment is off unless it is set, and
 * arXiv papers wait as `pending`.
 */
export const ArxivEnvSchema = z.object({
  ARXIV_API_URL: z.optional(z.url()),
  /** The least time between two requests to arXiv, across every process (arXiv asks for 3 s). */
  ARXIV_REQUEST_SPACING_MS: z._default(z.coerce.number().check(z.int(), z.positive()), 3_000),
  /** One attempt at arXiv, from the request to the last byte; past it the papers stay pending. */
  ARXIV_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.positive()), 15_000),
  ARXIV_MAX_ATTEMPTS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10)), 3),
  ARXIV_USER_AGENT: z._default(
    NonEmptyStringSchema,
    'daily-papers-pipeline/0.1 (+https://github.com/daily-papers-pipeline; categories of the papers HF Daily Papers lists; one request per 100 ids, 3 s apart)',
  ),
});
export type ArxivEnv = z.infer<typeof ArxivEnvSchema>;

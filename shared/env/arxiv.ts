import * as z from 'zod';

/**
 * The arXiv export API, for enrichment (`shared/arxiv/`): read by fetch-listing and by
 * `papers enrich`. On AWS the stack always sets `ARXIV_API_URL` (CDK context `arxivApiUrl`,
 * default `http://export.arxiv.org/api/query`); locally enrichment is off unless it is set, and
 * arXiv papers wait as `pending`.
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

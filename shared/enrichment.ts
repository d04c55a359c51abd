import { NonEmptyStringSchema } from './common-schemas';
import * as z from './zod';

/**
 * What arXiv itself says about a paper (the export API, `shared/arxiv/`), as stored on its listing
 * item, carried by the parse and classify messages and returned by the query API. Defined apart
 * from the client so the store, the messages and the API depend on the shape, not on the fetching.
 */

const timestamp = z.iso.datetime({ offset: true });

/** The fields the export API gives that HF does not, and where the answer is archived. */
export const ArxivRecordSchema = z.object({
  /** arXiv's categories in arXiv's order: the primary first. */
  categories: z.array(NonEmptyStringSchema).check(z.minLength(1)),
  /** The authors' comment (pages, figures, venue). */
  comment: z.optional(NonEmptyStringSchema),
  journalRef: z.optional(NonEmptyStringSchema),
  doi: z.optional(NonEmptyStringSchema),
  /** The latest version (`…v3` → 3). */
  version: z.optional(z.number().check(z.int(), z.positive())),
  /** When the latest version was submitted (`<updated>`). */
  versionUpdated: z.optional(timestamp),
  /** The archived Atom response (`arxiv/<yyyy>/<mm>/<dd>/<sha256>.xml`) the fields were read from. */
  atomArchiveKey: NonEmptyStringSchema,
  /** When arXiv gave the answer (its capture time). */
  enrichedAt: timestamp,
});
export type ArxivRecord = z.infer<typeof ArxivRecordSchema>;

/**
 * Where a paper stands with arXiv: `enriched` (its categories are arXiv's), `pending` (arXiv was
 * down, slow or not asked: `papers enrich` and the daily revisit ask again), `missing` (arXiv
 * answered without it), `not-arxiv` (a `title-` id: the model's categories are all there is).
 */
export const EnrichmentStateSchema = z.enum(['enriched', 'pending', 'missing', 'not-arxiv']);
export type EnrichmentState = z.infer<typeof EnrichmentStateSchema>;

/** What the enrichment found for one paper, as the parse and classify messages carry it. */
export const PaperEnrichmentSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('enriched'), arxiv: ArxivRecordSchema }),
  z.object({ state: z.enum(['pending', 'missing', 'not-arxiv']) }),
]);
export type PaperEnrichment = z.infer<typeof PaperEnrichmentSchema>;

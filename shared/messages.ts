import { NonEmptyStringSchema, NonNegativeIntSchema } from './common-schemas';
import { PaperEnrichmentSchema } from './enrichment';
import { IsoDateSchema, ListingFormatSchema, PaperSchema } from './paper';
import { ListingOriginSchema } from './store/items';
import * as z from './zod';

/**
 * The queue messages between the stages, one schema each. A body that fails
 * its schema is a bad record: it is reported as failed and, after the queue's
 * maxReceiveCount, lands in the dead-letter queue without holding back its batch.
 *
 * Messages carry a version so a later change of shape can be told apart from a
 * bad message while old ones are still in flight (or are redriven from a DLQ).
 */

/** What the whole listing says about every item: where its bytes are archived and when they were fetched. */
export const ListingRefSchema = z.object({
  archiveKey: NonEmptyStringSchema,
  fetchedAt: z.iso.datetime({ offset: true }),
  /** The listing day the listing was fetched for, when one was asked for. */
  listedOn: z.optional(IsoDateSchema),
  url: z.optional(NonEmptyStringSchema),
});
export type ListingRef = z.infer<typeof ListingRefSchema>;

/** fetch-listing → parse queue, v1: one raw item cut from an archived listing, carried whole. */
export const ParseItemMessageSchema = z.object({
  v: z.literal(1),
  listing: ListingRefSchema,
  item: z.object({
    format: ListingFormatSchema,
    index: NonNegativeIntSchema,
    raw: z.unknown(),
    listedOn: z.optional(IsoDateSchema),
  }),
  /** What arXiv said about the paper, when fetch-listing asked (see `shared/arxiv/enrich.ts`). */
  enrichment: z.optional(PaperEnrichmentSchema),
});
export type ParseItemMessage = z.infer<typeof ParseItemMessageSchema>;

/**
 * fetch-listing → parse queue, v2: an item too large for one SQS message (a collaboration paper
 * with thousands of authors, a huge abstract), sent as where it is: parse-paper reads the archived
 * listing (`listing.archiveKey`) and cuts item `index` out of it with the same splitter.
 */
export const ParseReferenceMessageSchema = z.object({
  v: z.literal(2),
  listing: ListingRefSchema,
  ref: z.object({
    format: ListingFormatSchema,
    index: NonNegativeIntSchema,
  }),
  enrichment: z.optional(PaperEnrichmentSchema),
});
export type ParseReferenceMessage = z.infer<typeof ParseReferenceMessageSchema>;

/** What the parse queue carries: an item (v1) or a reference to one in the archive (v2). */
export const ParseMessageSchema = z.discriminatedUnion('v', [
  ParseItemMessageSchema,
  ParseReferenceMessageSchema,
]);
export type ParseMessage = z.infer<typeof ParseMessageSchema>;

/** parse-paper → classify queue, v1: one stored paper listing, to classify, carried whole. */
export const ClassifyPaperMessageSchema = z.object({
  v: z.literal(1),
  paper: PaperSchema,
  origin: ListingOriginSchema,
  /**
   * What arXiv said about the paper: its categories are stored as the paper's when `enriched`.
   * Absent (an older message, a reclassify): the model's categories, and a stored enrichment kept.
   */
  enrichment: z.optional(PaperEnrichmentSchema),
});
export type ClassifyPaperMessage = z.infer<typeof ClassifyPaperMessageSchema>;

/**
 * parse-paper → classify queue, v2: a stored listing whose paper is too large for one SQS
 * message, sent as where it is: classify-paper reads the paper from its listing item.
 */
export const ClassifyReferenceMessageSchema = z.object({
  v: z.literal(2),
  paperId: NonEmptyStringSchema,
  origin: ListingOriginSchema,
  /** As in v1; `papers enrich` sends the stored pending listings this way, with arXiv's answer. */
  enrichment: z.optional(PaperEnrichmentSchema),
});
export type ClassifyReferenceMessage = z.infer<typeof ClassifyReferenceMessageSchema>;

/** What the classify queue carries: a paper (v1) or a reference to its stored listing (v2). */
export const ClassifyMessageSchema = z.discriminatedUnion('v', [
  ClassifyPaperMessageSchema,
  ClassifyReferenceMessageSchema,
]);
export type ClassifyMessage = z.infer<typeof ClassifyMessageSchema>;

/** A queue message body that is not JSON or does not match its schema. */
export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

/** Parses a message body with `schema`; throws a {@link MalformedMessageError} that says what is wrong. */
export function parseMessage<S extends z.core.$ZodType>(schema: S, body: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedMessageError(`message body is not JSON: ${(error as Error).message}`);
  }
  const result = z.safeParse(schema, json);
  if (!result.success) {
    throw new MalformedMessageError(`message does not match its schema: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/** The most days back a revisit may reach (upvotes on HF settle within one to two weeks). */
export const MAX_REVISIT_DAYS = 30;

/**
 * fetch-listing's input. The daily schedule sends `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }`,
 * and its revisit schedules `{ "scheduledTime": …, "daysAgo": k }`; a person can invoke it with
 * `{ "date": "2026-06-12" }` (a backfill) or a `url` (another feed), and name the listing's origin
 * with `recordAs` when `url` only serves it for this run.
 * The day is `date`, else the UTC day of `scheduledTime`, else today (UTC), moved back `daysAgo`
 * days; a day that cannot have a listing is refused by fetch-listing (`shared/listing/listing-days.ts`).
 */
export const FetchListingRequestSchema = z.object({
  date: z.optional(IsoDateSchema),
  scheduledTime: z.optional(z.iso.datetime({ offset: true })),
  url: z.optional(z.url()),
  /**
   * The URL recorded with the listing (archive metadata, parse messages, report) instead of `url`,
   * when the bytes are only served from `url` for this run: a saved file the local runner serves on
   * 127.0.0.1, an archived listing replayed.
   */
  recordAs: z.optional(z.url()),
  /**
   * When the bytes were captured, for a listing saved or archived earlier and served again now:
   * its papers carry this time (not the time of this run's HTTP fetch), so replaying an older
   * capture never overwrites a newer one. Absent for a live fetch.
   */
  fetchedAt: z.optional(z.iso.datetime({ offset: true })),
  /**
   * A revisit: the listing of this many days before the day, fetched again for its moving upvotes
   * and comments. Bytes the archive already holds are not fanned out again (nothing changed).
   */
  daysAgo: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_REVISIT_DAYS))),
});
export type FetchListingRequest = z.infer<typeof FetchListingRequestSchema>;

/** fetch-listing was invoked with something that is not a {@link FetchListingRequest}. */
export class FetchRequestError extends Error {
  override name = 'FetchRequestError';
}

/** Reads fetch-listing's event. @throws FetchRequestError saying which field is wrong. */
export function parseFetchRequest(event: unknown): FetchListingRequest {
  const result = FetchListingRequestSchema.safeParse(event ?? {});
  if (!result.success) {
    throw new FetchRequestError(`not a fetch request: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/** The listing day a fetch request stands for. */
export function requestedDay(
  request: FetchListingRequest,
  now: Date = new Date(),
): z.infer<typeof IsoDateSchema> {
  const day =
    request.date ??
    (request.scheduledTime ? new Date(request.scheduledTime) : now).toISOString().slice(0, 10);
  if (request.daysAgo === undefined) return day;
  return new Date(Date.parse(day) - request.daysAgo * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

import { classifyPaper } from '../classify';
import { arxivClassification } from '../classify/arxiv-categories';
import type { PaperEnrichment } from '../enrichment';
import { type ClassifyMessage, ClassifyMessageSchema, parseMessage } from '../messages';
import type { IsoDate, Paper } from '../paper';
import type { EnrichmentFields } from '../store/items';
import {
  ListingNotStoredError,
  type ListingWrite,
  type ListingWriteOutcome,
  type PaperStore,
} from '../store/paper-store';
import type { BatchStage, ProcessedRecord, RecordFailure } from './sqs-batch';

/**
 * classify-paper's domain: classify a listed paper, then store the batch's listings, each in
 * one piece with its categories, its category entries and its upvote snapshot (one read and
 * one transaction for the batch: `PaperStore.storeListings`, which writes the keyword postings in
 * the same transaction), then the steps that follow a stored listing (the day counts, and whatever
 * else is given as a {@link StoredListingStep}).
 */

/** A classified listing, ready to store. */
export type ClassifiedListing = ListingWrite;

/** A listing the batch stored (or found already stored), with what the write did. */
export interface StoredListing {
  messageId: string;
  write: ListingWrite;
  outcome: ListingWriteOutcome;
}

/**
 * A step run after the batch's listings are stored, with those stored (stale ones excluded: the
 * newer fetch's message does its steps). Idempotent, as a failed record is redone from the start.
 * Returns the records it could not finish; those alone are retried.
 */
export type StoredListingStep = (stored: readonly StoredListing[]) => Promise<readonly RecordFailure[]>;

/**
 * Classifies one classify-queue message. A reference message (a paper too large for SQS)
 * reads the paper from its stored listing first.
 * @throws MalformedMessageError for a bad message; ListingNotStoredError when a referenced listing is missing.
 */
export async function classifyListedPaper(body: string, store: PaperStore): Promise<ClassifiedListing> {
  const message = parseMessage(ClassifyMessageSchema, body);
  const { origin } = message;
  const { paper, enrichment } = await paperToClassify(message, store);
  return {
    paper: { ...paper, listedOn: origin.listedOn },
    origin,
    ...classifyWithEnrichment(paper, enrichment),
  };
}

/**
 * The paper's categories: arXiv's when arXiv answered for it, else the feed's own (arXiv feeds),
 * else the model's. The model runs on every paper all the same, and its ranking is kept beside
 * (`predictedCategories`), so the API shows both and nothing is lost when arXiv is wrong or late.
 */
export function classifyWithEnrichment(
  paper: Paper,
  enrichment: PaperEnrichment | undefined,
): Pick<ListingWrite, 'classification' | 'predictedCategories' | 'arxiv' | 'enrichment'> {
  const predicted = classifyPaper({ title: paper.title, abstract: paper.abstract });
  const predictedCategories = predicted.categories;
  if (enrichment?.state === 'enriched') {
    return {
      classification: arxivClassification(enrichment.arxiv.categories, predicted),
      predictedCategories,
      arxiv: enrichment.arxiv,
      enrichment: 'enriched',
    };
  }
  const classification = paper.sourceCategories?.length
    ? classifyPaper({
        title: paper.title,
        abstract: paper.abstract,
        sourceCategories: paper.sourceCategories,
      })
    : predicted;
  return { classification, predictedCategories, ...(enrichment ? { enrichment: enrichment.state } : {}) };
}

/**
 * The paper and what arXiv said about it: the message's enrichment; for a reference message that
 * carries none (a reclassify), the stored one, so a new model never replaces arXiv's categories.
 */
async function paperToClassify(
  message: ClassifyMessage,
  store: PaperStore,
): Promise<{ paper: Paper; enrichment?: PaperEnrichment }> {
  if (message.v === 1) return { paper: message.paper, enrichment: message.enrichment };
  const stored = await store.listedPaperWithEnrichment(message.paperId, message.origin.listedOn);
  if (!stored) {
    throw new ListingNotStoredError(
      `paper ${message.paperId} is not stored as listed on ${message.origin.listedOn}`,
    );
  }
  return { paper: stored.paper, enrichment: message.enrichment ?? storedEnrichment(stored.enrichment) };
}

function storedEnrichment(fields: EnrichmentFields): PaperEnrichment | undefined {
  if (fields.enrichment === 'enriched' && fields.arxiv) return { state: 'enriched', arxiv: fields.arxiv };
  if (fields.enrichment && fields.enrichment !== 'enriched') return { state: fields.enrichment };
  return undefined;
}

/**
 * Stores the batch's listings, then runs `steps` in turn on those stored. A listing that could
 * not be written fails alone, and so does one whose step failed (it does not go on to the
 * next step): its redelivery writes nothing new and redoes the steps.
 */
export async function storeClassifiedListings(
  records: readonly ProcessedRecord<ClassifiedListing>[],
  store: PaperStore,
  steps: readonly StoredListingStep[],
): Promise<RecordFailure[]> {
  const results = await store.storeListings(records.map(({ result }) => result));
  const failures: RecordFailure[] = [];
  let stored: StoredListing[] = [];
  records.forEach(({ messageId, result: write }, index) => {
    const result = results[index];
    if (!result) failures.push({ messageId, error: new Error('the store gave no result for this listing') });
    else if (result.error) failures.push({ messageId, error: result.error });
    else if (result.outcome !== 'stale') stored.push({ messageId, write, outcome: result.outcome });
  });
  for (const step of steps) {
    const failed = await step(stored).catch((thrown: unknown) => {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      return stored.map(({ messageId }) => ({ messageId, error }));
    });
    const failedIds = new Set(failed.map(({ messageId }) => messageId));
    failures.push(...failed);
    stored = stored.filter(({ messageId }) => !failedIds.has(messageId));
  }
  return failures;
}

/**
 * Adds the stored listings' papers to their days (`DAYS` / `<day>`), one update per day. A day
 * that could not be recorded fails its records alone.
 */
export function recordListedDays(store: PaperStore): StoredListingStep {
  return async (stored) => {
    const byDay = new Map<IsoDate, StoredListing[]>();
    for (const listing of stored) {
      const day = listing.write.origin.listedOn;
      byDay.set(day, [...(byDay.get(day) ?? []), listing]);
    }
    const failures: RecordFailure[] = [];
    await Promise.all(
      [...byDay].map(async ([day, listings]) => {
        try {
          await store.recordListedDays(new Map([[day, listings.map(({ write }) => write.paper.id)]]));
        } catch (thrown) {
          const error = thrown instanceof Error ? thrown : new Error(String(thrown));
          for (const { messageId } of listings) failures.push({ messageId, error });
        }
      }),
    );
    return failures;
  };
}

/**
 * classify-paper's stage. After the listings are stored (their keyword postings with them): the
 * day counts, then any `extraSteps`.
 */
export function classifyStage(
  store: PaperStore,
  extraSteps: readonly StoredListingStep[] = [],
): BatchStage<ClassifiedListing> {
  const steps = [recordListedDays(store), ...extraSteps];
  return {
    processRecord: (body) => classifyListedPaper(body, store),
    afterBatch: (records) => storeClassifiedListings(records, store, steps),
  };
}

import { classifyPaper } from '../classify';
import { type ClassifyMessage, ClassifyMessageSchema, parseMessage } from '../messages';
import type { Paper } from '../paper';
import { type CategoryChanges, ListingNotStoredError, type PaperStore } from '../store/paper-store';
import type { BatchStage, ProcessedRecord, RecordFailure } from './sqs-batch';

/**
 * classify-paper's domain: classify a stored listing's paper, store the
 * categories on the listing, and index it under each assigned category.
 */

/**
 * Classifies one classify-queue message and stores the result on its listing. A reference
 * message (a paper too large for SQS) reads the paper from its stored listing first.
 * @throws MalformedMessageError for a bad message; ListingNotStoredError when the listing is missing.
 */
export async function classifyStoredPaper(body: string, store: PaperStore): Promise<CategoryChanges> {
  const message = parseMessage(ClassifyMessageSchema, body);
  const { origin } = message;
  const paper = await paperToClassify(message, store);
  const classification = classifyPaper({
    title: paper.title,
    abstract: paper.abstract,
    sourceCategories: paper.sourceCategories,
  });
  return store.putClassification({
    paper,
    listedOn: origin.listedOn,
    fetchedAt: origin.fetchedAt,
    classification,
  });
}

async function paperToClassify(message: ClassifyMessage, store: PaperStore): Promise<Paper> {
  if (message.v === 1) return message.paper;
  const paper = await store.listedPaper(message.paperId, message.origin.listedOn);
  if (!paper) {
    throw new ListingNotStoredError(
      `paper ${message.paperId} is not stored as listed on ${message.origin.listedOn}`,
    );
  }
  return paper;
}

/**
 * Writes the batch's category entries; a record whose entries could not all be written
 * fails alone (its redelivery stores the same classification and writes them again).
 */
export async function writeCategoryEntries(
  records: readonly ProcessedRecord<CategoryChanges>[],
  store: PaperStore,
): Promise<RecordFailure[]> {
  const failures = await store.applyCategoryChanges(records.map(({ result }) => result));
  return [...failures].flatMap(([index, error]) => {
    const record = records[index];
    return record ? [{ messageId: record.messageId, error }] : [];
  });
}

export function classifyStage(store: PaperStore): BatchStage<CategoryChanges> {
  return {
    processRecord: (body) => classifyStoredPaper(body, store),
    afterBatch: (records) => writeCategoryEntries(records, store),
  };
}

import type { PaperStore } from '../store/paper-store';
import type { StoredListing } from './parse-stage';
import type { ProcessedRecord, RecordFailure } from './sqs-batch';

/**
 * parse-paper's hook into keyword search: after a batch of listings is stored, their postings are
 * brought in line with the text the table holds, in as few batch writes as the batch allows.
 *
 * A stale write (the table holds a newer fetch) indexes nothing: the newer fetch's message does. A
 * record whose postings could not all be written fails alone, and its redelivery (which stores the
 * same listing again, idempotently) indexes it again.
 */
export async function indexStoredListings(
  records: readonly ProcessedRecord<StoredListing>[],
  store: Pick<PaperStore, 'indexForSearch'>,
): Promise<RecordFailure[]> {
  const indexed = records.filter(({ result }) => result.outcome !== 'stale');
  const failures = await store.indexForSearch(
    indexed.map(({ result }) => ({ id: result.paper.id, listedOn: result.origin.listedOn })),
  );
  return [...failures].flatMap(([index, error]) => {
    const record = indexed[index];
    return record ? [{ messageId: record.messageId, error }] : [];
  });
}

import type { PaperStore } from '../store/paper-store';
import type { StoredListingStep } from './classify-stage';

/**
 * Keyword search's step in classify-paper, after the batch's listings are stored: their postings
 * are brought in line with the text the table holds, in as few batch writes as the batch allows.
 *
 * Stale writes (the table holds a newer fetch) never reach a step: the newer fetch's message
 * indexes. A listing whose postings could not all be written fails alone, and its redelivery
 * (which stores the same listing again, idempotently) indexes it again. The same text again
 * writes nothing: the store compares it with the listing's search marker.
 */
export function indexStoredListings(store: Pick<PaperStore, 'indexForSearch'>): StoredListingStep {
  return async (stored) => {
    const failures = await store.indexForSearch(
      stored.map(({ write }) => ({ id: write.paper.id, listedOn: write.origin.listedOn })),
    );
    return [...failures].flatMap(([index, error]) => {
      const record = stored[index];
      return record ? [{ messageId: record.messageId, error }] : [];
    });
  };
}

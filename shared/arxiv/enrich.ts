import type { S3Client } from '@aws-sdk/client-s3';
import { archivedKeysOfDay, archiveListing, readArchivedCapture } from '../archive';
import type { PaperEnrichment } from '../enrichment';
import { type FetchOptions, ListingFetchError } from '../fetch/http';
import { ListingParseError } from '../listing/errors';
import { arxivIdFrom, type IsoDate } from '../paper';
import { archiveBucket } from '../resources';
import { type ArxivEntry, arxivEntriesOf } from './atom-records';
import { arxivQueryUrl, fetchArxivAnswer, idBatches } from './client';

/**
 * Enrichment: what arXiv says about the papers of one listing day, paper by paper. Three sources
 * share one shape, so fetch-listing, `papers enrich` and `papers replay` run the same code after:
 * - {@link liveArxivEnrichment}: the export API, ≤100 ids per request through the request gate,
 *   each answer archived (`arxiv/<day>/<sha256>.xml`) before it is used;
 * - {@link archivedArxivEnrichment}: the answers archived for the day, read back with no network;
 * - {@link enrichmentOff}: no arXiv configured (a local quick start): every arXiv paper pending.
 *
 * A source never throws for arXiv's sake: arXiv down, hanging or answering junk leaves the papers
 * of that request `pending`, arXiv answering without a paper leaves it `missing`, and the
 * pipeline goes on. Only the archive's own failures (S3) throw, as for a listing.
 */
export type EnrichmentSource = (
  ids: readonly string[],
  listedOn: IsoDate,
  run?: EnrichmentRun,
) => Promise<Map<string, PaperEnrichment>>;

/** The run an enrichment is part of. */
export interface EnrichmentRun {
  /** When the run must be done (ms since the epoch): no attempt at arXiv starts that could not finish by then. */
  deadline?: number;
}

/** An id that is an arXiv id (`2606.13677`, `hep-th/9901001`), not one made from a title. */
export function isArxivId(id: string): boolean {
  return arxivIdFrom(id) === id;
}

export interface LiveArxivEnrichmentOptions {
  /** The export API's query URL (`ARXIV_API_URL`). */
  baseUrl: string;
  /** Retries, timeout, User-Agent and the request gate (`limiter`). */
  fetch: FetchOptions;
  s3: S3Client;
  bucket: string;
  /** Told of a request whose papers stay pending, and why. */
  onPending?: (problem: string, ids: readonly string[]) => void;
  /** Told of each answer: how many ids were asked, how many arXiv knew. */
  onAnswer?: (answer: { url: string; asked: number; found: number; archiveKey: string }) => void;
}

export function liveArxivEnrichment(options: LiveArxivEnrichmentOptions): EnrichmentSource {
  return async (ids, listedOn) => {
    const result = notArxiv(ids);
    for (const batch of idBatches(ids.filter(isArxivId))) {
      let entries: Map<string, ArxivEntry>;
      let answer: { bytes: Uint8Array; fetchedAt: string; contentType?: string };
      try {
        answer = await fetchArxivAnswer(options.baseUrl, batch, options.fetch);
        entries = arxivEntriesOf(answer.bytes);
      } catch (error) {
        if (!(error instanceof ListingFetchError || error instanceof ListingParseError)) throw error;
        options.onPending?.(error.message, batch);
        for (const id of batch) result.set(id, { state: 'pending' });
        continue;
      }
      const url = arxivQueryUrl(options.baseUrl, batch);
      const archived = await archiveListing(options.s3, options.bucket, {
        bytes: answer.bytes,
        listedOn,
        url,
        fetchedAt: answer.fetchedAt,
        contentType: answer.contentType,
        format: 'arxiv-atom',
        parseStatus: 'parsed',
        items: entries.size,
        prefix: archiveBucket.arxivPrefix,
      });
      options.onAnswer?.({ url, asked: batch.length, found: entries.size, archiveKey: archived.key });
      setFound(result, batch, entries, { atomArchiveKey: archived.key, enrichedAt: archived.fetchedAt });
    }
    return result;
  };
}

/**
 * The answers archived for the day, newest capture winning per paper: a replay enriches as the
 * live run did, with no network. A paper no archived answer holds is `pending` (whether arXiv was
 * asked about it cannot be told from the archive; `papers enrich` asks again).
 */
export function archivedArxivEnrichment(archive: { s3: S3Client; bucket: string }): EnrichmentSource {
  return async (ids, listedOn) => {
    const result = notArxiv(ids);
    const answers: { key: string; fetchedAt: string; entries: Map<string, ArxivEntry> }[] = [];
    for (const key of await archivedKeysOfDay(
      archive.s3,
      archive.bucket,
      listedOn,
      archiveBucket.arxivPrefix,
    )) {
      const capture = await readArchivedCapture(archive.s3, archive.bucket, key);
      if (!capture.fetchedAt) continue;
      answers.push({ key, fetchedAt: capture.fetchedAt, entries: arxivEntriesOf(capture.bytes) });
    }
    answers.sort((a, b) => a.fetchedAt.localeCompare(b.fetchedAt));
    const wanted = ids.filter(isArxivId);
    for (const id of wanted) result.set(id, { state: 'pending' });
    for (const answer of answers) {
      const found = new Map([...answer.entries].filter(([id]) => result.has(id)));
      setFound(result, [], found, { atomArchiveKey: answer.key, enrichedAt: answer.fetchedAt });
    }
    return result;
  };
}

/** No arXiv to ask: arXiv papers wait as `pending` (`papers enrich` fills them once one is set). */
export function enrichmentOff(): EnrichmentSource {
  return async (ids) => {
    const result = notArxiv(ids);
    for (const id of ids.filter(isArxivId)) result.set(id, { state: 'pending' });
    return result;
  };
}

function notArxiv(ids: readonly string[]): Map<string, PaperEnrichment> {
  return new Map(
    ids.filter((id) => !isArxivId(id)).map((id) => [id, { state: 'not-arxiv' } satisfies PaperEnrichment]),
  );
}

/** Each asked id arXiv answered for becomes `enriched`; each asked id it did not, `missing`. */
function setFound(
  result: Map<string, PaperEnrichment>,
  asked: readonly string[],
  entries: ReadonlyMap<string, ArxivEntry>,
  where: { atomArchiveKey: string; enrichedAt: string },
): void {
  for (const id of asked) if (!entries.has(id)) result.set(id, { state: 'missing' });
  for (const [id, entry] of entries) {
    if (asked.length > 0 && !asked.includes(id)) continue;
    result.set(id, { state: 'enriched', arxiv: { ...entry, ...where } });
  }
}

import { type FetchedListing, type FetchOptions, fetchListing } from '../fetch/http';

/**
 * The arXiv export API (`/api/query?id_list=…`): up to {@link MAX_IDS_PER_REQUEST} ids per
 * request, through the listing fetch's retries, timeout and `Retry-After` handling, and through a
 * limiter that spaces every request to arXiv (`request-gate.ts`: 3 s apart, one at a time).
 */

/** The export API answers at most this many ids per `id_list` with `max_results` set to match. */
export const MAX_IDS_PER_REQUEST = 100;

export const DEFAULT_ARXIV_API_URL = 'http://export.arxiv.org/api/query';

/** The query URL for `ids` (without versions): `?id_list=a,b,c&max_results=3`. */
export function arxivQueryUrl(baseUrl: string, ids: readonly string[]): string {
  const url = new URL(baseUrl);
  url.searchParams.set('id_list', ids.join(','));
  url.searchParams.set('max_results', String(ids.length));
  return url.toString();
}

/** `ids` in requests of at most {@link MAX_IDS_PER_REQUEST}, in their order, without repeats. */
export function idBatches(ids: readonly string[], size = MAX_IDS_PER_REQUEST): string[][] {
  const unique = [...new Set(ids)];
  const batches: string[][] = [];
  for (let start = 0; start < unique.length; start += size) batches.push(unique.slice(start, start + size));
  return batches;
}

/**
 * Asks the export API about `ids` (at most {@link MAX_IDS_PER_REQUEST}).
 * @throws ListingFetchError when arXiv cannot be reached, refuses, or every attempt timed out.
 */
export async function fetchArxivAnswer(
  baseUrl: string,
  ids: readonly string[],
  options: FetchOptions,
): Promise<FetchedListing> {
  if (ids.length === 0 || ids.length > MAX_IDS_PER_REQUEST) {
    throw new RangeError(`one arXiv request takes 1 to ${MAX_IDS_PER_REQUEST} ids, got ${ids.length}`);
  }
  return fetchListing(arxivQueryUrl(baseUrl, ids), {
    ...options,
    accept: 'application/atom+xml, application/xml;q=0.9, */*;q=0.8',
  });
}

import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { archivedKeysOfDay } from '../archive';
import { archivedArxivEnrichment } from '../arxiv/enrich';
import { type IsoDate, IsoDateSchema } from '../paper';
import { type IngestedListing, type IngestTargets, ingestListingBytes } from '../pipeline/ingest-listing';

/**
 * Replay: a day's archived raw listings sent through parse and classify again, with no
 * network. Each listing goes through the same splitter and messages as when it was fetched,
 * under its own metadata (source URL, first capture time, listing day), so the rows it ends in
 * are the ones a fresh ingest of the same bytes gives (arXiv's answers are read from their archive,
 * `arxiv/<day>/`, not asked again); an older capture never overwrites a newer
 * one (the store orders writes by `fetchedAt`). The day's fetch record (`DAYS`) is left as it is:
 * nothing was fetched.
 */

/** What the archive's object metadata says about a listing (written by `archiveListing`). */
const ArchivedListingMetadataSchema = z.object({
  'source-url': z.string().min(1),
  'fetched-at': z.iso.datetime({ offset: true }),
  'listed-on': IsoDateSchema,
});

/** An archived object whose metadata does not say where and when its bytes were captured. */
export class UnreadableArchivedListingError extends Error {
  override name = 'UnreadableArchivedListingError';
}

export interface ArchivedListing {
  key: string;
  bytes: Uint8Array;
  url: string;
  fetchedAt: string;
  listedOn: IsoDate;
  contentType?: string;
}

/** The keys of every listing archived for `day`. */
export async function archivedListingKeys(s3: S3Client, bucket: string, day: IsoDate): Promise<string[]> {
  return archivedKeysOfDay(s3, bucket, day);
}

/** @throws UnreadableArchivedListingError when the object's metadata is missing or wrong. */
export async function readArchivedListingWithMetadata(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<ArchivedListing> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const metadata = ArchivedListingMetadataSchema.safeParse(object.Metadata ?? {});
  if (!metadata.success) {
    throw new UnreadableArchivedListingError(
      `s3://${bucket}/${key}: its metadata does not say where and when it was captured: ${z.prettifyError(metadata.error)}`,
    );
  }
  if (!object.Body) throw new UnreadableArchivedListingError(`s3://${bucket}/${key} has no body`);
  return {
    key,
    bytes: await object.Body.transformToByteArray(),
    url: metadata.data['source-url'],
    fetchedAt: metadata.data['fetched-at'],
    listedOn: metadata.data['listed-on'],
    contentType: object.ContentType,
  };
}

/**
 * Sends every listing archived for `day` to the parse queue again, oldest capture first.
 * @throws UnreadableArchivedListingError for an object without its capture metadata.
 * @throws MalformedListingError for archived bytes that no longer parse (a parser regression).
 */
export async function replayArchivedDay(day: IsoDate, given: IngestTargets): Promise<IngestedListing[]> {
  // arXiv's answers as archived for the day, never the network: the enrichment the live run had.
  const targets = { ...given, enrich: given.enrich ?? archivedArxivEnrichment(given) };
  const listings: ArchivedListing[] = [];
  for (const key of await archivedListingKeys(targets.s3, targets.bucket, day)) {
    listings.push(await readArchivedListingWithMetadata(targets.s3, targets.bucket, key));
  }
  listings.sort((a, b) => a.fetchedAt.localeCompare(b.fetchedAt));
  const replayed: IngestedListing[] = [];
  for (const listing of listings) {
    replayed.push(
      await ingestListingBytes(
        {
          bytes: listing.bytes,
          url: listing.url,
          fetchedAt: listing.fetchedAt,
          contentType: listing.contentType,
          listedOn: listing.listedOn,
        },
        targets,
      ),
    );
  }
  return replayed;
}

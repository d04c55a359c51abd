import { createHash } from 'node:crypto';
import { HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { IsoDate, ListingFormat } from './paper';
import { archiveBucket } from './resources';

/**
 * The raw-listing archive. Keys are date-partitioned and content-addressed:
 *
 *   `listings/<yyyy>/<mm>/<dd>/<sha256 of the bytes>.<ext>`
 *
 * - the same bytes fetched again map to the same key, and the object is not
 *   written again (a HEAD first; S3 versioning would otherwise add a version);
 * - a changed listing for the same day gets a new key beside the old one;
 * - a day's listings are one prefix, so a replay or a backfill lists them
 *   without reading anything else.
 *
 * The object's metadata records what the fetch knew: where the bytes came from,
 * when, the listing day asked for, the detected format and whether it parsed.
 */

export interface ArchiveRequest {
  bytes: Uint8Array;
  listedOn: IsoDate;
  url: string;
  fetchedAt: string;
  contentType?: string;
  /** The detected format, or `unknown` when detection failed. */
  format: ListingFormat | 'unknown';
  /** `parsed`, or `malformed` when the listing could not be parsed as a whole. */
  parseStatus: 'parsed' | 'malformed';
  items: number;
}

export interface ArchivedListing {
  key: string;
  /** False when identical bytes were already archived under the same key. */
  written: boolean;
}

const EXTENSION: Record<ArchiveRequest['format'], string> = {
  'hf-api': 'json',
  'hf-html': 'html',
  'hf-text': 'txt',
  'arxiv-atom': 'xml',
  'arxiv-rss': 'xml',
  unknown: 'bin',
};

export function listingArchiveKey(
  listedOn: IsoDate,
  bytes: Uint8Array,
  format: ArchiveRequest['format'],
): string {
  const [year, month, day] = listedOn.split('-');
  const digest = createHash('sha256').update(bytes).digest('hex');
  return `${archiveBucket.listingsPrefix}${year}/${month}/${day}/${digest}.${EXTENSION[format]}`;
}

/** Archives a listing's raw bytes unless the same bytes are already there. */
export async function archiveListing(
  s3: S3Client,
  bucket: string,
  request: ArchiveRequest,
): Promise<ArchivedListing> {
  const key = listingArchiveKey(request.listedOn, request.bytes, request.format);
  if (await objectExists(s3, bucket, key)) return { key, written: false };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: request.bytes,
      ContentType: request.contentType ?? 'application/octet-stream',
      Metadata: {
        'source-url': request.url,
        'fetched-at': request.fetchedAt,
        'listed-on': request.listedOn,
        format: request.format,
        'parse-status': request.parseStatus,
        items: String(request.items),
      },
    }),
  );
  return { key, written: true };
}

async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

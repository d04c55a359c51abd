import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
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
 * `fetched-at` is the first capture of these bytes: archiving the same bytes again
 * returns it, so a replay carries the original capture time, not the replay's.
 *
 * Bytes that are not a listing (an HTML error page, an empty body, a junk file) are
 * kept the same way under `quarantine/<yyyy>/<mm>/<dd>/…`, apart from the real
 * listings (a lifecycle rule expires them), with `quarantine-reason` saying why.
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
  /** Why the bytes are not a listing, for `malformed` ones (they go to the quarantine). */
  reason?: string;
  /** Where `parsed` bytes go. @default archiveBucket.listingsPrefix (an arXiv API answer: `arxivPrefix`) */
  prefix?: string;
}

export interface ArchivedListing {
  key: string;
  /** False when identical bytes were already archived under the same key. */
  written: boolean;
  /** The capture time the archive holds for these bytes: the first one archived. */
  fetchedAt: string;
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
  prefix: string = archiveBucket.listingsPrefix,
): string {
  const digest = createHash('sha256').update(bytes).digest('hex');
  return `${listingDayPrefix(listedOn, prefix)}${digest}.${EXTENSION[format]}`;
}

/** The prefix every archived listing of `listedOn` is under (`listings/<yyyy>/<mm>/<dd>/`): a replay lists it. */
export function listingDayPrefix(listedOn: IsoDate, prefix: string = archiveBucket.listingsPrefix): string {
  const [year, month, day] = listedOn.split('-');
  return `${prefix}${year}/${month}/${day}/`;
}

/** Where bytes that are not a listing are kept (see the module comment). */
export function quarantineKey(
  listedOn: IsoDate,
  bytes: Uint8Array,
  format: ArchiveRequest['format'],
): string {
  return listingArchiveKey(listedOn, bytes, format, archiveBucket.quarantinePrefix);
}

/**
 * Archives a listing's raw bytes unless the same bytes are already there; a `malformed` one
 * goes to the quarantine. Returns the capture time the archive holds (the first one).
 */
export async function archiveListing(
  s3: S3Client,
  bucket: string,
  request: ArchiveRequest,
): Promise<ArchivedListing> {
  const key =
    request.parseStatus === 'malformed'
      ? quarantineKey(request.listedOn, request.bytes, request.format)
      : listingArchiveKey(request.listedOn, request.bytes, request.format, request.prefix);
  const existing = await archivedMetadata(s3, bucket, key);
  if (existing) {
    const first = FetchedAtSchema.safeParse(existing['fetched-at']);
    return { key, written: false, fetchedAt: first.success ? first.data : request.fetchedAt };
  }
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
        ...(request.reason ? { 'quarantine-reason': metadataText(request.reason) } : {}),
      },
    }),
  );
  return { key, written: true, fetchedAt: request.fetchedAt };
}

/** The raw bytes of an archived listing (parse-paper reads an item too large for its message). */
export async function readArchivedListing(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return object.Body.transformToByteArray();
}

const FetchedAtSchema = z.iso.datetime({ offset: true });

/** The keys of every object archived for `day` under `prefix` (listings by default). */
export async function archivedKeysOfDay(
  s3: S3Client,
  bucket: string,
  day: IsoDate,
  prefix: string = archiveBucket.listingsPrefix,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: listingDayPrefix(day, prefix),
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** An archived object's bytes and the capture time its metadata records (undefined when it records none). */
export async function readArchivedCapture(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ bytes: Uint8Array; fetchedAt?: string }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  const fetchedAt = FetchedAtSchema.safeParse(object.Metadata?.['fetched-at']);
  return {
    bytes: await object.Body.transformToByteArray(),
    ...(fetchedAt.success ? { fetchedAt: fetchedAt.data } : {}),
  };
}

/** The object's user metadata, or undefined when there is no object under `key`. */
async function archivedMetadata(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Record<string, string> | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata ?? {};
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
    throw error;
  }
}

/** S3 metadata travels as HTTP headers: printable ASCII only, and 2 KB for all of it. */
function metadataText(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 1024 ? `${ascii.slice(0, 1021)}...` : ascii;
}

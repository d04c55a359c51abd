import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { IsoDate } from '../paper';
import type { Posting } from '../search/rank';
import { indexedDocument } from '../search/terms';
import { listingSk, paperPk, postingRange, postingSk, searchMarkerSk, termPk } from './keys';
import { StoreThrottledError } from './paper-store';

/**
 * The keyword index's table side: postings written when a listing is stored, and read one term at a
 * time when a search comes. The terms themselves are pure (`shared/search/terms.ts`).
 *
 * Write cost: one posting per distinct term of a listing, packed 25 to a BatchWriteItem across every
 * listing of the batch, and nothing at all when a listing's text is what was indexed before (the
 * marker's hash matches): a daily refresh of upvotes writes no posting.
 */

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const ATTEMPTS = 6;
/** BatchWriteItem requests of one call in flight at once: quick, without a burst the table would throttle. */
const WRITE_CONCURRENCY = 4;

/** A listing to index, by its key. */
export interface ListingRef {
  id: string;
  listedOn: IsoDate;
}

const MarkerSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  h: z.string(),
  terms: z.set(z.string()).optional(),
});

const IndexedListingSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  listedOn: z.string(),
  paper: z.object({
    id: z.string(),
    title: z.string(),
    abstract: z.string(),
    authors: z.array(z.string()).optional(),
  }),
});

const PostingItemSchema = z.object({
  sk: z.string(),
  tf: z.number(),
  dl: z.number(),
  h: z.string(),
});

/**
 * Makes the postings of `listings` match the text each listing holds in the table now (read
 * consistently, so a message older than the stored fetch indexes the stored text, not its own).
 * Idempotent: a redelivery rewrites the same postings, or none once the marker records them. A
 * listing whose text changed gets its new terms' postings and loses the postings of terms it no
 * longer has; the marker is written last, only when all of them were, so a failure leaves the
 * listing to be indexed again in full by its redelivery.
 *
 * Returns the listings (by index in `listings`) whose postings could not all be written; never
 * throws for those. A listing not in the table is skipped (there is nothing to index).
 */
export async function indexListings(
  client: DynamoDBDocumentClient,
  tableName: string,
  listings: readonly ListingRef[],
): Promise<Map<number, Error>> {
  const failures = new Map<number, Error>();
  const unique = new Map<string, { ref: ListingRef; owners: number[] }>();
  listings.forEach((ref, index) => {
    const key = `${ref.id}\u0000${ref.listedOn}`;
    const entry = unique.get(key) ?? { ref, owners: [] };
    entry.owners.push(index);
    unique.set(key, entry);
  });
  const entries = [...unique.values()];
  const failAll = (owners: readonly number[], error: Error) => {
    for (const owner of owners) if (!failures.has(owner)) failures.set(owner, error);
  };

  let stored: Map<string, Record<string, unknown>>;
  try {
    stored = await batchGet(
      client,
      tableName,
      entries.flatMap(({ ref }) => [
        { pk: paperPk(ref.id), sk: listingSk(ref.listedOn) },
        { pk: paperPk(ref.id), sk: searchMarkerSk(ref.listedOn) },
      ]),
    );
  } catch (thrown) {
    failAll(
      listings.map((_, index) => index),
      asError(thrown),
    );
    return failures;
  }

  const requests: { request: WriteRequest; owner: number }[] = [];
  const markers: { request: WriteRequest; owners: number[]; entry: number }[] = [];
  entries.forEach(({ ref, owners }, entry) => {
    const listing = IndexedListingSchema.safeParse(
      stored.get(keyId(paperPk(ref.id), listingSk(ref.listedOn))),
    );
    if (!listing.success) return;
    const marker = MarkerSchema.safeParse(stored.get(keyId(paperPk(ref.id), searchMarkerSk(ref.listedOn))));
    const document = indexedDocument(listing.data.paper);
    if (marker.success && marker.data.h === document.hash) return;
    const sk = postingSk(ref.listedOn, ref.id);
    for (const [term, tf] of document.terms) {
      requests.push({
        request: {
          PutRequest: { Item: { pk: termPk(term), sk, tf, dl: document.length, h: document.hash } },
        },
        owner: entry,
      });
    }
    for (const term of marker.success ? (marker.data.terms ?? []) : []) {
      if (!document.terms.has(term)) {
        requests.push({ request: { DeleteRequest: { Key: { pk: termPk(term), sk } } }, owner: entry });
      }
    }
    markers.push({
      request: {
        PutRequest: {
          Item: {
            pk: paperPk(ref.id),
            sk: searchMarkerSk(ref.listedOn),
            h: document.hash,
            // A string set may not be empty: a listing of stop words alone has no terms to record.
            ...(document.terms.size > 0 ? { terms: new Set(document.terms.keys()) } : {}),
          },
        },
      },
      owners,
      entry,
    });
  });

  const failedEntries = new Map<number, Error>();
  await writeAll(client, tableName, requests, failedEntries);
  const markersToWrite = markers.filter(({ entry }) => !failedEntries.has(entry));
  await writeAll(
    client,
    tableName,
    markersToWrite.map(({ request, entry }) => ({ request, owner: entry })),
    failedEntries,
  );
  for (const [entry, error] of failedEntries) failAll(entries[entry]?.owners ?? [], error);
  return failures;
}

/**
 * Every posting of `term` within `from`–`to` (inclusive; the whole history when absent): one
 * Query range, followed across its pages.
 */
export async function readPostings(
  client: DynamoDBDocumentClient,
  tableName: string,
  term: string,
  range?: { from: IsoDate; to: IsoDate },
): Promise<Posting[]> {
  const postings: Posting[] = [];
  let start: Record<string, unknown> | undefined;
  const bounds = range ? postingRange(range.from, range.to) : undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: bounds ? 'pk = :pk AND sk BETWEEN :low AND :high' : 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': termPk(term),
          ...(bounds ? { ':low': bounds.low, ':high': bounds.high } : {}),
        },
        ProjectionExpression: 'sk, tf, dl, h',
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = PostingItemSchema.safeParse(raw);
      if (!item.success) continue;
      const separator = item.data.sk.indexOf('#');
      postings.push({
        day: item.data.sk.slice(0, separator),
        id: item.data.sk.slice(separator + 1),
        tf: item.data.tf,
        length: item.data.dl,
        hash: item.data.h,
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return postings;
}

function keyId(pk: string, sk: string): string {
  return `${pk}\u0000${sk}`;
}

/** Items by key (`pk\0sk`), read consistently; unprocessed keys retried with backoff. */
export async function batchGet(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
  projection?: { expression: string; names?: Record<string, string> },
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const unique = [...new Map(keys.map((key) => [keyId(key.pk, key.sk), key])).values()];
  const chunks: { pk: string; sk: string }[][] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= ATTEMPTS) throw new StoreThrottledError(`${pending.length} keys still unread`);
        if (attempt > 0) await sleep(25 * 2 ** attempt);
        const result = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ...(projection
                  ? {
                      ProjectionExpression: projection.expression,
                      ExpressionAttributeNames: projection.names,
                    }
                  : {}),
              },
            },
          }),
        );
        for (const item of result.Responses?.[tableName] ?? []) {
          found.set(keyId(String(item.pk), String(item.sk)), item);
        }
        pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
    }),
  );
  return found;
}

/** Writes `requests` 25 at a time; records in `failures` (by owner) every owner of a request not written. */
async function writeAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly { request: WriteRequest; owner: number }[],
  failures: Map<number, Error>,
): Promise<void> {
  const chunks: (typeof requests)[] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT)
    chunks.push(requests.slice(i, i + BATCH_WRITE_LIMIT));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++] ?? [];
      try {
        const unprocessed = await batchWrite(
          client,
          tableName,
          chunk.map(({ request }) => request),
        );
        if (unprocessed.size === 0) continue;
        const error = new StoreThrottledError(
          `${unprocessed.size} postings still unprocessed after ${ATTEMPTS} attempts`,
        );
        for (const { request, owner } of chunk) {
          if (unprocessed.has(requestKey(request)) && !failures.has(owner)) failures.set(owner, error);
        }
      } catch (thrown) {
        const error = asError(thrown);
        for (const { owner } of chunk) if (!failures.has(owner)) failures.set(owner, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, chunks.length) }, worker));
}

function requestKey(request: WriteRequest): string {
  const key = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return keyId(String(key.pk), String(key.sk));
}

/** One BatchWriteItem, its unprocessed items retried with backoff; the keys still unprocessed after the last try. */
async function batchWrite(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: WriteRequest[],
): Promise<Set<string>> {
  let pending = requests;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(25 * 2 ** attempt);
    const result = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
    pending = result.UnprocessedItems?.[tableName] ?? [];
    if (pending.length === 0) return new Set();
  }
  return new Set(pending.map(requestKey));
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

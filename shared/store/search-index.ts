import { type DynamoDBDocumentClient, QueryCommand, type TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../paper';
import type { Posting } from '../search/rank';
import { indexedDocument, type SearchableText } from '../search/terms';
import * as z from '../zod';
import { postingRange, postingSk, TERM_BUCKETS, termBucket, termBucketPk } from './keys';

/**
 * The keyword index's table side: postings written in the listing's own transaction, and read one
 * bucket range per word (at most) when a search comes. The terms themselves are pure
 * (`shared/search/terms.ts`).
 *
 * Layout: each term hashes into one of `k` buckets ({@link TERM_BUCKETS}); a listing has one item
 * per bucket its text fills, `TERM#<k>#<bucket>` / `<day>#<id>`, holding the weighted frequency of
 * each of its terms in that bucket (`tf`, a map), its length `dl` and its text's hash `h`.
 *
 * Why buckets, not one item per term: a listing has ~110 distinct terms, so exact-term postings
 * cost at least 110/25 = 4.4 BatchWriteItem requests per paper, and per-(term, day) items would
 * need one writer per day. With buckets a listing's postings are `k` items, few enough to go in the
 * transaction that writes the listing (100 actions): written atomically with the text they come
 * from and conditioned like it (no marker to keep, no stale posting, no write of their own), and
 * nothing at all when the text is what the listing's `searchIndexed` says was indexed (a re-fetch,
 * a daily refresh of upvotes, a redelivery).
 *
 * The price is on the read side: a listing's ~110 terms fill every bucket, so a word's range holds
 * an item for every listing in the range (1/k of its terms each), all of which DynamoDB reads and
 * bills before the filter keeps those holding the word; exact postings read only the word's own.
 * Measured over 360 listings (`npm run bench -- search`, eventually consistent reads): k = 4 adds
 * no request to the write (the classify batch's 10 listings still fit one transaction) but a
 * word's range costs 13.5 read units; k = 8 adds 0.1 request per paper (two transactions) for 8
 * units; k = 16 adds 0.17 for 5.5. k = 8 halves most of what k = 4 reads for a tenth of a request:
 * a whole year of 50 papers a day is then ~400 read units per word, a few 1 MB pages.
 */

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/**
 * What a listing's `searchIndexed` attribute holds once its postings are written: the layout and
 * the text's hash. A listing written before postings lived in its transaction has none, so its
 * next write indexes it (`papers replay` rewrites every listing of a range).
 */
export function searchIndexedToken(hash: string, buckets: number = TERM_BUCKETS): string {
  return `${buckets}:${hash}`;
}

/**
 * The postings of a listing's text, as transaction actions: a Put per bucket the text fills and,
 * when the listing was stored before (`replacing`), a Delete per bucket it no longer fills, so no
 * term of an older text survives. Undefined when `indexed` (the listing's `searchIndexed`) says
 * this text is already indexed with this layout: nothing to write.
 */
export function planPostings(
  listing: { id: string; listedOn: IsoDate },
  text: SearchableText,
  indexed: string | undefined,
  replacing: boolean,
  tableName: string,
  buckets: number = TERM_BUCKETS,
): { indexedAs: string; actions: TransactItem[] } | undefined {
  const document = indexedDocument(text);
  const indexedAs = searchIndexedToken(document.hash, buckets);
  if (indexed === indexedAs) return undefined;
  const byBucket: Record<string, number>[] = Array.from({ length: buckets }, () => ({}));
  for (const [term, tf] of document.terms) {
    (byBucket[termBucket(term, buckets)] as Record<string, number>)[term] = tf;
  }
  const sk = postingSk(listing.listedOn, listing.id);
  const actions: TransactItem[] = [];
  byBucket.forEach((tf, bucket) => {
    const pk = termBucketPk(bucket, buckets);
    if (Object.keys(tf).length > 0) {
      actions.push({
        Put: { TableName: tableName, Item: { pk, sk, tf, dl: document.length, h: document.hash } },
      });
    } else if (replacing) {
      actions.push({ Delete: { TableName: tableName, Key: { pk, sk } } });
    }
  });
  return { indexedAs, actions };
}

const PostingItemSchema = z.object({
  sk: z.string(),
  tf: z.record(z.string(), z.number()),
  dl: z.number(),
  h: z.string(),
});

/** What a search read from the postings. */
export interface PostingsRead {
  /** One array per term, in the order of the terms asked for. */
  postingsByTerm: Posting[][];
  /**
   * Listings indexed in the range (BM25's N): the items a bucket's range held before the filter
   * (DynamoDB's `ScannedCount`), the largest over the buckets read. A listing's ~110 terms leave a
   * bucket of 8 empty with a chance of (7/8)^110, under one in a million, so the count is exact in
   * practice, and it comes with the read instead of a Query of the day counts.
   */
  listingsInRange: number;
}

/**
 * The postings of each of `terms` within `from`–`to` (inclusive; the whole history when absent):
 * one Query range per bucket the terms fall in (so never more ranges than terms), followed across
 * its pages, filtered to the listings holding one of the bucket's terms and projected to those
 * terms' frequencies.
 */
export async function readPostings(
  client: DynamoDBDocumentClient,
  tableName: string,
  terms: readonly string[],
  range?: { from: IsoDate; to: IsoDate },
  buckets: number = TERM_BUCKETS,
): Promise<PostingsRead> {
  const postingsByTerm: Posting[][] = terms.map(() => []);
  let listingsInRange = 0;
  const byBucket = new Map<number, number[]>();
  terms.forEach((term, index) => {
    const bucket = termBucket(term, buckets);
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), index]);
  });
  const bounds = range ? postingRange(range.from, range.to) : undefined;
  await Promise.all(
    [...byBucket].map(async ([bucket, indexes]) => {
      const names = Object.fromEntries(indexes.map((index, n) => [`#t${n}`, terms[index] as string]));
      let scanned = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: bounds ? 'pk = :pk AND sk BETWEEN :low AND :high' : 'pk = :pk',
            FilterExpression: indexes.map((_, n) => `attribute_exists(tf.#t${n})`).join(' OR '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':pk': termBucketPk(bucket, buckets),
              ...(bounds ? { ':low': bounds.low, ':high': bounds.high } : {}),
            },
            ProjectionExpression: ['sk', 'dl', 'h', ...indexes.map((_, n) => `tf.#t${n}`)].join(', '),
            ExclusiveStartKey: start,
          }),
        );
        for (const raw of page.Items ?? []) {
          const item = PostingItemSchema.safeParse(raw);
          if (!item.success) continue;
          const separator = item.data.sk.indexOf('#');
          const day = item.data.sk.slice(0, separator);
          const id = item.data.sk.slice(separator + 1);
          for (const index of indexes) {
            const term = terms[index] as string;
            const tf = Object.hasOwn(item.data.tf, term) ? item.data.tf[term] : undefined;
            if (tf === undefined) continue;
            postingsByTerm[index]?.push({ day, id, tf, length: item.data.dl, hash: item.data.h });
          }
        }
        scanned += page.ScannedCount ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      listingsInRange = Math.max(listingsInRange, scanned);
    }),
  );
  return { postingsByTerm, listingsInRange };
}

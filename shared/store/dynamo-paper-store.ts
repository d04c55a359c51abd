import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { ClassificationSchema } from '../classification';
import { canonicalCategory } from '../classify/taxonomy';
import type { IsoDate, Paper } from '../paper';
import { papersTable } from '../resources';
import {
  CategoryEntryTableItemSchema,
  DayItemSchema,
  type IngestedDay,
  type ListedPaper,
  type ListingOrigin,
  ListingTableItemSchema,
  type PaperRecord,
} from './items';
import {
  categoryEntrySk,
  categoryPk,
  categoryRange,
  categorySk,
  DAYS_PK,
  dayPk,
  LISTING_SK_PREFIX,
  listingSk,
  paperPk,
} from './keys';
import {
  type CategoryChanges,
  type ClassificationWrite,
  InvalidCursorError,
  ListingNotStoredError,
  type ListingWriteOutcome,
  type Page,
  type PageRequest,
  type PaperStore,
  StoreThrottledError,
} from './paper-store';

type BatchWriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** DynamoDB's limit on one BatchWriteItem. */
const BATCH_WRITE_LIMIT = 25;
const BATCH_WRITE_ATTEMPTS = 6;

/** A LastEvaluatedKey holds only key attributes: strings and numbers. */
const CursorSchema = z.object({
  q: z.string(),
  k: z.record(z.string(), z.union([z.string(), z.number()])),
});

export class DynamoPaperStore implements PaperStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async putListing(paper: Paper, origin: ListingOrigin): Promise<ListingWriteOutcome> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: paperPk(paper.id), sk: listingSk(origin.listedOn) },
          // `fetchedAt <= :fetchedAt` lets a redelivery of the same message through (idempotent)
          // and stops an older fetch from overwriting a newer one's upvotes.
          ConditionExpression: 'attribute_not_exists(pk) OR fetchedAt <= :fetchedAt',
          UpdateExpression:
            'SET paper = :paper, upvotes = :upvotes, dayPk = :dayPk, listedOn = :listedOn, ' +
            'fetchedAt = :fetchedAt, archiveKey = :archiveKey, storedAt = if_not_exists(storedAt, :now)',
          ExpressionAttributeValues: {
            ':paper': paper,
            ':upvotes': paper.upvotes ?? 0,
            ':dayPk': dayPk(origin.listedOn),
            ':listedOn': origin.listedOn,
            ':fetchedAt': origin.fetchedAt,
            ':archiveKey': origin.archiveKey,
            ':now': this.now().toISOString(),
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return result.Attributes?.fetchedAt === undefined ? 'created' : 'updated';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw error;
    }
  }

  async recordFetchedDay(day: IsoDate, fetch: { fetchedAt: string; listed: number }): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: DAYS_PK, sk: day },
          ConditionExpression: 'attribute_not_exists(lastFetchedAt) OR lastFetchedAt <= :fetchedAt',
          // An empty re-fetch (an upstream hiccup) keeps the last non-empty count: papers stored for
          // the day are not undone by it, and `listed 0` beside `papers 5` would only mislead.
          UpdateExpression:
            fetch.listed > 0
              ? 'SET lastFetchedAt = :fetchedAt, listed = :listed'
              : 'SET lastFetchedAt = :fetchedAt, listed = if_not_exists(listed, :listed)',
          ExpressionAttributeValues: { ':fetchedAt': fetch.fetchedAt, ':listed': fetch.listed },
        }),
      );
    } catch (error) {
      // A newer fetch of the day is already recorded: keep it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async recordListedDays(paperIdsByDay: ReadonlyMap<IsoDate, readonly string[]>): Promise<void> {
    for (const [day, ids] of paperIdsByDay) {
      if (ids.length === 0) continue;
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: DAYS_PK, sk: day },
          UpdateExpression: 'ADD paperIds :ids SET lastStoredAt = :now',
          ExpressionAttributeValues: { ':ids': new Set(ids), ':now': this.now().toISOString() },
        }),
      );
    }
  }

  async putClassification({
    paper,
    listedOn,
    classification,
  }: ClassificationWrite): Promise<CategoryChanges> {
    // One entry per subject, under the canonical code: arXiv lists one subject under two names
    // (`cs.SY` and `eess.SY`, `math.MP` and `math-ph`), a source may give either or both, and a
    // query for either name reads the canonical one.
    const assigned = new Map<string, { score: number }>();
    for (const category of classification.categories) {
      const code = canonicalCategory(category.code);
      if (category.assigned && !assigned.has(code)) assigned.set(code, category);
    }
    const codes = [...assigned.keys()];
    let indexedBefore: ReadonlySet<string> = new Set();
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: paperPk(paper.id), sk: listingSk(listedOn) },
          ConditionExpression: 'attribute_exists(pk)',
          // `indexedCategories` only grows: every code that may have an entry stays in it, so a
          // redelivery after a failed batch write still knows which stale entries to remove.
          UpdateExpression: 'SET classification = :classification ADD indexedCategories :codes',
          ExpressionAttributeValues: { ':classification': classification, ':codes': new Set(codes) },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const before = result.Attributes?.indexedCategories;
      if (before instanceof Set) indexedBefore = before;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ListingNotStoredError(`paper ${paper.id} is not stored as listed on ${listedOn}`);
      }
      throw error;
    }
    // Entries carry the paper without its per-day figures: a category entry is written after the
    // listing, from a message that may be older than the listing's latest fetch, so upvotes and
    // comments live on the listing alone (and never roll back).
    const { upvotes: _upvotes, comments: _comments, ...stablePaper } = paper;
    const keep = new Set(codes);
    return {
      puts: [...assigned].map(([code, category]) => ({
        pk: paperPk(paper.id),
        sk: categoryEntrySk(code, listedOn),
        categoryPk: categoryPk(code),
        categorySk: categorySk(listedOn, paper.id),
        code,
        score: category.score,
        listedOn,
        paper: stablePaper,
        classification,
      })),
      deletes: [...indexedBefore]
        // `keep` holds canonical codes only, so an entry an older version wrote under an alias
        // (`CATEGORY#cs.SY#…`) goes too, as the canonical one replaces it.
        .filter((code) => typeof code === 'string' && !keep.has(code))
        .map((code) => ({ pk: paperPk(paper.id), sk: categoryEntrySk(String(code), listedOn) })),
    };
  }

  async applyCategoryChanges(changes: readonly CategoryChanges[]): Promise<void> {
    // One request per key: BatchWriteItem refuses a batch naming a key twice, which happens when
    // the same paper is delivered twice in one batch. The later change wins.
    const byKey = new Map<string, BatchWriteRequest>();
    for (const change of changes) {
      for (const key of change.deletes)
        byKey.set(`${key.pk}\u0000${key.sk}`, { DeleteRequest: { Key: key } });
      for (const item of change.puts) byKey.set(`${item.pk}\u0000${item.sk}`, { PutRequest: { Item: item } });
    }
    const requests = [...byKey.values()];
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      await this.batchWrite({ [this.tableName]: requests.slice(start, start + BATCH_WRITE_LIMIT) });
    }
  }

  /** Retries what DynamoDB leaves unprocessed (throttling), with exponential backoff. */
  private async batchWrite(requestItems: NonNullable<BatchWriteCommandInput['RequestItems']>): Promise<void> {
    let pending = requestItems;
    for (let attempt = 0; attempt < BATCH_WRITE_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const result = await this.client.send(new BatchWriteCommand({ RequestItems: pending }));
      const unprocessed = result.UnprocessedItems;
      if (!unprocessed || Object.values(unprocessed).every((list) => list.length === 0)) return;
      pending = unprocessed;
    }
    throw new StoreThrottledError(`batch write still unprocessed after ${BATCH_WRITE_ATTEMPTS} attempts`);
  }

  async papersListedOn(day: IsoDate, page: PageRequest): Promise<Page<ListedPaper>> {
    const { items, cursor } = await this.query(`day:${day}`, page, {
      IndexName: papersTable.indexes.byDay.indexName,
      KeyConditionExpression: 'dayPk = :dayPk',
      ExpressionAttributeValues: { ':dayPk': dayPk(day) },
      ScanIndexForward: false,
    });
    return { items: items.map((item) => listedPaperFromListing(ListingTableItemSchema.parse(item))), cursor };
  }

  async papersInCategory(
    code: string,
    from: IsoDate,
    to: IsoDate,
    page: PageRequest,
  ): Promise<Page<ListedPaper>> {
    const { low, high } = categoryRange(from, to);
    const subject = canonicalCategory(code); // either name of an alias pair reads the one entry
    const { items, cursor } = await this.query(`category:${subject}:${from}..${to}`, page, {
      IndexName: papersTable.indexes.byCategory.indexName,
      KeyConditionExpression: 'categoryPk = :categoryPk AND categorySk BETWEEN :low AND :high',
      ExpressionAttributeValues: {
        ':categoryPk': categoryPk(subject),
        ':low': low,
        ':high': high,
      },
    });
    return {
      items: items.map((item) => {
        const entry = CategoryEntryTableItemSchema.parse(item);
        return listedPaper(entry.paper, entry.listedOn, entry.classification);
      }),
      cursor,
    };
  }

  async paperById(id: string): Promise<PaperRecord | undefined> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    do {
      // A paper's partition is small (a listing per day listed, a few category entries); read it whole.
      const page = await this.query(
        `paper:${id}`,
        { limit: 100, cursor },
        {
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :listed)',
          ExpressionAttributeValues: { ':pk': paperPk(id), ':listed': LISTING_SK_PREFIX },
        },
      );
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    const listings = items.map((item) => ListingTableItemSchema.parse(item));
    const latest = listings.reduce<(typeof listings)[number] | undefined>(
      (best, listing) => (!best || listing.fetchedAt > best.fetchedAt ? listing : best),
      undefined,
    );
    if (!latest) return undefined;
    const { listedOn: _listedOn, upvotes: _upvotes, comments: _comments, ...paper } = latest.paper;
    // The latest classification: listings are classified in turn, and a reclassification may lag.
    const classification = listings
      .filter((listing) => listing.classification)
      .reduce<(typeof listings)[number] | undefined>(
        (best, listing) => (!best || listing.fetchedAt > best.fetchedAt ? listing : best),
        undefined,
      )?.classification;
    return {
      ...paper,
      listings: listings.map((listing) => ({
        listedOn: listing.listedOn,
        upvotes: listing.paper.upvotes,
        comments: listing.paper.comments,
        fetchedAt: listing.fetchedAt,
      })),
      ...classificationFields(classification),
    };
  }

  async ingestedDays(page: PageRequest): Promise<Page<IngestedDay>> {
    const { items, cursor } = await this.query('days', page, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': DAYS_PK },
      ScanIndexForward: false,
    });
    return {
      items: items.map((item) => {
        const day = DayItemSchema.parse(item);
        return {
          day: day.sk,
          papers: day.paperIds?.size ?? 0,
          listed: day.listed,
          lastFetchedAt: day.lastFetchedAt,
          lastStoredAt: day.lastStoredAt,
        };
      }),
      cursor,
    };
  }

  /**
   * One Query page. The cursor names the query it belongs to (partition and range included), so it
   * cannot be replayed against another; a forged start key is an {@link InvalidCursorError}, not a 500.
   *
   * It reads one item more than the page holds: DynamoDB returns a LastEvaluatedKey whenever a page
   * fills exactly, which would send clients to an empty last page. With the extra item in hand, a
   * full page has a cursor only when something follows it (the cursor is then the key of the page's
   * last item, as DynamoDB would have given).
   */
  private async query(
    queryName: string,
    { limit, cursor }: PageRequest,
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
  ): Promise<{ items: Record<string, unknown>[]; cursor?: string }> {
    const command = new QueryCommand({
      ...input,
      TableName: this.tableName,
      Limit: limit + 1,
      ExclusiveStartKey: cursor === undefined ? undefined : decodeCursor(cursor, queryName),
    });
    const result = await this.client.send(command).catch((error: unknown) => {
      // The query is valid without a start key (the code builds it); with one, DynamoDB's
      // ValidationException can only be about the key a client tampered with.
      if (cursor !== undefined && error instanceof Error && error.name === 'ValidationException') {
        throw new InvalidCursorError('cursor does not fit this query');
      }
      throw error;
    });
    const items = result.Items ?? [];
    if (items.length > limit) {
      const last = items[limit - 1] as Record<string, unknown>;
      return { items: items.slice(0, limit), cursor: encodeCursor(queryName, keyOf(last, input.IndexName)) };
    }
    // Fewer: the partition is done, unless DynamoDB stopped at its 1 MB page size first.
    return {
      items,
      cursor: result.LastEvaluatedKey ? encodeCursor(queryName, result.LastEvaluatedKey) : undefined,
    };
  }
}

/** The key attributes DynamoDB puts in a LastEvaluatedKey for an item of the table or of one index. */
function keyOf(item: Record<string, unknown>, indexName: string | undefined): Record<string, unknown> {
  const index = Object.values(papersTable.indexes).find((candidate) => candidate.indexName === indexName);
  const names: string[] = [papersTable.partitionKey.name, papersTable.sortKey.name];
  if (index) names.push(index.partitionKey.name, index.sortKey.name);
  return Object.fromEntries(names.map((name) => [name, item[name]]));
}

function encodeCursor(queryName: string, key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ q: queryName, k: key })).toString('base64url');
}

function decodeCursor(cursor: string, queryName: string): Record<string, string | number> {
  let parsed: z.infer<typeof CursorSchema>;
  try {
    parsed = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidCursorError('cursor is not one this API issued');
  }
  if (parsed.q !== queryName) throw new InvalidCursorError('cursor belongs to a different query');
  return parsed.k;
}

function classificationFields(classification: z.infer<typeof ClassificationSchema> | undefined) {
  if (!classification) return {};
  return {
    categories: classification.categories,
    primaryCategory: classification.primaryCategory,
    classifierVersion: classification.classifierVersion,
    categorySource: classification.categorySource,
  };
}

function listedPaper(
  paper: Paper,
  listedOn: IsoDate,
  classification: z.infer<typeof ClassificationSchema> | undefined,
  fetchedAt?: string,
): ListedPaper {
  return { ...paper, listedOn, fetchedAt, ...classificationFields(classification) };
}

function listedPaperFromListing(item: z.infer<typeof ListingTableItemSchema>): ListedPaper {
  return listedPaper(item.paper, item.listedOn, item.classification, item.fetchedAt);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

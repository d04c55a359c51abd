import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Classification, ClassificationSchema } from '../classification';
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
  listingFigures,
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
  ClassificationChangedError,
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

function keyId(key: { pk: unknown; sk: unknown }): string {
  return `${String(key.pk)}\u0000${String(key.sk)}`;
}

function requestKeyId(request: BatchWriteRequest): string {
  const key = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return keyId({ pk: key.pk, sk: key.sk });
}

/** What a refused (stale) classification's changes say they carry out: never a stored one. */
const REFUSED_CLASSIFICATION = 'refused';
/** Rewrites of a listing's current entries before a change is reported as failed (retried). */
const CLASSIFICATION_CHECK_ROUNDS = 3;
const BATCH_GET_LIMIT = 100;

interface StoredClassification {
  token: string;
  changes: CategoryChanges;
}

/** Tells classifications of a listing apart: the fetch they were computed from, the model, the codes assigned. */
function classificationToken(classifiedFrom: string | undefined, classification: Classification): string {
  return JSON.stringify([
    classifiedFrom ?? null,
    classification.classifierVersion,
    classification.primaryCategory,
    [...assignedCategories(classification).keys()].sort(),
  ]);
}

/**
 * One entry per subject, under the canonical code: arXiv lists one subject under two names
 * (`cs.SY` and `eess.SY`, `math.MP` and `math-ph`), a source may give either or both, and a
 * query for either name reads the canonical one.
 */
function assignedCategories(classification: Classification): Map<string, { score: number }> {
  const assigned = new Map<string, { score: number }>();
  for (const category of classification.categories) {
    const code = canonicalCategory(category.code);
    if (category.assigned && !assigned.has(code)) assigned.set(code, category);
  }
  return assigned;
}

/**
 * Entries carry the paper without its per-day figures: a category entry is written after the
 * listing, from a message that may be older than the listing's latest fetch, so upvotes and
 * comments live on the listing alone (and never roll back).
 */
function stablePaperOf(paper: Paper): Omit<Paper, 'upvotes' | 'comments'> {
  const { upvotes: _upvotes, comments: _comments, ...stable } = paper;
  return stable;
}

/** The entries a classification implies, and removals of those a previous one wrote that it does not. */
function categoryChanges(
  listing: { pk: string; sk: string },
  paper: Omit<Paper, 'upvotes' | 'comments'>,
  listedOn: IsoDate,
  classifiedFrom: string | undefined,
  classification: Classification,
  indexedBefore: ReadonlySet<string>,
): CategoryChanges {
  const assigned = assignedCategories(classification);
  return {
    listing,
    classification: classificationToken(classifiedFrom, classification),
    puts: [...assigned].map(([code, category]) => ({
      pk: paperPk(paper.id),
      sk: categoryEntrySk(code, listedOn),
      categoryPk: categoryPk(code),
      categorySk: categorySk(listedOn, paper.id),
      code,
      score: category.score,
      listedOn,
      paper,
      classification,
    })),
    deletes: [...indexedBefore]
      // `assigned` holds canonical codes only, so an entry an older version wrote under an alias
      // (`CATEGORY#cs.SY#…`) goes too, as the canonical one replaces it.
      .filter((code) => typeof code === 'string' && !assigned.has(code))
      .map((code) => ({ pk: paperPk(paper.id), sk: categoryEntrySk(String(code), listedOn) })),
  };
}

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
    // The per-day figures live beside the paper, each set only when this fetch gives it: a later
    // fetch that lacks them (a page without counts, a feed that has none) keeps the stored ones.
    const { upvotes, comments, ...stablePaper } = paper;
    const figures: string[] = [];
    const values: Record<string, unknown> = {};
    if (upvotes === undefined) {
      // byDay's sort key must be a number for the listing to be on its day at all.
      figures.push('upvotes = if_not_exists(upvotes, :noUpvotes)');
      values[':noUpvotes'] = 0;
    } else {
      figures.push('upvotes = :upvotes', 'upvotesFetchedAt = :fetchedAt');
      values[':upvotes'] = upvotes;
    }
    if (comments !== undefined) {
      figures.push('comments = :comments');
      values[':comments'] = comments;
    }
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: paperPk(paper.id), sk: listingSk(origin.listedOn) },
          // `fetchedAt <= :fetchedAt` lets a redelivery of the same message through (idempotent)
          // and stops an older fetch from overwriting a newer one's upvotes.
          ConditionExpression: 'attribute_not_exists(pk) OR fetchedAt <= :fetchedAt',
          UpdateExpression:
            'SET paper = :paper, dayPk = :dayPk, listedOn = :listedOn, fetchedAt = :fetchedAt, ' +
            `archiveKey = :archiveKey, storedAt = if_not_exists(storedAt, :now), ${figures.join(', ')}`,
          ExpressionAttributeValues: {
            ':paper': stablePaper,
            ':dayPk': dayPk(origin.listedOn),
            ':listedOn': origin.listedOn,
            ':fetchedAt': origin.fetchedAt,
            ':archiveKey': origin.archiveKey,
            ':now': this.now().toISOString(),
            ...values,
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
    fetchedAt,
    classification,
  }: ClassificationWrite): Promise<CategoryChanges> {
    const listing = { pk: paperPk(paper.id), sk: listingSk(listedOn) };
    let indexedBefore: ReadonlySet<string> = new Set();
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: listing,
          // Only the latest fetch of the listing classifies it: a message from an older fetch that
          // arrives late must not overwrite the newer fetch's classification (which its own message
          // brings). A redelivery of the current one passes, and rewrites the same values.
          ConditionExpression: 'attribute_exists(pk) AND fetchedAt <= :fetchedAt',
          // `indexedCategories` only grows: every code that may have an entry stays in it, so a
          // redelivery after a failed batch write still knows which stale entries to remove.
          UpdateExpression:
            'SET classification = :classification, classifiedFrom = :fetchedAt ADD indexedCategories :codes',
          ExpressionAttributeValues: {
            ':classification': classification,
            ':fetchedAt': fetchedAt,
            ':codes': new Set(assignedCategories(classification).keys()),
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const before = result.Attributes?.indexedCategories;
      if (before instanceof Set) indexedBefore = before;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: listing,
          ConsistentRead: true,
          ProjectionExpression: 'pk',
        }),
      );
      if (!stored.Item) {
        throw new ListingNotStoredError(`paper ${paper.id} is not stored as listed on ${listedOn}`);
      }
      // A newer fetch is stored: this classification is refused and changes no entry. Applying the
      // (empty) changes still checks the entries against the current classification.
      return { listing, classification: REFUSED_CLASSIFICATION, puts: [], deletes: [] };
    }
    return categoryChanges(listing, stablePaperOf(paper), listedOn, fetchedAt, classification, indexedBefore);
  }

  async applyCategoryChanges(changes: readonly CategoryChanges[]): Promise<Map<number, Error>> {
    const failures = await this.writeCategoryEntries(changes);
    // Entries are written after their classification is stored, so a newer classification of the
    // same listing may have been stored (and its entries written) in between: check each listing
    // and write its current classification's entries where they are not the ones just written.
    let pending = changes.flatMap((change, index) => (failures.has(index) ? [] : [{ index, change }]));
    for (let round = 0; pending.length > 0; round++) {
      let current: Map<string, StoredClassification>;
      try {
        current = await this.storedClassifications(pending.map(({ change }) => change.listing));
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        for (const { index } of pending) failures.set(index, error);
        break;
      }
      const outdated = pending.flatMap(({ index, change }) => {
        const stored = current.get(keyId(change.listing));
        if (!stored || stored.token === change.classification) return [];
        return [{ index, change: stored.changes }];
      });
      if (outdated.length === 0) break;
      if (round >= CLASSIFICATION_CHECK_ROUNDS) {
        const error = new ClassificationChangedError(
          'the classification kept changing while its entries were written',
        );
        for (const { index } of outdated) failures.set(index, error);
        break;
      }
      const rewriteFailures = await this.writeCategoryEntries(outdated.map(({ change }) => change));
      pending = outdated.filter(({ index }, position) => {
        const error = rewriteFailures.get(position);
        if (error) failures.set(index, error);
        return !error;
      });
    }
    return failures;
  }

  /** The classification each listing holds now, with the entries it implies. */
  private async storedClassifications(
    listings: readonly { pk: string; sk: string }[],
  ): Promise<Map<string, StoredClassification>> {
    const unique = [...new Map(listings.map((key) => [keyId(key), key])).values()];
    const found = new Map<string, StoredClassification>();
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_LIMIT);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= BATCH_WRITE_ATTEMPTS) {
          throw new StoreThrottledError(`listings still unread after ${BATCH_WRITE_ATTEMPTS} attempts`);
        }
        if (attempt > 0) await sleep(25 * 2 ** attempt);
        const result = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const raw of result.Responses?.[this.tableName] ?? []) {
          const item = ListingTableItemSchema.parse(raw);
          if (!item.classification) continue;
          const listing = { pk: item.pk, sk: item.sk };
          found.set(keyId(listing), {
            token: classificationToken(item.classifiedFrom, item.classification),
            changes: categoryChanges(
              listing,
              stablePaperOf(item.paper),
              item.listedOn,
              item.classifiedFrom,
              item.classification,
              item.indexedCategories ?? new Set(),
            ),
          });
        }
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  /** Writes the changes' entries in as few batch requests as possible; returns the changes not fully written. */
  private async writeCategoryEntries(changes: readonly CategoryChanges[]): Promise<Map<number, Error>> {
    // One request per key: BatchWriteItem refuses a batch naming a key twice, which happens when
    // the same paper is delivered twice in one batch. The later change wins; a key that is not
    // written fails every change that named it.
    const byKey = new Map<string, { request: BatchWriteRequest; owners: Set<number> }>();
    changes.forEach((change, index) => {
      const claim = (key: { pk: string; sk: string }, request: BatchWriteRequest) => {
        const id = keyId(key);
        const owners = byKey.get(id)?.owners ?? new Set<number>();
        owners.add(index);
        byKey.set(id, { request, owners });
      };
      for (const key of change.deletes) claim(key, { DeleteRequest: { Key: key } });
      for (const item of change.puts) claim(item, { PutRequest: { Item: item } });
    });
    const entries = [...byKey.values()];
    const failures = new Map<number, Error>();
    for (let start = 0; start < entries.length; start += BATCH_WRITE_LIMIT) {
      const chunk = entries.slice(start, start + BATCH_WRITE_LIMIT);
      let notWritten: { keys: ReadonlySet<string>; error: Error };
      try {
        const unprocessed = await this.batchWrite(chunk.map(({ request }) => request));
        if (unprocessed.length === 0) continue;
        notWritten = {
          keys: new Set(unprocessed.map(requestKeyId)),
          error: new StoreThrottledError(
            `${unprocessed.length} category entries still unprocessed after ${BATCH_WRITE_ATTEMPTS} attempts`,
          ),
        };
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        notWritten = { keys: new Set(chunk.map(({ request }) => requestKeyId(request))), error };
      }
      for (const { request, owners } of chunk) {
        if (!notWritten.keys.has(requestKeyId(request))) continue;
        for (const owner of owners) if (!failures.has(owner)) failures.set(owner, notWritten.error);
      }
    }
    return failures;
  }

  /**
   * Retries what DynamoDB leaves unprocessed (throttling), with exponential backoff;
   * returns the requests still unprocessed after the last attempt.
   */
  private async batchWrite(requests: BatchWriteRequest[]): Promise<BatchWriteRequest[]> {
    let pending = requests;
    for (let attempt = 0; attempt < BATCH_WRITE_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const result = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
      );
      pending = result.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length === 0) return [];
    }
    return pending;
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
        ...listingFigures(listing),
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
  const { upvotes: _upvotes, comments: _comments, ...paper } = item.paper;
  return listedPaper(
    { ...paper, ...listingFigures(item) },
    item.listedOn,
    item.classification,
    item.fetchedAt,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

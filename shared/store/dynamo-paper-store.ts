import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { canonicalCategory } from '../classify/taxonomy';
import { type IsoDate, IsoDateSchema, type Paper } from '../paper';
import { type IndexDefinition, type KeyAttribute, papersTable } from '../resources';
import * as z from '../zod';
import { batchGet, keyId, sleep } from './batch-get';
import { assignedCategories, categoryChanges, classificationToken, stablePaperOf } from './category-entries';
import {
  CategoryEntryTableItemSchema,
  classificationFields,
  DayItemSchema,
  type EnrichmentFields,
  enrichmentFields,
  type IngestedDay,
  LISTED_PAPER_VIEW,
  LISTING_WITHOUT_VIEW,
  type ListedPaper,
  type ListingOrigin,
  ListingTableItemSchema,
  listedPaperFromEntry,
  listedPaperFromListing,
  listingFigures,
  type PaperRecord,
  readListingItem,
  type UpvoteSnapshot,
  type UpvoteSnapshotTableItem,
  UpvoteSnapshotTableItemSchema,
} from './items';
import {
  categoryPk,
  categoryRange,
  DAYS_PK,
  dayPk,
  LISTING_SK_PREFIX,
  listingSk,
  paperPk,
  TERM_BUCKETS,
  UPVOTES_SK_PREFIX,
} from './keys';
import { NEXT_REVISION, NEXT_REVISION_VALUES, storeListingWrites } from './listing-writes';
import {
  type CategoryChanges,
  type CategoryQueryOptions,
  ClassificationChangedError,
  type ClassificationWrite,
  type DayOrder,
  InvalidCursorError,
  ITEMS_JSON,
  ListingNotStoredError,
  type ListingWrite,
  type ListingWriteOutcome,
  type ListingWriteResult,
  type Page,
  type PageRequest,
  type PaperStore,
  StoreThrottledError,
} from './paper-store';
import { qualityListingsOn } from './quality-listings';
import {
  categoryCounts,
  papersInRange,
  type RangeRequest,
  type SearchRequest,
  searchPapers,
} from './ranked-reads';

type BatchWriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

function requestKeyId(request: BatchWriteRequest): string {
  const key = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return keyId({ pk: key.pk, sk: key.sk });
}

/** What a refused (stale) classification's changes say they carry out: never a stored one. */
const REFUSED_CLASSIFICATION = 'refused';
/** Rewrites of a listing's current entries before a change is reported as failed (retried). */
const CLASSIFICATION_CHECK_ROUNDS = 3;

interface StoredClassification {
  token: string;
  changes: CategoryChanges;
}

/** DynamoDB's limit on one BatchWriteItem. */
const BATCH_WRITE_LIMIT = 25;
const BATCH_WRITE_ATTEMPTS = 6;

/** Where the store reports what it skipped; Powertools' Logger is one. */
export interface StoreLogger {
  warn(message: string, details: Record<string, unknown>): void;
}

export class DynamoPaperStore implements PaperStore {
  /**
   * @param logger gets a warning for every unreadable item a read skips. @default a Powertools
   *   Logger, configured by the environment (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`).
   * @param termBuckets the keyword postings' layout (`keys.ts`): writers and readers of a table
   *   share it; another value only for the benchmark's comparison of layouts (0 writes none).
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
    private readonly logger: StoreLogger = new Logger(),
    private readonly termBuckets: number = TERM_BUCKETS,
  ) {}

  async storeListings(writes: readonly ListingWrite[]): Promise<ListingWriteResult[]> {
    return storeListingWrites(this.client, this.tableName, writes, this.now, this.termBuckets);
  }

  async putListing(paper: Paper, origin: ListingOrigin): Promise<ListingWriteOutcome> {
    const [result] = await this.storeListings([{ paper, origin }]);
    if (!result || result.error) throw result?.error ?? new Error('no result for the listing');
    return result.outcome;
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
          // It cannot know the rest of the listing, so it cannot write the listing's view: it removes
          // it, and the listing is read in full until the pipeline's write (`storeListings`) gives
          // it one again.
          UpdateExpression: `SET classification = :classification, classifiedFrom = :fetchedAt ADD indexedCategories :codes, ${NEXT_REVISION} REMOVE ${LISTED_PAPER_VIEW}`,
          ExpressionAttributeValues: {
            ':classification': classification,
            ':fetchedAt': fetchedAt,
            ':codes': new Set(assignedCategories(classification).keys()),
            ...NEXT_REVISION_VALUES,
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
    const found = new Map<string, StoredClassification>();
    for (const raw of (await batchGet(this.client, this.tableName, listings)).values()) {
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

  async papersListedOn(
    day: IsoDate,
    page: PageRequest,
    order: DayOrder = 'upvotes',
  ): Promise<Page<ListedPaper>> {
    const { items, cursor } = await this.query(
      order === 'id'
        ? { name: `day-by-id:${day}`, index: papersTable.indexes.byDayId, partition: dayPk(day), views: true }
        : {
            name: `day:${day}`,
            index: papersTable.indexes.byDay,
            partition: dayPk(day),
            descending: true,
            views: true,
          },
      page,
    );
    return { ...this.listedPapers(items, ListingTableItemSchema, listedPaperFromListing), cursor };
  }

  async papersInCategory(
    code: string,
    from: IsoDate,
    to: IsoDate,
    page: PageRequest,
    { rollingRange = false, newestFirst = false }: CategoryQueryOptions = {},
  ): Promise<Page<ListedPaper>> {
    const subject = canonicalCategory(code); // either name of an alias pair reads the one entry
    // A rolling range is named without its days, which move at UTC midnight: its cursors carry the
    // range of the first page instead, and the next pages keep to it. The order is in the name, so
    // a cursor of one order is refused by the other (it would skip or repeat entries).
    const order = newestFirst ? ':newest' : '';
    const name = rollingRange
      ? `category:${subject}:rolling${order}`
      : `category:${subject}:${from}..${to}${order}`;
    const start = decodeCursor(page.cursor, name);
    const range = rollingRange && start ? rangeOfCursor(start, { from, to }) : { from, to };
    const { low, high } = categoryRange(range.from, range.to);
    const { items, cursor } = await this.query(
      {
        name,
        index: papersTable.indexes.byCategory,
        partition: categoryPk(subject),
        sortKeyCondition: {
          expression: '#sort BETWEEN :low AND :high',
          values: { ':low': low, ':high': high },
        },
        descending: newestFirst,
        views: true,
      },
      { limit: page.limit, start },
      rollingRange ? { r: range } : {},
    );
    return {
      ...this.listedPapers(
        await this.withListingFields(items),
        CategoryEntryTableItemSchema,
        listedPaperFromEntry,
      ),
      cursor,
    };
  }

  /**
   * A category page's entries, each one `listedPaperFromEntry` can read: an entry holds its view
   * and keys only (see `categoryChanges`), so one whose view is not readable (cut short, removed)
   * gets the paper, classification and enrichment of its listing, read by key in one BatchGet for
   * the page: the fields the view was made from, so the page reads as it would from the view.
   * Entries with a readable view, or written with their paper, are returned as they are.
   */
  private async withListingFields(
    entries: readonly Record<string, unknown>[],
  ): Promise<Record<string, unknown>[]> {
    const listingKey = (entry: Record<string, unknown>) => {
      const listedOn = IsoDateSchema.safeParse(entry.listedOn);
      return listedOn.success ? { pk: String(entry.pk), sk: listingSk(listedOn.data) } : undefined;
    };
    const bare = entries.filter((entry) => readView(entry) === undefined && entry.paper === undefined);
    if (bare.length === 0) return [...entries];
    const keys = bare.map(listingKey).filter((key) => key !== undefined);
    const listings = await batchGet(this.client, this.tableName, keys, LISTING_WITHOUT_VIEW);
    return entries.map((entry) => {
      const key = bare.includes(entry) ? listingKey(entry) : undefined;
      const listing = key && listings.get(keyId(key));
      // Without a listing (or with one not holding a paper) the entry stays unreadable, and is
      // skipped with its key logged.
      if (!listing || typeof listing.paper !== 'object' || listing.paper === null) return entry;
      return {
        ...entry,
        // Checked with the entry's schema next, as any entry read in full.
        paper: stablePaperOf(listing.paper as Paper),
        classification: listing.classification,
        ...enrichmentFields(listing as EnrichmentFields),
      };
    });
  }

  async listedPaper(id: string, listedOn: IsoDate): Promise<Paper | undefined> {
    return (await this.listedPaperWithEnrichment(id, listedOn))?.paper;
  }

  async listedPaperWithEnrichment(
    id: string,
    listedOn: IsoDate,
  ): Promise<{ paper: Paper; enrichment: EnrichmentFields } | undefined> {
    const { Item: item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: paperPk(id), sk: listingSk(listedOn) },
        ConsistentRead: true,
      }),
    );
    if (!item) return undefined;
    const listing = readListingItem(item);
    if (listing instanceof Error) throw listing;
    const { upvotes: _upvotes, comments: _comments, ...paper } = listing.paper;
    return { paper: { ...paper, ...listingFigures(listing) }, enrichment: enrichmentFields(listing) };
  }

  async paperById(id: string): Promise<PaperRecord | undefined> {
    // Listings and upvote snapshots in one range of the partition (`LISTED#` sorts before
    // `UPVOTES#`, category entries before both): one Query, not one per kind. Without the
    // listings' API views (a second copy of the paper, which a record does not use); a snapshot's
    // attributes are among a listing's.
    const items = await this.paperItems(id, {
      low: LISTING_SK_PREFIX,
      high: `${UPVOTES_SK_PREFIX}\uffff`,
      projection: LISTING_WITHOUT_VIEW,
    });
    const ofKind = (prefix: string) => items.filter((item) => String(item.sk).startsWith(prefix));
    const listings = this.readable(ofKind(LISTING_SK_PREFIX), ListingTableItemSchema);
    const latest = listings.reduce<(typeof listings)[number] | undefined>(
      (best, listing) => (!best || listing.fetchedAt > best.fetchedAt ? listing : best),
      undefined,
    );
    if (!latest) return undefined;
    const { listedOn: _listedOn, upvotes: _upvotes, comments: _comments, ...paper } = latest.paper;
    // The latest classification: listings are classified in turn, and a reclassification may lag.
    const classified = listings
      .filter((listing) => listing.classification)
      .reduce<(typeof listings)[number] | undefined>(
        (best, listing) => (!best || listing.fetchedAt > best.fetchedAt ? listing : best),
        undefined,
      );
    const classification = classified?.classification;
    const snapshots = this.readable(ofKind(UPVOTES_SK_PREFIX), UpvoteSnapshotTableItemSchema);
    return {
      ...paper,
      listings: listings.map((listing) => ({
        listedOn: listing.listedOn,
        ...listingFigures(listing),
        fetchedAt: listing.fetchedAt,
      })),
      upvoteHistory: upvoteHistory(snapshots),
      ...classificationFields(classification),
      ...(classified ? enrichmentFields(classified) : {}),
    };
  }

  searchPapers(request: SearchRequest) {
    return searchPapers(this.client, this.tableName, request, this.reportSkipped, this.termBuckets);
  }

  papersInRange(request: RangeRequest) {
    return papersInRange(this.client, this.tableName, request, this.reportSkipped);
  }

  categoryCounts(from: IsoDate, to: IsoDate) {
    return categoryCounts(this.client, this.tableName, from, to, this.reportSkipped);
  }

  qualityListingsOn(day: IsoDate) {
    return qualityListingsOn(this.client, this.tableName, day, this.reportSkipped);
  }

  async ingestedDay(day: IsoDate): Promise<IngestedDay | undefined> {
    const { Item: item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: DAYS_PK, sk: day } }),
    );
    if (!item) return undefined;
    const [read] = this.readable([item], DayItemSchema);
    return read && ingestedDayOf(read);
  }

  private readonly reportSkipped = (item: Record<string, unknown>, problem: string) => {
    this.logger.warn('unreadable item skipped', {
      pk: item[papersTable.partitionKey.name],
      sk: item[papersTable.sortKey.name],
      problem,
    });
  };

  /**
   * Every item of a paper's partition whose sort key lies within `low`–`high`, in sort-key order.
   * A paper's partition is small (a listing per day listed, a few category entries, a snapshot per
   * fetch that changed its figures): read whole, a page of 100 at a time.
   */
  private async paperItems(
    id: string,
    range: { low: string; high: string; projection?: QuerySpec['projection'] },
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const name = `paper:${id}:${range.low}..${range.high}`;
    let cursor: string | undefined;
    do {
      const page = await this.query(
        {
          name,
          partition: paperPk(id),
          sortKeyCondition: {
            expression: '#sort BETWEEN :low AND :high',
            values: { ':low': range.low, ':high': range.high },
          },
          ...(range.projection ? { projection: range.projection } : {}),
        },
        { limit: 100, start: decodeCursor(cursor, name) },
      );
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return items;
  }

  async ingestedDays(page: PageRequest): Promise<Page<IngestedDay>> {
    const { items, cursor } = await this.query({ name: 'days', partition: DAYS_PK, descending: true }, page);
    return {
      items: this.readable(items, DayItemSchema).map(ingestedDayOf),
      cursor,
    };
  }

  /**
   * A list page's papers and their JSON: an item's stored view (see {@link LISTED_PAPER_VIEW}) as
   * it is, checked only for being a JSON object with an id and a day (it was validated when
   * written); an item without one through `schema` and `toPaper`, as every item was read before.
   */
  private listedPapers<S extends z.core.$ZodType>(
    items: readonly Record<string, unknown>[],
    schema: S,
    toPaper: (item: z.infer<S>) => ListedPaper,
  ): Pick<Page<ListedPaper>, 'items' | typeof ITEMS_JSON> {
    const papers: ListedPaper[] = [];
    const texts: string[] = [];
    for (const item of items) {
      const view = readView(item);
      if (view) {
        papers.push(view.paper);
        texts.push(view.text);
        continue;
      }
      const [read] = this.readable([item], schema);
      if (read === undefined) continue;
      const paper = toPaper(read);
      papers.push(paper);
      texts.push(JSON.stringify(paper));
    }
    return { items: papers, [ITEMS_JSON]: texts };
  }

  /**
   * The items that pass `schema`. One that fails (written by an older version, or by hand) is
   * skipped and logged with its key rather than failing every page that holds it.
   */
  private readable<S extends z.core.$ZodType>(
    items: readonly Record<string, unknown>[],
    schema: S,
  ): z.infer<S>[] {
    const read: z.infer<S>[] = [];
    for (const item of items) {
      const result = z.safeParse(schema, item);
      if (result.success) {
        read.push(result.data);
        continue;
      }
      this.logger.warn('unreadable item skipped', {
        pk: item[papersTable.partitionKey.name],
        sk: item[papersTable.sortKey.name],
        problem: z.prettifyError(result.error),
      });
    }
    return read;
  }

  /**
   * One Query page on one partition. The cursor names the query it belongs to (partition and
   * range included), so it cannot be replayed against another; its start key must be a key of
   * this query's table or index, in this partition, with values DynamoDB and its marshaller take:
   * anything else a client forged is an {@link InvalidCursorError}, not a 500.
   *
   * It reads one item more than the page holds: DynamoDB returns a LastEvaluatedKey whenever a page
   * fills exactly, which would send clients to an empty last page. With the extra item in hand, a
   * full page has a cursor only when something follows it (the cursor is then the key of the page's
   * last item, as DynamoDB would have given). A page may hold fewer items than asked when some
   * were unreadable and skipped; the cursor still follows the items read.
   */
  private async query(
    spec: QuerySpec,
    { limit, cursor, start = decodeCursor(cursor, spec.name) }: PageRequest & { start?: DecodedCursor },
    cursorExtras: Omit<DecodedCursor, 'q' | 'k'> = {},
  ): Promise<{ items: Record<string, unknown>[]; cursor?: string }> {
    const partitionKey = spec.index?.partitionKey ?? papersTable.partitionKey;
    const sortKey = spec.index?.sortKey ?? papersTable.sortKey;
    const startKey = start === undefined ? undefined : checkedStartKey(start.k, spec);
    const command = new QueryCommand({
      TableName: this.tableName,
      IndexName: spec.index?.indexName,
      KeyConditionExpression: spec.sortKeyCondition
        ? `#partition = :partition AND ${spec.sortKeyCondition.expression}`
        : '#partition = :partition',
      ExpressionAttributeNames: {
        '#partition': partitionKey.name,
        ...(spec.sortKeyCondition ? { '#sort': sortKey.name } : {}),
        ...spec.projection?.names,
      },
      ProjectionExpression: spec.projection?.expression,
      ExpressionAttributeValues: { ':partition': spec.partition, ...spec.sortKeyCondition?.values },
      ScanIndexForward: !spec.descending,
      Limit: limit + 1,
      ExclusiveStartKey: startKey,
    });
    const send = (query: QueryCommand) =>
      this.client.send(query).catch((error: unknown) => {
        // The query is valid without a start key (the code builds it); with one, DynamoDB's
        // ValidationException can only be about the key a client tampered with (e.g. outside the range).
        if (startKey !== undefined && error instanceof Error && error.name === 'ValidationException') {
          throw new InvalidCursorError('cursor does not fit this query');
        }
        throw error;
      });
    let result = await send(spec.views ? viewQuery(command, spec.index) : command);
    // An item without a readable view (written before views were) needs all its attributes: the
    // same page again, in full. Old tables pay one more Query a page; new ones never do.
    if (spec.views && result.Items?.some((item) => readView(item) === undefined))
      result = await send(command);
    const items = result.Items ?? [];
    if (items.length > limit) {
      const last = items[limit - 1] as Record<string, unknown>;
      return {
        items: items.slice(0, limit),
        cursor: encodeCursor({ ...cursorExtras, q: spec.name, k: keyOf(last, spec.index) }),
      };
    }
    // Fewer: the partition is done, unless DynamoDB stopped at its 1 MB page size first.
    return {
      items,
      cursor: result.LastEvaluatedKey
        ? encodeCursor({ ...cursorExtras, q: spec.name, k: result.LastEvaluatedKey })
        : undefined,
    };
  }
}

/** One Query the store makes: always on one partition of the table or of one index, never a Scan. */
interface QuerySpec {
  /** Names the query for its cursors: the route and everything that picks its items. */
  name: string;
  /** The index queried; the table itself when absent. */
  index?: IndexDefinition;
  /** The value of the (table's or index's) partition key. */
  partition: string;
  /** A condition on the sort key, which it names `#sort` (`#sort BETWEEN :low AND :high`), and its values. */
  sortKeyCondition?: { expression: string; values: Record<string, string> };
  /** Highest sort key first. */
  descending?: boolean;
  /** Read only the items' API views and keys (list pages of listings or category entries). */
  views?: boolean;
  /** Read only these attributes (the keys among them, for the cursor). */
  projection?: { expression: string; names: Record<string, string> };
}

/** `command` reading only the keys (for the cursor) and the API view of each item. */
function viewQuery(command: QueryCommand, index: IndexDefinition | undefined): QueryCommand {
  const names = Object.fromEntries(
    [...keyAttributes(index).map(({ name }) => name), LISTED_PAPER_VIEW].map((name, i) => [`#p${i}`, name]),
  );
  return new QueryCommand({
    ...command.input,
    ProjectionExpression: Object.keys(names).join(', '),
    ExpressionAttributeNames: { ...command.input.ExpressionAttributeNames, ...names },
  });
}

/**
 * An item's stored view, when it has one that is a JSON object with a string id and day: the
 * cheap check of what was validated at write time (a view cut short or written by hand fails it,
 * and the item is read in full instead).
 */
function readView(item: Record<string, unknown>): View | undefined {
  // The page's check and its mapping both ask: parse each view once.
  if (readViews.has(item)) return readViews.get(item);
  const view = parseView(item);
  readViews.set(item, view);
  return view;
}

interface View {
  paper: ListedPaper;
  text: string;
}

const readViews = new WeakMap<object, View | undefined>();

function parseView(item: Record<string, unknown>): View | undefined {
  const text = item[LISTED_PAPER_VIEW];
  if (typeof text !== 'string') return undefined;
  let paper: unknown;
  try {
    paper = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof paper !== 'object' || paper === null) return undefined;
  const { id, listedOn } = paper as { id?: unknown; listedOn?: unknown };
  if (typeof id !== 'string' || typeof listedOn !== 'string') return undefined;
  return { paper: paper as ListedPaper, text };
}

/** The key attributes DynamoDB puts in a LastEvaluatedKey for an item of the table or of one index. */
function keyAttributes(index: IndexDefinition | undefined): KeyAttribute[] {
  const attributes: KeyAttribute[] = [papersTable.partitionKey, papersTable.sortKey];
  if (index) attributes.push(index.partitionKey, index.sortKey);
  // An index may sort on a table key (byDayId sorts on `pk`): each attribute once.
  return [...new Map(attributes.map((attribute) => [attribute.name, attribute])).values()];
}

function keyOf(item: Record<string, unknown>, index: IndexDefinition | undefined): Record<string, unknown> {
  return Object.fromEntries(keyAttributes(index).map(({ name }) => [name, item[name]]));
}

/** A key string as DynamoDB takes it: not empty, well-formed UTF-16 (no lone surrogate), bounded. */
const KeyStringSchema = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine((value) => !/\p{Cs}/u.test(value)),
);
/** Our only numeric key is a count (upvotes): a whole number the marshaller can send as is. */
const KeyNumberSchema = z.number().check(z.int(), z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER));

/**
 * A cursor's start key, checked against the query it is used with.
 * @throws InvalidCursorError when it is not a key of this query's table or index in its partition.
 */
function checkedStartKey(key: Record<string, unknown>, spec: QuerySpec): Record<string, string | number> {
  const shape = Object.fromEntries(
    keyAttributes(spec.index).map(({ name, type }) => [
      name,
      type === 'N' ? KeyNumberSchema : KeyStringSchema,
    ]),
  );
  const result = z.strictObject(shape).safeParse(key);
  const partitionName = (spec.index?.partitionKey ?? papersTable.partitionKey).name;
  if (!result.success || result.data[partitionName] !== spec.partition) {
    throw new InvalidCursorError('cursor does not fit this query');
  }
  return result.data as Record<string, string | number>;
}

/** What a cursor holds: the query it belongs to, the key to start after and, for some queries, their range. */
const CursorSchema = z.object({
  q: z.string(),
  k: z.record(z.string(), z.unknown()),
  r: z.optional(z.object({ from: IsoDateSchema, to: IsoDateSchema })),
});
type DecodedCursor = z.infer<typeof CursorSchema>;

export function encodeCursor(cursor: {
  q: string;
  k: Record<string, unknown>;
  r?: { from: IsoDate; to: IsoDate };
}) {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * The cursor a client passed back, if any.
 * @throws InvalidCursorError when this store did not issue it, or issued it for another query.
 */
export function decodeCursor(cursor: string | undefined, queryName: string): DecodedCursor | undefined {
  if (cursor === undefined) return undefined;
  let parsed: DecodedCursor;
  try {
    parsed = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidCursorError('cursor is not one this API issued');
  }
  if (parsed.q !== queryName) throw new InvalidCursorError('cursor belongs to a different query');
  return parsed;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The range a rolling query's cursor carries: a window as long as today's.
 * @throws InvalidCursorError when it holds none, or one of another length (forged).
 */
function rangeOfCursor(cursor: DecodedCursor, today: { from: IsoDate; to: IsoDate }) {
  const span = (range: { from: IsoDate; to: IsoDate }) =>
    (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS;
  if (!cursor.r || span(cursor.r) !== span(today))
    throw new InvalidCursorError('cursor does not fit this query');
  return cursor.r;
}

function ingestedDayOf(day: z.infer<typeof DayItemSchema>): IngestedDay {
  return {
    day: day.sk,
    papers: day.paperIds?.size ?? 0,
    listed: day.listed,
    lastFetchedAt: day.lastFetchedAt,
    lastStoredAt: day.lastStoredAt,
  };
}

/** Snapshots as the API gives them: oldest fetch first, a fetch's listing days in day order. */
function upvoteHistory(snapshots: readonly UpvoteSnapshotTableItem[]): UpvoteSnapshot[] {
  return snapshots
    .map(({ pk: _pk, sk: _sk, ...snapshot }) => snapshot)
    .sort(
      (a, b) =>
        Date.parse(a.fetchedAt) - Date.parse(b.fetchedAt) ||
        (a.listedOn < b.listedOn ? -1 : a.listedOn > b.listedOn ? 1 : 0),
    );
}

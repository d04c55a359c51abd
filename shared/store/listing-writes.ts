import { isDeepStrictEqual } from 'node:util';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet, keyId, sleep } from './batch-get';
import { assignedCategories, categoryChanges, classificationToken, stablePaperOf } from './category-entries';
import {
  enrichmentFields,
  LISTED_PAPER_VIEW,
  type ListingTableItem,
  ListingTableItemSchema,
  listingFigures,
  listingView,
} from './items';
import { dayPk, listingSk, paperPk, TERM_BUCKETS, upvoteSnapshotSk } from './keys';
import {
  type ListingWrite,
  type ListingWriteOutcome,
  type ListingWriteResult,
  StoreThrottledError,
} from './paper-store';
import { planPostings } from './search-index';

/**
 * The pipeline's one write per listing: a batch of listings, each with its classification,
 * its category entries, its upvote snapshot and its keyword postings (`search-index.ts`), stored in
 * as few TransactWriteItems as fit (100 actions, 4 MB), after one consistent BatchGetItem of what
 * the table holds.
 *
 * Why a read, then a transaction conditioned on it:
 * - a transaction returns no old values, and the write needs them: the category codes a
 *   previous classification indexed (their entries go when no longer assigned), the stored
 *   figures (a snapshot only when they change), the stored fetch (an older capture is refused);
 * - each listing's update is conditioned on the state read (`fetchedAt` as read, and the size of
 *   `indexedCategories`, which only grows, so the same size means the same codes). A concurrent
 *   writer of the same listing between the read and the write fails that condition, and the
 *   listing is read and planned again: no update is lost, and the entries written are always
 *   exactly those of the classification stored with them, in the same transaction.
 *
 * A transaction is all or nothing across its listings: a condition that fails cancels it, and
 * the cancellation reasons say which listing's; the others go again in the next round. A
 * listing whose action DynamoDB refuses (too large) is written alone, so it fails alone.
 */

/** DynamoDB's limits on one TransactWriteItems. */
const TRANSACTION_ACTIONS = 100;
const TRANSACTION_BYTES = 3_500_000; // under the 4 MB limit, leaving room for the request's framing
/** Rounds of read, plan and write before a listing still not written fails (it is retried by its queue). */
const WRITE_ROUNDS = 6;

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

interface Plan {
  outcome: ListingWriteOutcome;
  /** Empty when the table already says it all (a redelivery) or holds a newer fetch (stale). */
  actions: TransactItem[];
}

interface Pending {
  /** Index of the write in the caller's list (the newest of those naming the same listing). */
  index: number;
  key: { pk: string; sk: string };
  /** Sent in a transaction of its own: its last one was refused as a whole. */
  alone: boolean;
}

/**
 * @param termBuckets the keyword postings' layout (`keys.ts`); 0 writes no postings (the benchmark's
 *   measure of what search adds to the write).
 */
export async function storeListingWrites(
  client: DynamoDBDocumentClient,
  tableName: string,
  writes: readonly ListingWrite[],
  now: () => Date,
  termBuckets: number = TERM_BUCKETS,
): Promise<ListingWriteResult[]> {
  const results: (ListingWriteResult | undefined)[] = writes.map(() => undefined);
  // One action per item in a transaction: the same listing twice in a batch (a duplicate delivery)
  // is written once, from its newest fetch; an older one is stale, an equal one shares the result.
  const newest = new Map<string, number>();
  writes.forEach((write, index) => {
    const id = listingId(write);
    const best = newest.get(id);
    if (best === undefined || (writes[best] as ListingWrite).origin.fetchedAt <= write.origin.fetchedAt) {
      newest.set(id, index);
    }
  });
  let pending: Pending[] = [...newest.values()].map((index) => ({
    index,
    key: listingKey(writes[index] as ListingWrite),
    alone: false,
  }));
  let lastError: Error = new StoreThrottledError('listings still unwritten');
  for (let round = 0; pending.length > 0 && round < WRITE_ROUNDS; round++) {
    if (round > 0) await sleep(25 * 2 ** round);
    let stored: Map<string, ListingTableItem>;
    try {
      stored = await readListings(
        client,
        tableName,
        pending.map(({ key }) => key),
      );
    } catch (thrown) {
      lastError = asError(thrown);
      continue;
    }
    const planned: { entry: Pending; plan: Plan }[] = [];
    for (const entry of pending) {
      const write = writes[entry.index] as ListingWrite;
      const plan = planListingWrite(write, stored.get(keyId(entry.key)), now(), tableName, termBuckets);
      if (plan.actions.length === 0) results[entry.index] = { outcome: plan.outcome };
      else planned.push({ entry, plan });
    }
    const next: Pending[] = [];
    await Promise.all(
      packTransactions(planned).map(async (group) => {
        try {
          await client.send(
            new TransactWriteCommand({ TransactItems: group.flatMap(({ plan }) => plan.actions) }),
          );
          for (const { entry, plan } of group) results[entry.index] = { outcome: plan.outcome };
        } catch (thrown) {
          const error = asError(thrown);
          lastError = error;
          if (error instanceof TransactionCanceledException && error.CancellationReasons) {
            const reasons = error.CancellationReasons;
            let offset = 0;
            for (const { entry, plan } of group) {
              const own = reasons.slice(offset, offset + plan.actions.length);
              offset += plan.actions.length;
              const refused = own.find((reason) => reason.Code === 'ValidationError');
              if (refused && group.length === 1) {
                results[entry.index] = {
                  error: new Error(`listing refused: ${refused.Message ?? 'invalid'}`),
                };
              } else next.push({ ...entry, alone: entry.alone || refused !== undefined });
            }
            return;
          }
          if (isRetryable(error)) {
            next.push(...group.map(({ entry }) => entry));
            return;
          }
          // Refused as a whole (a request DynamoDB will not take): alone, each listing fails alone.
          if (group.length === 1) {
            const [only] = group;
            if (only) results[only.entry.index] = { error };
          } else next.push(...group.map(({ entry }) => ({ ...entry, alone: true })));
        }
      }),
    );
    pending = next;
  }
  for (const { index } of pending) {
    results[index] = {
      error:
        lastError instanceof StoreThrottledError
          ? lastError
          : new StoreThrottledError(
              `listing still unwritten after ${WRITE_ROUNDS} rounds: ${lastError.message}`,
              {
                cause: lastError,
              },
            ),
    };
  }
  return writes.map((write, index) => {
    const own = results[index];
    if (own) return own;
    const chosen = newest.get(listingId(write)) as number;
    const winner = results[chosen] as ListingWriteResult;
    if ((writes[chosen] as ListingWrite).origin.fetchedAt > write.origin.fetchedAt && !('error' in winner)) {
      return { outcome: 'stale' };
    }
    return winner;
  });
}

/**
 * What one listing write does given the stored item (pure): refused when the table holds a
 * newer fetch; nothing when it already holds this fetch as given (a redelivery); only the fetch
 * time and archive key when a newer fetch changed nothing (the figures, the paper and the
 * classification are the same: no snapshot, no entries); else the whole listing with its
 * classification, its category entries and, when the figures changed, a snapshot. In every case
 * but the first, the keyword postings of its text when they are not the ones `searchIndexed` names
 * (a new text, or a listing stored before postings went in its transaction).
 */
export function planListingWrite(
  given: ListingWrite,
  stored: ListingTableItem | undefined,
  at: Date,
  tableName: string,
  termBuckets: number = TERM_BUCKETS,
): Plan {
  const write = keepEarlierAnswer(given, stored);
  const { paper, origin, classification } = write;
  const enrichment = enrichmentFields(write);
  if (stored && stored.fetchedAt > origin.fetchedAt) return { outcome: 'stale', actions: [] };
  const key = listingKey(write);
  const { upvotes, comments } = paper;
  const stable = stablePaperOf(paper);
  const before = stored ? listingFigures(stored) : {};
  const figuresChanged =
    (upvotes !== undefined && upvotes !== before.upvotes) ||
    (comments !== undefined && comments !== before.comments);
  const paperChanged =
    !stored ||
    !isDeepStrictEqual(withoutUndefined(stored.paper), withoutUndefined(stable)) ||
    stored.listedOn !== origin.listedOn;
  const classificationChanged =
    classification !== undefined &&
    (!stored?.classification ||
      classificationToken(undefined, stored.classification) !==
        classificationToken(undefined, classification) ||
      !isDeepStrictEqual(withoutUndefined(stored.classification), withoutUndefined(classification)));
  const enrichmentChanged =
    (Object.keys(enrichment) as (keyof typeof enrichment)[]).some(
      (name) =>
        stored?.[name] === undefined ||
        !isDeepStrictEqual(withoutUndefined(stored[name]), withoutUndefined(enrichment[name])),
    ) ||
    // A paper no longer enriched (arXiv answered without it) keeps no stale answer.
    (write.enrichment !== undefined && write.enrichment !== 'enriched' && stored?.arxiv !== undefined);
  const condition = stored ? seenCondition(stored) : { ConditionExpression: 'attribute_not_exists(pk)' };
  // In the listing's transaction, under its condition: the postings always match the text stored.
  const postings =
    termBuckets > 0
      ? planPostings(
          { id: paper.id, listedOn: origin.listedOn },
          stable,
          stored?.searchIndexed,
          stored !== undefined,
          tableName,
          termBuckets,
        )
      : undefined;

  if (stored && !paperChanged && !figuresChanged && !classificationChanged && !enrichmentChanged) {
    const sameFetch = stored.fetchedAt === origin.fetchedAt && stored.archiveKey === origin.archiveKey;
    const classifiedAlready = classification === undefined || stored.classifiedFrom === origin.fetchedAt;
    if (sameFetch && classifiedAlready && !postings) return { outcome: 'unchanged', actions: [] };
    // The fetch time still moves forward, or a later, older capture would pass the condition.
    const sets = ['fetchedAt = :fetchedAt', 'archiveKey = :archiveKey'];
    const values: Record<string, unknown> = {
      ':fetchedAt': origin.fetchedAt,
      ':archiveKey': origin.archiveKey,
    };
    if (upvotes !== undefined) sets.push('upvotesFetchedAt = :fetchedAt');
    if (classification !== undefined) sets.push('classifiedFrom = :fetchedAt');
    if (postings) {
      sets.push('searchIndexed = :searchIndexed');
      values[':searchIndexed'] = postings.indexedAs;
    }
    // The view shows the fetch time, so it is written again with it.
    const view = listingView({
      ...stored,
      fetchedAt: origin.fetchedAt,
      archiveKey: origin.archiveKey,
      ...(upvotes === undefined ? {} : { upvotesFetchedAt: origin.fetchedAt }),
      ...(classification === undefined ? {} : { classifiedFrom: origin.fetchedAt }),
    });
    const removeView = viewUpdate(view, sets, values);
    return {
      outcome: 'unchanged',
      actions: [
        {
          Update: {
            TableName: tableName,
            Key: key,
            UpdateExpression: `SET ${sets.join(', ')}${removeClause(removeView)}`,
            ...withValues(condition, values),
          },
        },
        ...(postings?.actions ?? []),
      ],
    };
  }

  const sets = [
    'paper = :paper',
    'dayPk = :dayPk',
    'listedOn = :listedOn',
    'fetchedAt = :fetchedAt',
    'archiveKey = :archiveKey',
    'storedAt = if_not_exists(storedAt, :now)',
  ];
  const values: Record<string, unknown> = {
    ':paper': stable,
    ':dayPk': dayPk(origin.listedOn),
    ':listedOn': origin.listedOn,
    ':fetchedAt': origin.fetchedAt,
    ':archiveKey': origin.archiveKey,
    ':now': at.toISOString(),
  };
  // The per-day figures, each set only when this fetch gives it: a later fetch that lacks them
  // (a page without counts, a feed that has none) keeps the stored ones.
  if (upvotes === undefined) {
    // byDay's sort key must be a number for the listing to be on its day at all.
    sets.push('upvotes = if_not_exists(upvotes, :noUpvotes)');
    values[':noUpvotes'] = 0;
  } else {
    sets.push('upvotes = :upvotes', 'upvotesFetchedAt = :fetchedAt');
    values[':upvotes'] = upvotes;
  }
  if (comments !== undefined) {
    sets.push('comments = :comments');
    values[':comments'] = comments;
  }
  for (const [name, value] of Object.entries(enrichment)) {
    sets.push(`${name} = :${name}`);
    values[`:${name}`] = value;
  }
  const removes =
    write.enrichment !== undefined && write.enrichment !== 'enriched' && stored?.arxiv !== undefined
      ? ['arxiv']
      : [];
  let add = '';
  const actions: TransactItem[] = [];
  if (classification !== undefined) {
    sets.push('classification = :classification', 'classifiedFrom = :fetchedAt');
    values[':classification'] = classification;
    const codes = [...assignedCategories(classification).keys()];
    // `indexedCategories` only grows: every code that may have an entry stays in it.
    if (codes.length > 0) {
      add = ' ADD indexedCategories :codes';
      values[':codes'] = new Set(codes);
    }
    const changes = categoryChanges(
      key,
      stable,
      origin.listedOn,
      origin.fetchedAt,
      classification,
      stored?.indexedCategories ?? new Set(),
      enrichment,
    );
    for (const item of changes.puts) actions.push({ Put: { TableName: tableName, Item: item } });
    for (const entryKey of changes.deletes) actions.push({ Delete: { TableName: tableName, Key: entryKey } });
  }
  if (postings) {
    sets.push('searchIndexed = :searchIndexed');
    values[':searchIndexed'] = postings.indexedAs;
    actions.push(...postings.actions);
  }
  if (figuresChanged) {
    actions.push({
      Put: {
        TableName: tableName,
        Item: {
          pk: key.pk,
          sk: upvoteSnapshotSk(origin.listedOn, origin.fetchedAt),
          listedOn: origin.listedOn,
          fetchedAt: origin.fetchedAt,
          ...(upvotes === undefined ? {} : { upvotes }),
          ...(comments === undefined ? {} : { comments }),
        },
      },
    });
  }
  // The listing as this update leaves it (the condition pins what it was), and its API view.
  const view = listingView({
    ...stored,
    ...key,
    paper: stable,
    listedOn: origin.listedOn,
    fetchedAt: origin.fetchedAt,
    archiveKey: origin.archiveKey,
    storedAt: stored?.storedAt ?? values[':now'],
    upvotes: upvotes ?? stored?.upvotes ?? 0,
    ...(upvotes === undefined ? {} : { upvotesFetchedAt: origin.fetchedAt }),
    ...(comments === undefined ? {} : { comments }),
    ...(classification === undefined ? {} : { classification, classifiedFrom: origin.fetchedAt }),
    ...enrichment,
    ...(removes.length > 0 ? { arxiv: undefined } : {}),
  });
  const removeView = viewUpdate(view, sets, values);
  actions.unshift({
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `SET ${sets.join(', ')}${add}${removeClause([...removes, ...removeView])}`,
      ...withValues(condition, values),
    },
  });
  return { outcome: stored ? 'updated' : 'created', actions };
}

/**
 * Adds the view to an update's `sets` and `values`, or gives the attribute to remove when there is
 * no view to write (too large): a view never outlives its item's state.
 */
function viewUpdate(view: string | undefined, sets: string[], values: Record<string, unknown>): string[] {
  // Call it before joining `sets`: it adds to them.
  if (view === undefined) return [LISTED_PAPER_VIEW];
  sets.push(`${LISTED_PAPER_VIEW} = :view`);
  values[':view'] = view;
  return [];
}

/** An update expression's REMOVE clause for `names`, or nothing. */
function removeClause(names: readonly string[]): string {
  return names.length === 0 ? '' : ` REMOVE ${names.join(', ')}`;
}

/**
 * A write whose enrichment is `pending` (arXiv down this time) over a listing arXiv already
 * enriched keeps arXiv's answer: the stored classification and enrichment stay, only the model's
 * prediction is updated.
 */
function keepEarlierAnswer(write: ListingWrite, stored: ListingTableItem | undefined): ListingWrite {
  if (write.enrichment !== 'pending' || stored?.enrichment !== 'enriched') return write;
  const { classification: _classification, enrichment: _enrichment, arxiv: _arxiv, ...kept } = write;
  return kept;
}

/** The listing is as it was read: the same fetch, the same indexed category codes (a set that only grows). */
function seenCondition(stored: ListingTableItem): {
  ConditionExpression: string;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  const indexed = stored.indexedCategories?.size ?? 0;
  return {
    ConditionExpression:
      indexed > 0
        ? 'fetchedAt = :seenFetchedAt AND size(indexedCategories) = :seenIndexed'
        : 'fetchedAt = :seenFetchedAt AND attribute_not_exists(indexedCategories)',
    ExpressionAttributeValues: {
      ':seenFetchedAt': stored.fetchedAt,
      ...(indexed > 0 ? { ':seenIndexed': indexed } : {}),
    },
  };
}

function withValues(
  condition: { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
  values: Record<string, unknown>,
) {
  return {
    ConditionExpression: condition.ConditionExpression,
    ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ...values },
  };
}

/** Groups the listings' actions into transactions, a listing's actions always in one. */
function packTransactions(planned: { entry: Pending; plan: Plan }[]): { entry: Pending; plan: Plan }[][] {
  const groups: { entry: Pending; plan: Plan }[][] = [];
  let current: { entry: Pending; plan: Plan }[] = [];
  let actions = 0;
  let bytes = 0;
  for (const item of planned) {
    const size = JSON.stringify(item.plan.actions, setsAsArrays).length;
    const full =
      current.length > 0 &&
      (item.entry.alone ||
        current[0]?.entry.alone ||
        actions + item.plan.actions.length > TRANSACTION_ACTIONS ||
        bytes + size > TRANSACTION_BYTES);
    if (full) {
      groups.push(current);
      current = [];
      actions = 0;
      bytes = 0;
    }
    current.push(item);
    actions += item.plan.actions.length;
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

async function readListings(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<Map<string, ListingTableItem>> {
  const found = new Map<string, ListingTableItem>();
  for (const raw of (await batchGet(client, tableName, keys)).values()) {
    const item = ListingTableItemSchema.parse(raw);
    found.set(keyId(item), item);
  }
  return found;
}

/** Errors a later attempt may not meet: throttling, a conflicting transaction, a server fault. */
function isRetryable(error: Error): boolean {
  return (
    [
      'ProvisionedThroughputExceededException',
      'ThrottlingException',
      'RequestLimitExceeded',
      'TransactionConflictException',
      'TransactionInProgressException',
      'InternalServerError',
      'ServiceUnavailable',
    ].includes(error.name) || (error as { $retryable?: unknown }).$retryable !== undefined
  );
}

function listingKey(write: ListingWrite): { pk: string; sk: string } {
  return { pk: paperPk(write.paper.id), sk: listingSk(write.origin.listedOn) };
}

function listingId(write: ListingWrite): string {
  return keyId(listingKey(write));
}

function withoutUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function setsAsArrays(_key: string, value: unknown): unknown {
  return value instanceof Set ? [...value] : value;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

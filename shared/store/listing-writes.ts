import { isDeepStrictEqual } from 'node:util';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet, keyId, sleep } from './batch-get';
import { assignedCategories, categoryChanges, classificationToken, stablePaperOf } from './category-entries';
import {
  enrichmentFields,
  LISTED_PAPER_VIEW,
  type ListingTableItem,
  listingFigures,
  listingView,
  readListingItem,
} from './items';
import { dayPk, listingSk, paperPk, TERM_BUCKETS, upvoteSnapshotSk } from './keys';
import {
  type ListingWrite,
  type ListingWriteOutcome,
  type ListingWriteResult,
  StoreThrottledError,
  UnreadableListingError,
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
 * - each listing's update is conditioned on the state read: its `revision`, which every write of
 *   the listing item adds one to, with `fetchedAt` and the size of `indexedCategories` (which only
 *   grows, so the same size means the same codes) for items written before revisions. A concurrent
 *   writer of the same listing between the read and the write, even one of the same capture (a
 *   reclassify beside arXiv's answer), fails that condition, and the listing is read and planned
 *   again: no update is lost, and the entries written are always exactly those of the
 *   classification stored with them, in the same transaction.
 *
 * A transaction is all or nothing across its listings: a condition that fails cancels it, and
 * the cancellation reasons say which listing's; that one is read and planned again in a
 * transaction of its own, the others (planned again too) in the next round's, so a listing that
 * keeps conflicting cannot hold its batch-mates back. A listing whose action DynamoDB refuses (too
 * large) is written alone, so it fails alone. A stored listing that fails its schema fails its
 * write alone, for good (`UnreadableListingError`): writing over state it cannot read could orphan
 * its category entries.
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
  /** Index of the write in the caller's list (one of the newest fetch of those naming the listing). */
  index: number;
  key: { pk: string; sk: string };
  /** Sent in a transaction of its own: its last one was refused or cancelled by its condition. */
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
  // is written from its newest fetch; an older one is stale, an identical one shares the result.
  // Different writes of that newest fetch (a model's and arXiv's of one capture) are each applied,
  // one round after the other in the batch's order, each planned from what the one before left.
  const { turns, sameAs } = writeTurns(writes);
  let pending: Pending[] = [...turns.values()].map(([index]) => ({
    index: index as number,
    key: listingKey(writes[index as number] as ListingWrite),
    alone: false,
  }));
  /** The listing's next write of the same fetch, once this one has its result. */
  const nextTurn = (entry: Pending): Pending[] => {
    const turn = turns.get(keyId(entry.key)) as number[];
    const following = turn[turn.indexOf(entry.index) + 1];
    return following === undefined ? [] : [{ index: following, key: entry.key, alone: false }];
  };
  let lastError: Error = new StoreThrottledError('listings still unwritten');
  let contended = false;
  for (let round = 0; pending.length > 0 && round < WRITE_ROUNDS; round++) {
    // Backing off only after a failed read or write; a listing's next write of its fetch goes at once.
    if (contended) await sleep(25 * 2 ** round);
    contended = false;
    let stored: Map<string, ListingTableItem | UnreadableListingError>;
    try {
      stored = await readListings(
        client,
        tableName,
        pending.map(({ key }) => key),
      );
    } catch (thrown) {
      lastError = asError(thrown);
      contended = true;
      continue;
    }
    const next: Pending[] = [];
    const planned: { entry: Pending; plan: Plan }[] = [];
    for (const entry of pending) {
      const write = writes[entry.index] as ListingWrite;
      const item = stored.get(keyId(entry.key));
      if (item instanceof UnreadableListingError) {
        results[entry.index] = { error: item };
        next.push(...nextTurn(entry));
        continue;
      }
      const plan = planListingWrite(write, item, now(), tableName, termBuckets);
      if (plan.actions.length === 0) {
        results[entry.index] = { outcome: plan.outcome };
        next.push(...nextTurn(entry));
      } else planned.push({ entry, plan });
    }
    await Promise.all(
      packTransactions(planned).map(async (group) => {
        try {
          await client.send(
            new TransactWriteCommand({ TransactItems: group.flatMap(({ plan }) => plan.actions) }),
          );
          for (const { entry, plan } of group) {
            results[entry.index] = { outcome: plan.outcome };
            next.push(...nextTurn(entry));
          }
        } catch (thrown) {
          const error = asError(thrown);
          lastError = error;
          contended = true;
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
                next.push(...nextTurn(entry));
                continue;
              }
              // The listings that caused the cancellation go alone next: the others are not held back.
              const caused = own.some((reason) => reason.Code !== undefined && reason.Code !== 'None');
              next.push({ ...entry, alone: entry.alone || caused });
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
            if (only) {
              results[only.entry.index] = { error };
              next.push(...nextTurn(only.entry));
            }
          } else next.push(...group.map(({ entry }) => ({ ...entry, alone: true })));
        }
      }),
    );
    pending = next;
  }
  // A listing left unwritten, with the writes of its fetch still to go after it.
  const unwritten = pending.flatMap(({ index, key }) => {
    const turn = turns.get(keyId(key)) as number[];
    return turn.slice(turn.indexOf(index));
  });
  for (const index of unwritten) {
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
    const twin = sameAs.get(index);
    const own = results[index] ?? (twin === undefined ? undefined : results[twin]);
    if (own) return own;
    // Older than the newest fetch of its listing in the batch: stale, unless that one failed.
    const turn = turns.get(listingId(write)) as number[];
    const failed = turn.map((newer) => results[newer]).find((result) => result?.error);
    return failed ?? { outcome: 'stale' };
  });
}

/**
 * For each listing a batch names (by key id): the indexes of the writes of its newest fetch, in the
 * batch's order, one of each identical group; and, for every other write identical to one of
 * those, that one's index (it shares its result).
 */
function writeTurns(writes: readonly ListingWrite[]): {
  turns: Map<string, number[]>;
  sameAs: Map<number, number>;
} {
  const newestFetch = new Map<string, string>();
  for (const write of writes) {
    const id = listingId(write);
    const best = newestFetch.get(id);
    if (best === undefined || best < write.origin.fetchedAt) newestFetch.set(id, write.origin.fetchedAt);
  }
  const turns = new Map<string, number[]>();
  const sameAs = new Map<number, number>();
  writes.forEach((write, index) => {
    const id = listingId(write);
    if (write.origin.fetchedAt !== newestFetch.get(id)) return;
    const turn = turns.get(id) ?? [];
    const twin = turn.find((other) => isDeepStrictEqual(writes[other], write));
    if (twin === undefined) turns.set(id, [...turn, index]);
    else sameAs.set(index, twin);
  });
  return { turns, sameAs };
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
            UpdateExpression: `SET ${sets.join(', ')} ADD ${NEXT_REVISION}${removeClause(removeView)}`,
            ...withValues(condition, { ...values, ...NEXT_REVISION_VALUES }),
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
  const adds = [NEXT_REVISION];
  Object.assign(values, NEXT_REVISION_VALUES);
  const actions: TransactItem[] = [];
  if (classification !== undefined) {
    sets.push('classification = :classification', 'classifiedFrom = :fetchedAt');
    values[':classification'] = classification;
    const codes = [...assignedCategories(classification).keys()];
    // `indexedCategories` only grows: every code that may have an entry stays in it.
    if (codes.length > 0) {
      adds.push('indexedCategories :codes');
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
      UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}${removeClause([...removes, ...removeView])}`,
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

/**
 * Every write of a listing item adds one to its `revision` (`putClassification`'s too), so a write
 * conditioned on the revision it read fails when any other write came between.
 */
export const NEXT_REVISION = 'revision :oneRevision';
export const NEXT_REVISION_VALUES = { ':oneRevision': 1 } as const;

/**
 * The listing is as it was read: the same revision, and (for an item written before revisions, and
 * a writer that adds to its codes without one) the same fetch and the same indexed category codes
 * (a set that only grows).
 */
function seenCondition(stored: ListingTableItem): {
  ConditionExpression: string;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  const indexed = stored.indexedCategories?.size ?? 0;
  const conditions = [
    'fetchedAt = :seenFetchedAt',
    indexed > 0 ? 'size(indexedCategories) = :seenIndexed' : 'attribute_not_exists(indexedCategories)',
    stored.revision === undefined ? 'attribute_not_exists(revision)' : 'revision = :seenRevision',
  ];
  return {
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeValues: {
      ':seenFetchedAt': stored.fetchedAt,
      ...(indexed > 0 ? { ':seenIndexed': indexed } : {}),
      ...(stored.revision === undefined ? {} : { ':seenRevision': stored.revision }),
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

/** The stored listings by key id; one that fails its schema as the error that says why, alone. */
async function readListings(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<Map<string, ListingTableItem | UnreadableListingError>> {
  const found = new Map<string, ListingTableItem | UnreadableListingError>();
  for (const [id, raw] of await batchGet(client, tableName, keys)) found.set(id, readListingItem(raw));
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

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RequestLimiter } from '../fetch/request-limiter';
import { requestGateKey } from '../store/keys';

/**
 * One request at a time to an upstream, at least `spacingMs` between two starts, across every
 * process that runs at once: fetch-listing's daily run, its revisit runs, a backfill's parallel
 * days, `papers enrich`, a local CLI. arXiv's terms ask for both (one connection, 3 s apart), and
 * Lambda runs many copies of one function, so an in-memory limiter (`request-limiter.ts`) is not
 * enough: the gate is one item of the papers table (`RATE#<upstream>` / `RATE`), the same code
 * on AWS and on the local stand-in.
 *
 * The item holds `nextAt` (the earliest next start, epoch ms), the `holder` of the request running
 * now with its `leaseUntil`, and a `version` every change bumps. A caller reads it, waits while
 * someone holds it, then reserves the next slot (`nextAt = max(now, nextAt) + spacing`, itself as
 * holder) with an update conditioned on the version it read: of two callers racing for one slot,
 * one wins and the other reads again. The holder keeps it until {@link TableRequestGate.release},
 * which also moves `nextAt` to at least `spacingMs` after the request ended;
 * a holder that died (a Lambda timeout) loses it when its lease ends. Within one process the
 * callers also queue in memory, so they do not race each other through the table.
 */

export interface TableRequestGate extends RequestLimiter {
  /** Ends the request that `acquire` admitted: the next caller may start (at its slot). */
  release(): Promise<void>;
}

export interface TableRequestGateOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Names the upstream (`arxiv`): one gate item per upstream. */
  upstream: string;
  /** The least time between two request starts. */
  spacingMs: number;
  /** How long a holder may keep the gate before it counts as dead: longer than one attempt. */
  leaseMs: number;
  /** How often a waiting caller reads the gate again. @default min(250, spacingMs) */
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface GateState {
  nextAt?: number;
  holder?: string;
  leaseUntil?: number;
  version?: number;
}

/** @throws RangeError for a spacing or lease that is not a positive number of ms. */
export function createTableRequestGate(options: TableRequestGateOptions): TableRequestGate {
  const { client, tableName, spacingMs, leaseMs } = options;
  if (!(spacingMs > 0) || !(leaseMs > 0)) {
    throw new RangeError(
      `a request gate needs spacingMs > 0 and leaseMs > 0, got ${spacingMs} and ${leaseMs}`,
    );
  }
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = options.pollMs ?? Math.min(250, spacingMs);
  const key = requestGateKey(options.upstream);
  let tail: Promise<void> = Promise.resolve();
  let held: { holder: string; releaseLocal: () => void } | undefined;

  async function readGate(): Promise<GateState> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
    );
    const item = (Item ?? {}) as Record<string, unknown>;
    const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
    return {
      nextAt: number(item.nextAt),
      holder: typeof item.holder === 'string' ? item.holder : undefined,
      leaseUntil: number(item.leaseUntil),
      version: number(item.version),
    };
  }

  async function reserve(holder: string): Promise<void> {
    for (;;) {
      const gate = await readGate();
      const at = now();
      if (gate.holder !== undefined && (gate.leaseUntil ?? 0) > at) {
        await sleep(Math.max(1, Math.min(pollMs, (gate.leaseUntil ?? at) - at)));
        continue;
      }
      const slot = Math.max(at, gate.nextAt ?? 0);
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression:
              'SET nextAt = :nextAt, holder = :holder, leaseUntil = :lease, version = :version',
            ConditionExpression:
              gate.version === undefined ? 'attribute_not_exists(version)' : 'version = :seen',
            ExpressionAttributeValues: {
              ':nextAt': slot + spacingMs,
              ':holder': holder,
              ':lease': slot + leaseMs,
              ':version': (gate.version ?? 0) + 1,
              ...(gate.version === undefined ? {} : { ':seen': gate.version }),
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue; // someone else moved first
        throw error;
      }
      const wait = slot - now();
      if (wait > 0) await sleep(wait);
      return;
    }
  }

  return {
    async acquire() {
      const previous = tail;
      let releaseLocal = () => {};
      tail = new Promise<void>((resolve) => {
        releaseLocal = resolve;
      });
      await previous;
      const holder = randomUUID();
      try {
        await reserve(holder);
      } catch (error) {
        releaseLocal();
        throw error;
      }
      held = { holder, releaseLocal };
    },
    async release() {
      const current = held;
      if (!current) return;
      held = undefined;
      // The spacing also runs from the end of this request: arXiv then sees the next request start
      // at least `spacingMs` after this one ended, whatever the connection's set-up time.
      const after = now() + spacingMs;
      const releaseWith = (spacedFromEnd: boolean) =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: `REMOVE holder, leaseUntil SET version = version + :one${spacedFromEnd ? ', nextAt = :after' : ''}`,
            ConditionExpression: spacedFromEnd ? 'holder = :holder AND nextAt < :after' : 'holder = :holder',
            ExpressionAttributeValues: {
              ':holder': current.holder,
              ':one': 1,
              ...(spacedFromEnd ? { ':after': after } : {}),
            },
          }),
        );
      try {
        await releaseWith(true).catch(async (error: unknown) => {
          // nextAt is later already (a Retry-After), or the gate is no longer ours.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          await releaseWith(false);
        });
      } catch (error) {
        // The lease ran out and another caller holds it now: nothing of ours to release.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      } finally {
        current.releaseLocal();
      }
    },
    holdFor(ms: number) {
      // The upstream said Retry-After: no one starts before then. Best effort (never throws).
      const until = now() + ms;
      void client
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET nextAt = :until, version = if_not_exists(version, :zero) + :one',
            ConditionExpression: 'attribute_not_exists(nextAt) OR nextAt < :until',
            ExpressionAttributeValues: { ':until': until, ':zero': 0, ':one': 1 },
          }),
        )
        .catch(() => {});
    },
  };
}

/**
 * The table's request gate against the local DynamoDB stand-in: two gates on one table stand for
 * two processes (two Lambda instances, a Lambda and a CLI), which share nothing but the table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { createTableRequestGate } from '../../shared/arxiv/request-gate';
import { makeDocumentClient } from '../../shared/aws/dynamodb';

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-gate-'));
  stack = await openLocalStack({ dataDir });
});

afterAll(async () => {
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function gate(upstream: string, options: { spacingMs: number; leaseMs: number }) {
  return createTableRequestGate({
    client: makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    tableName: stack.env.TABLE_NAME ?? '',
    upstream,
    pollMs: 20,
    ...options,
  });
}

describe('createTableRequestGate', () => {
  it('admits one request at a time, spaced, across two processes and within each', async () => {
    // Prepare: two "processes", each with two callers making three requests of 50 ms
    const spacingMs = 150;
    const gates = [
      gate('spaced', { spacingMs, leaseMs: 5_000 }),
      gate('spaced', { spacingMs, leaseMs: 5_000 }),
    ];
    const spans: { start: number; end: number }[] = [];

    // Act
    await Promise.all(
      [0, 0, 1, 1].map(async (which) => {
        const own = gates[which] as (typeof gates)[number];
        for (let i = 0; i < 3; i++) {
          await own.acquire();
          const start = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 50));
          spans.push({ start, end: Date.now() });
          await own.release();
        }
      }),
    );

    // Assess: 12 requests, never two at once, each start at least the spacing after the last end
    spans.sort((a, b) => a.start - b.start);
    expect(spans).toHaveLength(12);
    for (let i = 1; i < spans.length; i++) {
      const previous = spans[i - 1] as (typeof spans)[number];
      expect((spans[i] as (typeof spans)[number]).start - previous.end).toBeGreaterThanOrEqual(spacingMs - 2);
    }
  });

  it('takes the gate back from a holder that died, once its lease is over', async () => {
    const dead = gate('lease', { spacingMs: 10, leaseMs: 400 });
    const alive = gate('lease', { spacingMs: 10, leaseMs: 400 });
    await dead.acquire(); // and never releases it

    const started = Date.now();
    await alive.acquire();
    await alive.release();

    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });
});

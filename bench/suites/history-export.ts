import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { addDays } from '../../shared/query/parameters';
import { dayPk, listingSk, paperPk } from '../../shared/store/keys';
import type { BenchSuite, Metric } from '../harness';

/**
 * `history.exportPeakRssMb`: peak RSS above the process's baseline while `papers export` writes
 * 20,000 stored listings (200 days of 100 papers, classified, with realistic abstracts and author
 * lists) to JSON lines. The table is seeded on a local stack in this process; the export runs in a
 * child process connected to it (`history-export-child.ts`), as `papers export` runs when another
 * process owns the stack. The baseline is the child's RSS after a full GC, just before the export
 * starts; RSS is sampled every 10 ms during the export, and the kernel's peak is read at its end.
 */

const DAYS = 200;
const PAPERS_PER_DAY = 100;
const FIRST_DAY = '2024-01-01';
const ABSTRACT = 'We study a method that improves the training of large models on long sequences. '.repeat(
  18,
);

function listingItem(day: string, index: number) {
  const id = `${day.slice(2, 4)}${day.slice(5, 7)}.${String(10000 + index)}`;
  const fetchedAt = `${day}T23:30:00.000Z`;
  return {
    pk: paperPk(id),
    sk: listingSk(day),
    dayPk: dayPk(day),
    listedOn: day,
    fetchedAt,
    archiveKey: `listings/${day.replaceAll('-', '/')}/bench.json`,
    storedAt: fetchedAt,
    upvotes: (index * 37) % 300,
    upvotesFetchedAt: fetchedAt,
    comments: index % 9,
    paper: {
      id,
      title: `A study of long-context training, variant ${index} of ${day}`,
      abstract: ABSTRACT,
      authors: Array.from({ length: 8 }, (_, author) => `Author ${author} Surname${index}`),
      organization: { name: 'example-lab', fullname: 'Example Lab' },
      publishedOn: day,
      links: {
        arxiv: `https://arxiv.org/abs/${id}`,
        huggingface: `https://huggingface.co/papers/${id}`,
      },
      source: 'hf-api',
    },
    classification: {
      categories: ['cs.LG', 'cs.CL', 'cs.AI', 'stat.ML', 'cs.CV'].map((code, rank) => ({
        code,
        name: `Name of ${code}`,
        group: 'Computer Science',
        score: 0.9 - rank * 0.15,
        assigned: rank < 2,
        terms: ['training', 'long context', 'sequences'],
      })),
      primaryCategory: 'cs.LG',
      classifierVersion: 'bench-0',
      categorySource: 'model',
    },
  };
}

export const suite: BenchSuite = {
  name: 'history-export',
  async run(): Promise<Metric[]> {
    const dataDir = path.join(os.tmpdir(), `papers-bench-export-${process.pid}`);
    const stack = await openLocalStack({ dataDir });
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    const table = stack.env.TABLE_NAME ?? '';
    const out = path.join(dataDir, 'export.jsonl');
    try {
      const seedStart = performance.now();
      const lastDay = addDays(FIRST_DAY, DAYS - 1);
      for (let day = FIRST_DAY; day <= lastDay; day = addDays(day, 1)) {
        for (let start = 0; start < PAPERS_PER_DAY; start += 25) {
          const items = Array.from({ length: Math.min(25, PAPERS_PER_DAY - start) }, (_, i) =>
            listingItem(day, start + i),
          );
          const result = await client.send(
            new BatchWriteCommand({
              RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
            }),
          );
          if (Object.keys(result.UnprocessedItems ?? {}).length > 0)
            throw new Error('seeding left items unprocessed');
        }
      }
      const seedSeconds = (performance.now() - seedStart) / 1000;

      // The export runs in a process of its own, connected to this one's stack: the figure is the
      // exporting process's memory, not the stand-in database's (on AWS DynamoDB is elsewhere).
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          ...process.execArgv,
          '--expose-gc',
          fileURLToPath(new URL('./history-export-child.ts', import.meta.url)),
          stack.env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
          table,
          FIRST_DAY,
          lastDay,
          out,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      const { rows, seconds, baseline, peak, gc } = JSON.parse(
        stdout.trimEnd().split('\n').at(-1) ?? '{}',
      ) as {
        rows: number;
        seconds: number;
        baseline: number;
        peak: number;
        gc: boolean;
      };
      if (rows !== DAYS * PAPERS_PER_DAY)
        throw new Error(`exported ${rows} rows, expected ${DAYS * PAPERS_PER_DAY}`);
      const mb = (bytes: number) => bytes / 1024 / 1024;
      return [
        {
          name: 'history.exportPeakRssMb',
          value: mb(peak - baseline),
          unit: 'MB',
          target: { max: 50 },
          note:
            `${rows} listings (${DAYS} days × ${PAPERS_PER_DAY}) to JSON lines in ${seconds.toFixed(1)} s ` +
            `(${Math.round(rows / seconds)} rows/s); baseline RSS ${mb(baseline).toFixed(0)} MB, peak ${mb(peak).toFixed(0)} MB` +
            ` of the exporting process (its own, connected to the stack)${gc ? ', baseline after a full GC' : ''}; seeding took ${seedSeconds.toFixed(1)} s`,
        },
      ];
    } finally {
      client.destroy();
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

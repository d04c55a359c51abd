import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadHandlers } from '../../local/handlers';
import { runReplay } from '../../local/history';
import { openLocalStack } from '../../local/stack';
import { archiveListing } from '../../shared/archive';
import { daysBetween } from '../../shared/history/day-range';
import type { BenchSuite, Metric } from '../harness';

/**
 * `history.replayPapersPerSecond`: `papers replay` of 20 archived days of 100 papers each (2,000
 * papers) on the local stack: listing the archive, reading each raw listing, splitting it into
 * parse messages, and parse + classify through both queues into an empty table. The archive is
 * seeded with `archiveListing` (what fetch-listing archives with), untimed.
 */

const DAYS = daysBetween('2026-05-04', '2026-05-23');
const PAPERS_PER_DAY = 100;
const FIXTURES = [
  'hf-daily-papers-2026-06-12.json',
  'hf-daily-papers-2026-07-10+13.json',
  'hf-daily-papers-2026-08-03.json',
];

/** Real API items, re-identified so every one is a distinct paper listed on `day`. */
function listingOf(templates: Record<string, unknown>[], day: string, dayIndex: number): unknown[] {
  return Array.from({ length: PAPERS_PER_DAY }, (_, i) => {
    const item = structuredClone(templates[i % templates.length]) as { paper: Record<string, unknown> };
    item.paper.id = `2605.${String(10000 + dayIndex * PAPERS_PER_DAY + i).padStart(5, '0')}`;
    item.paper.title = `${String(item.paper.title)} (day ${dayIndex}, variant ${i})`;
    item.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
    return item;
  });
}

export const suite: BenchSuite = {
  name: 'history-replay',
  async run(): Promise<Metric[]> {
    const templates: Record<string, unknown>[] = [];
    for (const name of FIXTURES) {
      const text = await readFile(new URL(`../../test/fixtures/listings/${name}`, import.meta.url), 'utf8');
      templates.push(...(JSON.parse(text) as Record<string, unknown>[]));
    }
    const dataDir = path.join(os.tmpdir(), `papers-bench-replay-${process.pid}`);
    const stack = await openLocalStack({ dataDir });
    try {
      const bucket = stack.env.ARCHIVE_BUCKET ?? '';
      for (const [index, day] of DAYS.entries()) {
        await archiveListing(stack.s3, bucket, {
          bytes: Buffer.from(JSON.stringify(listingOf(templates, day, index))),
          listedOn: day,
          url: `https://huggingface.co/api/daily_papers?date=${day}&limit=100`,
          fetchedAt: `${day}T23:30:00.000Z`,
          contentType: 'application/json',
          format: 'hf-api',
          parseStatus: 'parsed',
          items: PAPERS_PER_DAY,
        });
      }
      const handlers = await loadHandlers(stack);
      const start = performance.now();
      const report = await runReplay(stack, handlers, DAYS, { retryDelaySeconds: 0 });
      const seconds = (performance.now() - start) / 1000;
      const failed = report.consumers.reduce((sum, consumer) => sum + consumer.failedRecords, 0);
      const expected = DAYS.length * PAPERS_PER_DAY;
      if (report.papers !== expected || failed > 0) {
        throw new Error(
          `bench replay was not clean: ${report.papers} of ${expected} papers sent, ${failed} failed`,
        );
      }
      return [
        {
          name: 'history.replayPapersPerSecond',
          value: expected / seconds,
          unit: 'papers/s',
          note: `${expected} archived papers (${DAYS.length} days), archive read + parse + classify, ${seconds.toFixed(2)} s`,
        },
      ];
    } finally {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadHandlers } from '../../local/handlers';
import { runIngest } from '../../local/ingest';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { classifyPaper } from '../../shared/classify';
import { canonicalCategory } from '../../shared/classify/taxonomy';
import { percentage } from '../../shared/quality/live-quality';
import { readQualityReport } from '../../shared/quality/read-quality';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { startArxivServer } from '../../test/support/arxiv-server';
import { startFixtureServer } from '../../test/support/fixture-server';
import type { BenchSuite, Metric } from '../harness';

/**
 * arXiv enrichment through the real fetch-listing handler on the local stack, HF's listing and
 * arXiv's export API both served on 127.0.0.1, the spacing at its default (3 s).
 *
 * The papers are the committed validation sample of the labelled arXiv data set
 * (`test/fixtures/classify/validation-sample.jsonl.gz`: real arXiv papers the model never saw in
 * training), listed as HF would list them, and the arXiv stand-in answers each id with that
 * paper's own categories. So the run measures both figures of the issue:
 * - `enrich.requestsPerPaper`: arXiv requests / papers on the first day, of 50 papers (target
 *   at most 0.02: one request per day of up to 100 papers);
 * - `enrich.live.*`: the live quality figures (`GET /quality`'s) over every day of the run, to
 *   set beside the model's validation figures, which they should be close to.
 */

const FIRST_DAY = { day: '2026-09-14', papers: 50 };
/** More days, of 100 papers each, so the live figures rest on the whole sample (1,450 papers). */
const MORE_DAYS = Array.from({ length: 14 }, (_, i) => `2026-09-${String(15 + i).padStart(2, '0')}`);
const PAPERS_PER_MORE_DAY = 100;

interface LabelledPaper {
  id: string;
  title: string;
  abstract: string;
  categories: string[];
  primary: string;
}

async function labelledPapers(): Promise<LabelledPaper[]> {
  const gz = await readFile(
    new URL('../../test/fixtures/classify/validation-sample.jsonl.gz', import.meta.url),
  );
  return (
    gunzipSync(gz)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LabelledPaper)
      // New-style ids only: the ones HF lists (old `math/0501001` ids never appear there).
      .filter((paper) => /^\d{4}\.\d{4,5}$/.test(paper.id))
  );
}

/** An HF daily-papers API item for `paper`, listed on `day`. */
function hfItem(paper: LabelledPaper, day: string, index: number) {
  return {
    paper: {
      id: paper.id,
      authors: [{ name: 'A. Author' }],
      publishedAt: `${day}T00:00:00.000Z`,
      submittedOnDailyAt: `${day}T00:00:00.000Z`,
      title: paper.title,
      summary: paper.abstract,
      upvotes: 100 - (index % 100),
    },
    publishedAt: `${day}T00:00:00.000Z`,
    title: paper.title,
    summary: paper.abstract,
    numComments: 0,
  };
}

/**
 * The three figures of the model run directly on `papers` (no pipeline): what the live figures
 * must equal when the pipeline stores the model's prediction and arXiv's answer faithfully.
 */
function directFigures(papers: readonly LabelledPaper[]) {
  const counts = { top1IsPrimary: 0, top1InCategories: 0, primaryInTop3: 0 };
  for (const paper of papers) {
    const ranked = classifyPaper({ title: paper.title, abstract: paper.abstract }).categories.map(
      (category) => canonicalCategory(category.code),
    );
    const primary = canonicalCategory(paper.primary);
    if (ranked[0] === primary) counts.top1IsPrimary++;
    if (paper.categories.map(canonicalCategory).includes(ranked[0] ?? '')) counts.top1InCategories++;
    if (ranked.slice(0, 3).includes(primary)) counts.primaryInTop3++;
  }
  return {
    top1IsPrimary: percentage(counts.top1IsPrimary, papers.length),
    top1InCategories: percentage(counts.top1InCategories, papers.length),
    primaryInTop3: percentage(counts.primaryInTop3, papers.length),
  };
}

export const suite: BenchSuite = {
  name: 'enrich',
  async run(): Promise<Metric[]> {
    const papers = await labelledPapers();
    const days = [FIRST_DAY, ...MORE_DAYS.map((day) => ({ day, papers: PAPERS_PER_MORE_DAY }))];
    const listings = new Map<string, ReturnType<typeof hfItem>[]>();
    let next = 0;
    for (const { day, papers: count } of days) {
      listings.set(
        day,
        papers.slice(next, next + count).map((paper, i) => hfItem(paper, day, i)),
      );
      next += count;
    }
    const hf = await startFixtureServer((url) => ({
      body: JSON.stringify(listings.get(url.searchParams.get('date') ?? '') ?? []),
    }));
    const arxiv = await startArxivServer();
    for (const paper of papers.slice(0, next)) {
      arxiv.setCategories(paper.id, [
        paper.primary,
        ...paper.categories.filter((code) => code !== paper.primary),
      ]);
    }
    process.env.LISTING_URL_TEMPLATE = `${hf.origin}/api/daily_papers?date={date}&limit=100`;
    process.env.FETCH_PAGE_DELAY_MS = '0';
    process.env.ARXIV_API_URL = arxiv.url;
    const dataDir = path.join(os.tmpdir(), `papers-bench-enrich-${process.pid}`);
    const stack = await openLocalStack({ dataDir });
    try {
      const handlers = await loadHandlers(stack);
      const store = new DynamoPaperStore(
        makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
        stack.env.TABLE_NAME ?? '',
      );
      const first = await runIngest(stack, handlers, { date: FIRST_DAY.day }, { retryDelaySeconds: 0 });
      const firstDayRequests = arxiv.requests.length;
      for (const day of MORE_DAYS) await runIngest(stack, handlers, { date: day }, { retryDelaySeconds: 0 });

      const report = await readQualityReport(store, {
        from: FIRST_DAY.day,
        to: MORE_DAYS.at(-1) ?? FIRST_DAY.day,
      });
      const firstDay = report.items.find((item) => item.day === FIRST_DAY.day);
      if (first.listed !== FIRST_DAY.papers || firstDay?.enriched !== FIRST_DAY.papers) {
        throw new Error(
          `bench enrich was not clean: ${first.listed} listed, ${firstDay?.enriched} enriched of ${FIRST_DAY.papers}`,
        );
      }
      const { total, validation } = report;
      const live = total.percent;
      if (!live || total.enriched !== next) {
        throw new Error(`bench enrich: ${total.enriched} of ${next} papers enriched`);
      }
      const direct = directFigures(papers.slice(0, next));
      const figure = (key: keyof typeof live, label: string): Metric => ({
        name: `enrich.live.${key}`,
        value: live[key],
        unit: '%',
        note: `${label}: ${total.counts[key]} of ${total.enriched} enriched papers over ${days.length} days (the model run directly on the same papers: ${direct[key]}); its validation figure is ${validation.percent[key]}`,
      });
      return [
        {
          name: 'enrich.requestsPerPaper',
          value: firstDayRequests / FIRST_DAY.papers,
          unit: 'requests/paper',
          target: { max: 0.02 },
          note: `${firstDayRequests} arXiv request(s) for a day of ${FIRST_DAY.papers} papers, all enriched; ${arxiv.requests.length} for all ${next} papers of ${days.length} days`,
        },
        figure('top1IsPrimary', "the model's first category is arXiv's primary"),
        figure('top1InCategories', "the model's first category is one of arXiv's"),
        figure('primaryInTop3', "arXiv's primary is in the model's top 3"),
      ];
    } finally {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
      await hf.close();
      await arxiv.close();
    }
  },
};

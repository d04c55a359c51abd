import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadHandlers } from '../../local/handlers';
import { runIngest } from '../../local/ingest';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { startArxivServer } from '../../test/support/arxiv-server';
import { startFixtureServer } from '../../test/support/fixture-server';
import type { BenchSuite, Metric } from '../harness';

/**
 * `enrich.requestsPerPaper`: a day of 50 papers through the real fetch-listing handler on the
 * local stack, HF's listing and arXiv's export API both served on 127.0.0.1 (arXiv's entries from
 * the real export-API fixture), the spacing at its default (3 s). Requests to arXiv / papers
 * listed; the target is at most 0.02 (one request per day of up to 100 papers).
 */

const DAY = '2026-09-14';
const PAPERS = 50;

export const suite: BenchSuite = {
  name: 'enrich',
  async run(): Promise<Metric[]> {
    const text = await readFile(
      new URL('../../test/fixtures/listings/hf-daily-papers-2026-06-12.json', import.meta.url),
      'utf8',
    );
    const templates = JSON.parse(text) as { paper: Record<string, unknown> }[];
    const listing = Array.from({ length: PAPERS }, (_, i) => {
      const item = structuredClone(templates[i % templates.length]) as { paper: Record<string, unknown> };
      item.paper.id = `2609.${String(14000 + i).padStart(5, '0')}`;
      item.paper.submittedOnDailyAt = `${DAY}T00:00:00.000Z`;
      return item;
    });
    const hf = await startFixtureServer(() => ({ body: JSON.stringify(listing) }));
    const arxiv = await startArxivServer();
    process.env.LISTING_URL_TEMPLATE = `${hf.origin}/api/daily_papers?date={date}&limit=100`;
    process.env.FETCH_PAGE_DELAY_MS = '0';
    process.env.ARXIV_API_URL = arxiv.url;
    const dataDir = path.join(os.tmpdir(), `papers-bench-enrich-${process.pid}`);
    const stack = await openLocalStack({ dataDir });
    try {
      const handlers = await loadHandlers(stack);
      const summary = await runIngest(stack, handlers, { date: DAY }, { retryDelaySeconds: 0 });
      const store = new DynamoPaperStore(
        makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
        stack.env.TABLE_NAME ?? '',
      );
      const papers = (await store.papersListedOn(DAY, { limit: 100 }, 'id')).items;
      const enriched = papers.filter((paper) => paper.enrichment === 'enriched').length;
      if (summary.listed !== PAPERS || enriched !== PAPERS) {
        throw new Error(
          `bench enrich was not clean: ${summary.listed} listed, ${enriched} enriched of ${PAPERS}`,
        );
      }
      return [
        {
          name: 'enrich.requestsPerPaper',
          value: arxiv.requests.length / PAPERS,
          unit: 'requests/paper',
          target: { max: 0.02 },
          note: `${arxiv.requests.length} arXiv request(s) for a day of ${PAPERS} papers, all ${enriched} enriched`,
        },
      ];
    } finally {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
      await hf.close();
      await arxiv.close();
    }
  },
};

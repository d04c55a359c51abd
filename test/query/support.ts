import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import type { Classification } from '../../shared/classification';
import type { IsoDate, Paper } from '../../shared/paper';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';

/** A local stack in a throwaway data folder, with a store on its table. */
export async function openTestStack(dataDir?: string) {
  const ownDir = dataDir === undefined;
  const dir = dataDir ?? (await makeDataDir());
  const stack = await openLocalStack({ dataDir: dir });
  const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
  const tableName = stack.env.TABLE_NAME ?? 'daily-papers';
  const store = new DynamoPaperStore(client, tableName);
  return {
    env: stack.env,
    client,
    tableName,
    store,
    tableVersion: () => stack.tableVersion(),
    async close() {
      client.destroy();
      await stack.close();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function makeDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'papers-query-'));
}

export interface SeedPaper {
  id: string;
  listedOn: IsoDate;
  upvotes: number;
  /** Assigned categories, primary first. */
  categories: string[];
  title?: string;
  authors?: string[];
  fetchedAt?: string;
}

export function paperOf(seed: SeedPaper): Paper {
  return {
    id: seed.id,
    title: seed.title ?? `Paper ${seed.id}`,
    abstract: `Abstract of ${seed.id}.`,
    authors: seed.authors ?? ['Ada Lovelace', 'Alan Turing'],
    listedOn: seed.listedOn,
    upvotes: seed.upvotes,
    links: { arxiv: `https://arxiv.org/abs/${seed.id}` },
    source: 'hf-api',
  };
}

export function classificationOf(codes: string[]): Classification {
  const [primary = 'cs.LG'] = codes;
  return {
    categories: codes.map((code, rank) => ({
      code,
      name: `Name of ${code}`,
      group: 'Test',
      score: 0.9 - rank * 0.1,
      assigned: true,
      terms: ['term'],
    })),
    primaryCategory: primary,
    classifierVersion: 'test-1',
    categorySource: 'model',
  };
}

/** Writes papers the way the pipeline does: listing, listed days, classification, category entries. */
export async function seed(store: DynamoPaperStore, papers: readonly SeedPaper[]): Promise<void> {
  const byDay = new Map<IsoDate, string[]>();
  for (const seedPaper of papers) {
    const paper = paperOf(seedPaper);
    await store.putListing(paper, {
      listedOn: seedPaper.listedOn,
      fetchedAt: seedPaper.fetchedAt ?? `${seedPaper.listedOn}T08:00:00.000Z`,
      archiveKey: `listings/${seedPaper.listedOn}/test.json`,
    });
    byDay.set(seedPaper.listedOn, [...(byDay.get(seedPaper.listedOn) ?? []), seedPaper.id]);
  }
  await store.recordListedDays(byDay);
  const changes = [];
  for (const seedPaper of papers) {
    changes.push(
      await store.putClassification({
        paper: paperOf(seedPaper),
        listedOn: seedPaper.listedOn,
        fetchedAt: seedPaper.fetchedAt ?? `${seedPaper.listedOn}T08:00:00.000Z`,
        classification: classificationOf(seedPaper.categories),
      }),
    );
  }
  await store.applyCategoryChanges(changes);
}

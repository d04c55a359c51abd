import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import type { Classification } from '../shared/classification';
import type { IsoDate, Paper } from '../shared/paper';
import type { PaperStore } from '../shared/store/paper-store';

/**
 * The papers the read-side suites (query, search, serve) seed the local table with: real
 * titles, abstracts and authors from the fixture listings, re-identified so every one is a
 * distinct paper, stored the way classify-paper stores them (`storeListings`, in batches as the
 * classify queue delivers them) with the day records the classify stage adds.
 */

const FIXTURES = [
  'hf-daily-papers-2026-06-12.json',
  'hf-daily-papers-2026-07-10+13.json',
  'hf-daily-papers-2026-08-03.json',
];
/** classify-paper's batch: the classify queue's event-source batch size. */
const STORE_BATCH = 10;

const FixtureSchema = z.array(
  z.object({
    paper: z.object({
      title: z.string(),
      summary: z.string(),
      authors: z.array(z.object({ name: z.string() })),
    }),
  }),
);

interface PaperText {
  title: string;
  abstract: string;
  authors: string[];
}

async function fixtureTexts(): Promise<PaperText[]> {
  const texts: PaperText[] = [];
  for (const name of FIXTURES) {
    const text = await readFile(new URL(`../test/fixtures/listings/${name}`, import.meta.url), 'utf8');
    for (const { paper } of FixtureSchema.parse(JSON.parse(text))) {
      texts.push({ title: paper.title, abstract: paper.summary, authors: paper.authors.map((a) => a.name) });
    }
  }
  if (texts.length === 0) throw new Error('no fixture papers');
  return texts;
}

export interface BenchPapersOptions {
  days: readonly IsoDate[];
  papersPerDay: number;
  /** The first paper's number: ids are `2606.<firstId + n>`, so suites seeding side by side do not collide. */
  firstId: number;
}

/**
 * `papersPerDay` papers on each of `days`, numbered across the days; the n-th has
 * `(n * 37) % 211` upvotes, so a day's order by upvotes differs from its order by id.
 */
export async function benchPapers({ days, papersPerDay, firstId }: BenchPapersOptions): Promise<Paper[]> {
  const texts = await fixtureTexts();
  return days.flatMap((day, d) =>
    Array.from({ length: papersPerDay }, (_, i): Paper => {
      const n = d * papersPerDay + i;
      const text = texts[n % texts.length] as PaperText;
      const id = `2606.${String(firstId + n)}`;
      return {
        id,
        title: `${text.title} (${n})`,
        abstract: text.abstract,
        authors: text.authors,
        authorCount: text.authors.length,
        listedOn: day,
        publishedOn: day,
        upvotes: (n * 37) % 211,
        comments: n % 7,
        links: { arxiv: `https://arxiv.org/abs/${id}`, huggingface: `https://huggingface.co/papers/${id}` },
        source: 'hf-api',
      };
    }),
  );
}

export interface SeedOptions {
  /** The classification stored with the n-th paper. */
  classify(paper: Paper, n: number): Classification;
}

/**
 * Stores `papers` (each with a `listedOn`) with their classifications, category entries and
 * upvote snapshots and keyword postings (one transaction per batch, as classify-paper writes them),
 * and records each day's fetch and papers.
 * @throws when any listing or posting could not be written: a suite must not time a partial table.
 */
export async function seedPapers(
  store: PaperStore,
  papers: readonly Paper[],
  { classify }: SeedOptions,
): Promise<void> {
  const byDay = new Map<IsoDate, string[]>();
  for (let start = 0; start < papers.length; start += STORE_BATCH) {
    const batch = papers.slice(start, start + STORE_BATCH).map((paper, i) => {
      const listedOn = paper.listedOn;
      if (!listedOn) throw new Error(`bench paper ${paper.id} has no listing day`);
      byDay.set(listedOn, [...(byDay.get(listedOn) ?? []), paper.id]);
      return {
        paper,
        origin: {
          listedOn,
          fetchedAt: `${listedOn}T08:00:00.000Z`,
          archiveKey: `listings/${listedOn}/bench.json`,
        },
        classification: classify(paper, start + i),
      };
    });
    const failed = (await store.storeListings(batch)).find((result) => result.error);
    if (failed?.error) throw new Error(`seeding the bench papers failed: ${failed.error.message}`);
  }
  for (const [day, ids] of byDay) {
    await store.recordFetchedDay(day, { fetchedAt: `${day}T08:00:00.000Z`, listed: ids.length });
  }
  await store.recordListedDays(byDay);
}

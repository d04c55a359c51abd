/// <reference lib="dom" />
// The callbacks given to page.evaluate run in the browser: they need the DOM's types.
/**
 * The web page (`GET /`) in a real browser: Debian's chromium driven by playwright-core, loading the
 * page from `papers serve` after two fixture listings were ingested (2026-06-12, and 2026-07-10 with
 * 2026-07-13 from one listing), then choosing a day, a category, a search and a range, and checking
 * what is shown against what the JSON API answers. A screenshot is left in test/web/.screenshots/
 * (ignored by git). Skipped, saying why, when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';
import { type ServeProcess, startPapersServe } from '../support/papers-serve';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOTS = join(PROJECT_ROOT, 'test/web/.screenshots');

interface ApiPaper {
  id: string;
  title: string;
  upvotes?: number;
  authors?: string[];
  primaryCategory?: string;
  links: { arxiv?: string; huggingface?: string };
  categories?: { code: string; assigned: boolean; terms: string[] }[];
}

const dataDir = mkdtempSync(join(tmpdir(), 'papers-web-'));
const env = { ...process.env, PAPERS_DATA_DIR: dataDir };
let server: ServeProcess | undefined;
let origin = '';
let browser: Browser | undefined;
let page: Page;
const requested: string[] = [];

async function getJson(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${origin}${path}`);
  return { status: response.status, body: await response.json() };
}

async function papersOf(path: string): Promise<ApiPaper[]> {
  const { status, body } = await getJson(path);
  expect(status).toBe(200);
  return (body as { items: ApiPaper[] }).items;
}

/** Waits until the status line has settled on a result (or an error) after a submit. */
async function settled(): Promise<string> {
  await page.waitForFunction(() => {
    const text = document.getElementById('status')?.textContent ?? '';
    return text !== '' && text !== 'Loading…';
  });
  return (await page.locator('#status').textContent()) ?? '';
}

async function submit(): Promise<string> {
  await page.evaluate(() => {
    const status = document.getElementById('status');
    if (status) status.textContent = '';
  });
  await page.getByRole('button', { name: 'Show papers' }).click();
  return settled();
}

/** The primary category most of `papers` have. */
function mostFrequentPrimary(papers: readonly ApiPaper[]): string {
  const counts = new Map<string, number>();
  for (const paper of papers) {
    if (paper.primaryCategory)
      counts.set(paper.primaryCategory, (counts.get(paper.primaryCategory) ?? 0) + 1);
  }
  return ([...counts].sort((a, b) => b[1] - a[1])[0] as [string, number])[0];
}

/** The papers assigned `code` (their primary category or one the classifier assigned), as the page's filter means it. */
function inCategoryOf(papers: readonly ApiPaper[], code: string): ApiPaper[] {
  return papers.filter(
    (paper) =>
      paper.primaryCategory === code ||
      (paper.categories ?? []).some((category) => category.assigned && category.code === code),
  );
}

/**
 * The papers shown are exactly `expected`, with the upvotes `expected` gives each, most upvoted
 * first (ties in any order), and not all at 0: the figures came through, and the order is theirs.
 */
async function expectShownInUpvoteOrder(expected: readonly ApiPaper[]): Promise<void> {
  const ids = (await shownIds()) as string[];
  const figures = (await page.locator('#papers .upvotes').allTextContents()).map((text) =>
    Number.parseInt(text, 10),
  );
  const upvotesOf = new Map(expected.map((paper) => [paper.id, paper.upvotes ?? 0]));
  expect([...ids].sort()).toEqual(expected.map((paper) => paper.id).sort());
  expect(figures).toEqual(ids.map((id) => upvotesOf.get(id)));
  expect(figures).toEqual([...figures].sort((a, b) => b - a));
  expect(figures.some((figure) => figure > 0)).toBe(true);
}

const shownIds = () => page.locator('#papers > li').evaluateAll((items) => items.map((li) => li.dataset.id));

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'the web page in chromium'
    : `the web page in chromium: skipped, ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  () => {
    beforeAll(async () => {
      for (const listing of ['hf-daily-papers-2026-06-12.json', 'hf-daily-papers-2026-07-10+13.json']) {
        const ingest = await runPapersCli(['ingest', '--source', `test/fixtures/listings/${listing}`], {
          env,
        });
        expect(ingest.code, ingest.stderr).toBe(0);
      }
      server = await startPapersServe([], env);
      origin = server.origin;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu'],
      });
      page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      page.on('request', (request) => requested.push(request.url()));
      await page.goto(`${origin}/`);
      await settled();
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('opens on the latest ingested day with every control labelled and the feeds linked', async () => {
      await expect(page.getByLabel('Day', { exact: true }).inputValue()).resolves.toBe('2026-07-13');
      await expect(page.getByLabel('From', { exact: true }).isVisible()).resolves.toBe(false);
      for (const label of ['One day', 'A range', 'Category', 'Search']) {
        await expect(page.getByLabel(label, { exact: true }).count()).resolves.toBe(1);
      }
      const latest = await papersOf('/papers?date=2026-07-13&limit=100');
      await expect(shownIds()).resolves.toEqual(latest.map((paper) => paper.id));
      await expect(page.locator('a[href="feeds/daily.xml"]').count()).resolves.toBeGreaterThan(0);
      await expect(page.locator('link[rel="alternate"][type="application/atom+xml"]').count()).resolves.toBe(
        1,
      );
    });

    it('shows the papers of the day chosen, most upvoted first, with authors, links and categories', async () => {
      await page.getByLabel('Day', { exact: true }).selectOption('2026-06-12');
      const status = await submit();

      const papers = await papersOf('/papers?date=2026-06-12&limit=100');
      expect(papers).toHaveLength(30);
      expect(status).toBe('30 paper(s) on 2026-06-12, most upvoted first.');
      const ids = await shownIds();
      expect(ids).toEqual(papers.map((paper) => paper.id));
      const upvotes = await page.locator('#papers .upvotes').allTextContents();
      expect(upvotes.map((text) => Number.parseInt(text, 10))).toEqual(
        papers.map((paper) => paper.upvotes ?? 0),
      );

      const top = papers[0] as ApiPaper;
      const first = page.locator('#papers > li').first();
      await expect(first.locator('h3').textContent()).resolves.toBe(top.title);
      await expect(first.locator('.authors').textContent()).resolves.toBe((top.authors ?? []).join(', '));
      await expect(first.getByRole('link', { name: 'arXiv' }).getAttribute('href')).resolves.toBe(
        top.links.arxiv,
      );
      const primary = top.categories?.find((category) => category.code === top.primaryCategory);
      const badge = first.locator('.cat.primary');
      await expect(badge.textContent()).resolves.toBe(top.primaryCategory);
      // The explanation terms on hover (title) and on keyboard focus (data-terms, shown by CSS).
      await expect(badge.getAttribute('title')).resolves.toContain(primary?.terms.join(', '));
      await expect(badge.getAttribute('tabindex')).resolves.toBe('0');
      await badge.focus();
      const tooltip = await badge.evaluate((node) => getComputedStyle(node, '::after').content);
      expect(tooltip).toBe(JSON.stringify(primary?.terms.join(', ')));
    });

    it('narrows the day to a category, and links its feed', async () => {
      const day = await papersOf('/papers?date=2026-06-12&limit=100');
      const code = mostFrequentPrimary(day);
      await page.getByLabel('Category', { exact: true }).fill(code);
      const status = await submit();

      // From the day route, which carries each listing's upvotes (the category route's entries do not).
      const expected = inCategoryOf(day, code);
      expect(status).toBe(`${expected.length} paper(s) in ${code} on 2026-06-12, most upvoted first.`);
      await expectShownInUpvoteOrder(expected);
      for (const item of await page.locator('#papers > li').all()) {
        await expect(item.locator('.cat').allTextContents()).resolves.toContain(code);
      }
      await expect(page.locator('#category-feed a').getAttribute('href')).resolves.toBe(
        `feeds/categories/${code}.xml`,
      );
    });

    it('searches within the day and category, or says why the API refused', async () => {
      const chosenCategory = await page.getByLabel('Category', { exact: true }).inputValue();
      const shown = await shownIds();
      const day = await papersOf('/papers?date=2026-06-12&limit=100');
      const title = day.find((paper) => paper.id === shown[0])?.title ?? '';
      const word = (title.match(/[A-Za-z]{6,}/) ?? ['model'])[0].toLowerCase();
      await page.getByLabel('Search', { exact: true }).fill(word);
      const status = await submit();

      const answer = await getJson(
        `/papers?${new URLSearchParams({ q: word, date: '2026-06-12', category: chosenCategory, limit: '100' })}`,
      );
      if (answer.status === 200) {
        const found = (answer.body as { items: ApiPaper[] }).items;
        expect(found.length).toBeGreaterThan(0);
        expect(status).toContain(`matching “${word}”`);
        await expect(shownIds()).resolves.toEqual(
          [...found].sort((a, b) => (b.upvotes ?? 0) - (a.upvotes ?? 0)).map((paper) => paper.id),
        );
      } else {
        // The search route is not in this build of the API: the page says what the API said.
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(status).toBe(`Could not load the papers: ${(answer.body as { message: string }).message}`);
        await expect(page.locator('#status').getAttribute('class')).resolves.toBe('error');
        await expect(page.locator('#papers > li').count()).resolves.toBe(0);
      }
    });

    it('charts papers per category per day over a range, and lists each paper once', async () => {
      await page.getByLabel('Search', { exact: true }).fill('');
      await page.getByLabel('Category', { exact: true }).fill('');
      await page.getByLabel('A range', { exact: true }).check();
      await page.getByLabel('From', { exact: true }).selectOption('2026-07-10');
      await page.getByLabel('To', { exact: true }).selectOption('2026-07-13');
      await expect(page.getByLabel('Day', { exact: true }).isVisible()).resolves.toBe(false);
      const status = await submit();

      const [first, second] = await Promise.all([
        papersOf('/papers?date=2026-07-10&limit=100'),
        papersOf('/papers?date=2026-07-13&limit=100'),
      ]);
      const distinct = new Set([...first, ...second].map((paper) => paper.id));
      expect(status).toBe(`${distinct.size} paper(s) on 2026-07-10 to 2026-07-13, most upvoted first.`);
      await expect(page.locator('#papers > li').count()).resolves.toBe(distinct.size);
      const bars = await page.locator('#chart svg g.bar').evaluateAll((groups) =>
        groups.map((group) => ({
          day: group.getAttribute('data-day'),
          total: [...group.querySelectorAll('rect')].reduce(
            (sum, rect) => sum + Number(rect.querySelector('title')?.textContent?.split(': ')[1]),
            0,
          ),
        })),
      );
      expect(bars).toEqual([
        { day: '2026-07-10', total: first.length },
        { day: '2026-07-13', total: second.length },
      ]);
      await expect(page.locator('#chart svg').getAttribute('role')).resolves.toBe('img');
      await expect(page.locator('#chart table tr').count()).resolves.toBe(3);
      await expect(page.evaluate(() => location.hash)).resolves.toBe('#from=2026-07-10&to=2026-07-13');

      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'page.png'), fullPage: true });
    });

    it('shows the view a changed fragment names, without reloading the page', async () => {
      const day = await papersOf('/papers?date=2026-07-10&limit=100');
      const code = mostFrequentPrimary(day);
      await page.evaluate((fragment) => {
        (window as unknown as { notReloaded?: boolean }).notReloaded = true;
        const status = document.getElementById('status');
        if (status) status.textContent = '';
        location.hash = fragment;
      }, `date=2026-07-10&category=${code}`);
      const status = await settled();

      const expected = inCategoryOf(day, code);
      expect(status).toBe(`${expected.length} paper(s) in ${code} on 2026-07-10, most upvoted first.`);
      await expect(page.getByLabel('Day', { exact: true }).inputValue()).resolves.toBe('2026-07-10');
      await expect(page.getByLabel('Day', { exact: true }).isVisible()).resolves.toBe(true);
      await expect(page.getByLabel('Category', { exact: true }).inputValue()).resolves.toBe(code);
      await expectShownInUpvoteOrder(expected);
      await expect(
        page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      ).resolves.toBe(true);
    });

    it('asked for nothing outside the server it came from', () => {
      expect(requested.length).toBeGreaterThan(3);
      expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    });
  },
);

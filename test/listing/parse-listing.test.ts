import { describe, expect, it } from 'vitest';
import { normalizeItem, parseListing, splitListing } from '../../shared/listing/index';
import { PaperSchema } from '../../shared/paper';
import { fixture } from './support';

/** The text page's listing day "Dec 16" is placed by the fetch time. */
const TEXT_CONTEXT = { fetchedAt: '2025-12-16T09:30:00Z' };

describe('parseListing on every saved listing', () => {
  it.each([
    ['hf-daily-papers-2026-06-12.json', 'hf-api', 30],
    ['hf-daily-papers-2026-07-10+13.json', 'hf-api', 25],
    ['hf-daily-papers-2026-08-03.json', 'hf-api', 3],
    ['hf-papers-page-2026-07-10.html', 'hf-html', 11],
    // The issue and the fixtures README say 35, but the page holds 36 papers:
    // 32 blocks with a "·" line plus 4 without author or date lines (see hf-text.test.ts).
    ['hf-papers-page-text.txt', 'hf-text', 36],
    ['arxiv-export-api-2026-06-14.atom.xml', 'arxiv-atom', 5],
    ['arxiv-rss-2026-09-24.xml', 'arxiv-rss', 4],
  ] as const)('reads %s as %s with %i papers and no problems', (file, format, count) => {
    // Prepare
    const bytes = fixture(file);

    // Act
    const listing = parseListing(bytes, TEXT_CONTEXT);

    // Assess
    expect(listing.format).toBe(format);
    expect(listing.problems).toEqual([]);
    expect(listing.papers).toHaveLength(count);
    for (const paper of listing.papers) {
      expect(PaperSchema.parse(paper)).toEqual(paper);
      expect(paper.source).toBe(format);
    }
    expect(new Set(listing.papers.map((paper) => paper.id)).size).toBe(count);
  });

  it('splits the two-day API response by each paper’s listing day', () => {
    // Act
    const { papers } = parseListing(fixture('hf-daily-papers-2026-07-10+13.json'));

    // Assess
    const perDay = new Map<string, number>();
    for (const paper of papers)
      perDay.set(paper.listedOn ?? 'none', (perDay.get(paper.listedOn ?? 'none') ?? 0) + 1);
    expect(Object.fromEntries(perDay)).toEqual({ '2026-07-10': 11, '2026-07-13': 14 });
  });
});

describe('splitListing and normalizeItem', () => {
  it.each([
    'hf-daily-papers-2026-06-12.json',
    'hf-papers-page-2026-07-10.html',
    'hf-papers-page-text.txt',
    'arxiv-export-api-2026-06-14.atom.xml',
    'arxiv-rss-2026-09-24.xml',
  ])('cuts %s into small JSON items that give the same papers after a queue round trip', (file) => {
    // Prepare
    const split = splitListing(fixture(file), TEXT_CONTEXT);

    // Act
    const sent = split.items.map((item) => JSON.stringify(item));
    const papers = sent.map((body) => normalizeItem(JSON.parse(body), TEXT_CONTEXT));

    // Assess
    for (const body of sent) expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
    expect(papers).toEqual(parseListing(fixture(file), TEXT_CONTEXT).papers);
    expect(split.items.map((item) => item.index)).toEqual(split.items.map((_, i) => i));
  });

  it('is deterministic: the same item and context give the same paper', () => {
    // Prepare
    const item = splitListing(fixture('hf-papers-page-text.txt'), TEXT_CONTEXT).items[0];
    if (!item) throw new Error('the text page has no items');

    // Act
    const first = normalizeItem(item, TEXT_CONTEXT);
    const second = normalizeItem(structuredClone(item), TEXT_CONTEXT);

    // Assess
    expect(second).toEqual(first);
  });
});

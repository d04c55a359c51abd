import { describe, expect, it } from 'vitest';
import { mostRecentDayNotAfter } from '../../shared/listing/dates';
import { parseListing, splitListing } from '../../shared/listing/index';
import type { Paper } from '../../shared/paper';
import { fixture, fixtureText } from './support';

const FETCHED_ON_LISTING_DAY = { fetchedAt: '2025-12-16T09:30:00Z' };

function byTitle(papers: Paper[], start: string): Paper {
  const paper = papers.find((candidate) => candidate.title.startsWith(start));
  if (!paper) throw new Error(`no paper titled "${start}…"`);
  return paper;
}

describe('parseListing on the HF papers page as text', () => {
  it('finds every paper: one per "·" block plus the four without author or date lines', () => {
    // Prepare
    const text = fixtureText('hf-papers-page-text.txt');
    const dotBlocks = text.split('\n').filter((line) => line === '·').length;

    // Act
    const { papers } = parseListing(text, FETCHED_ON_LISTING_DAY);

    // Assess
    expect(dotBlocks).toBe(32);
    const bare = papers.filter((paper) => paper.publishedOn === undefined).map((paper) => paper.title);
    expect(bare).toEqual([
      'Robust Layerwise Scaling Rules by Proper Weight Decay Tuning',
      'A Framework for Fast and Stable Representations of Multiparameter Persistent Homology Decompositions',
      'Differentiability and Optimization of Multiparameter Persistent Homology',
      'Stable Vectorization of Multiparameter Persistent Homology using Signed Barcodes as Measures',
    ]);
    expect(papers).toHaveLength(dotBlocks + bare.length);
    expect(papers[0]?.title).toBe(
      'ConViT: Improving Vision Transformers with Soft Convolutional Inductive Biases',
    );
    expect(papers.at(-1)?.title).toBe(
      'Not All Semantics are Created Equal: Contrastive Self-supervised Learning with Automatic Temperature Individualization',
    );
  });

  it('reads the organisation line, a year-less date and the upvote count', () => {
    // Act
    const { papers } = parseListing(fixture('hf-papers-page-text.txt'), FETCHED_ON_LISTING_DAY);

    // Assess
    const paper = byTitle(papers, 'Pretraining with hierarchical memories');
    expect(paper).toMatchObject({
      title: 'Pretraining with hierarchical memories: separating long-tail and common knowledge',
      organization: { name: 'apple', fullname: 'Apple' },
      publishedOn: '2025-09-29',
      listedOn: '2025-12-16',
      upvotes: 2,
      links: {},
      source: 'hf-text',
    });
    expect(paper).not.toHaveProperty('authorCount');
    expect(paper.abstract).toMatch(/^The impressive performance gains of modern language models/);
    expect(byTitle(papers, 'Intelligence per Watt').organization).toEqual({
      name: 'Stanford',
      fullname: 'Stanford AI',
    });
  });

  it('reads "N authors" and a date line with a trailing upvote count', () => {
    // Act
    const { papers } = parseListing(fixture('hf-papers-page-text.txt'), FETCHED_ON_LISTING_DAY);

    // Assess
    expect(byTitle(papers, 'Parallel Scaling Law for Language Models')).toMatchObject({
      authorCount: 8,
      publishedOn: '2025-05-15',
      upvotes: 3,
    });
    expect(byTitle(papers, 'Intrinsic Dimensionality Explains')).toMatchObject({
      title: 'Intrinsic Dimensionality Explains the Effectiveness of Language Model Fine-Tuning',
      authorCount: 3,
      publishedOn: '2020-12-22',
      upvotes: 1,
    });
    const convit = byTitle(papers, 'ConViT');
    expect(convit).toMatchObject({ authorCount: 6, publishedOn: '2021-03-19' });
    expect(convit).not.toHaveProperty('upvotes');
    expect(convit).not.toHaveProperty('authors');
  });

  it('leaves out authors, date and upvotes of a paper that has no such lines', () => {
    // Act
    const { papers } = parseListing(fixture('hf-papers-page-text.txt'), FETCHED_ON_LISTING_DAY);

    // Assess
    const paper = byTitle(papers, 'Robust Layerwise Scaling Rules');
    expect(Object.keys(paper).sort()).toEqual(['abstract', 'id', 'links', 'listedOn', 'source', 'title']);
    expect(paper.abstract).toMatch(
      /^Empirical scaling laws prescribe how to allocate parameters, data, and compute/,
    );
    expect(byTitle(papers, 'Approximate Quantum Compiling')).toMatchObject({
      authorCount: 4,
      publishedOn: '2023-01-20',
    });
  });

  it('infers the year of "Mar 6" from the listing day', () => {
    // Act
    const { papers } = parseListing(fixture('hf-papers-page-text.txt'), FETCHED_ON_LISTING_DAY);

    // Assess
    expect(byTitle(papers, 'Predictable Scale: Part I').publishedOn).toBe('2025-03-06');
    expect(byTitle(papers, 'Intelligence per Watt').publishedOn).toBe('2025-11-11');
    expect(byTitle(papers, 'Discovering highly efficient').publishedOn).toBe('2025-02-20');
  });

  it('places the listing day "Dec 16" in the year before when fetched in early January', () => {
    // Act
    const split = splitListing(fixture('hf-papers-page-text.txt'), { fetchedAt: '2026-01-05T08:00:00Z' });
    const { papers } = parseListing(fixture('hf-papers-page-text.txt'), {
      fetchedAt: '2026-01-05T08:00:00Z',
    });

    // Assess
    expect(split.listedOn).toBe('2025-12-16');
    expect(byTitle(papers, 'How far away are truly hyperparameter-free').publishedOn).toBe('2025-05-29');
  });

  it('anchors on the day asked for before the fetch time: a saved page ingested a year later keeps its day', () => {
    // Act
    const split = splitListing(fixture('hf-papers-page-text.txt'), {
      listedOn: '2025-12-16',
      fetchedAt: '2026-12-20T08:00:00Z',
    });

    // Assess
    expect(split.listedOn).toBe('2025-12-16');
  });

  it('takes the "Dec 16" nearest to the day asked for, even when that day is the one before', () => {
    // Act
    const split = splitListing(fixture('hf-papers-page-text.txt'), {
      listedOn: '2025-12-15',
      fetchedAt: '2025-12-15T08:00:00Z',
    });

    // Assess
    expect(split.listedOn).toBe('2025-12-16');
  });

  it('anchors on context.listedOn when no fetch time is known', () => {
    // Act
    const split = splitListing(fixture('hf-papers-page-text.txt'), { listedOn: '2024-12-20' });

    // Assess
    expect(split.listedOn).toBe('2024-12-16');
  });

  it('keeps full dates but invents no year when neither fetch time nor listing day is known', () => {
    // Act
    const { papers } = parseListing(fixture('hf-papers-page-text.txt'));

    // Assess
    expect(byTitle(papers, 'Predictable Scale: Part I')).not.toHaveProperty('publishedOn');
    expect(byTitle(papers, 'Predictable Scale: Part I')).not.toHaveProperty('listedOn');
    expect(byTitle(papers, 'Intrinsic Dimensionality Explains').publishedOn).toBe('2020-12-22');
  });

  it('reports a block with an unreadable date line and keeps the others', () => {
    // Prepare
    const text = [
      'Daily Papers',
      '',
      'Dec 16',
      '',
      'First Paper',
      '',
      'Its abstract.',
      '',
      '  • 2 authors',
      '·',
      'Sometime in 2025',
      '',
      'Second Paper',
      '',
      'Another abstract.',
      '',
    ].join('\n');

    // Act
    const { papers, problems } = parseListing(text, { listedOn: '2025-12-16' });

    // Assess
    expect(papers.map((paper) => paper.title)).toEqual(['Second Paper']);
    expect(problems).toEqual([
      { index: 0, message: 'hf-text item 0: unreadable date line "Sometime in 2025"' },
    ]);
  });

  it('treats a page with a header and no papers as a normal empty day', () => {
    // Act
    const listing = parseListing(
      'Daily Papers\n\nbyAK and the research community\n\nDec 16\n',
      FETCHED_ON_LISTING_DAY,
    );

    // Assess
    expect(listing).toEqual({ format: 'hf-text', papers: [], problems: [] });
  });
});

describe('mostRecentDayNotAfter', () => {
  it.each([
    [3, 6, '2025-12-16', '2025-03-06'],
    [12, 16, '2025-12-16', '2025-12-16'],
    [12, 17, '2025-12-16', '2024-12-17'],
    [12, 16, '2026-01-05', '2025-12-16'],
    [2, 29, '2025-12-16', '2024-02-29'],
    [2, 30, '2025-12-16', undefined],
  ] as const)('places month %i day %i before %s on %s', (month, day, anchor, expected) => {
    // Act
    const day_ = mostRecentDayNotAfter(month, day, anchor);

    // Assess
    expect(day_).toBe(expected);
  });
});

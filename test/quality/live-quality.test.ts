import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  labelledListing,
  percentage,
  type QualityListing,
  qualityFacts,
  qualityFigures,
  qualityReport,
} from '../../shared/quality/live-quality';
import { qualityReportOfListings } from '../../shared/quality/read-quality';
import { shippedValidationFigures } from '../../shared/quality/validation-figures';

const enriched = (id: string, arxiv: string[], predicted: string[]): QualityListing => ({
  id,
  enrichment: 'enriched',
  arxivCategories: arxiv,
  predictedCodes: predicted,
});

describe('qualityFacts', () => {
  it("gives all three when the model's first is arXiv's primary", () => {
    const facts = qualityFacts({
      id: 'a',
      arxivCategories: ['cs.CV', 'cs.LG'],
      predictedCodes: ['cs.CV', 'cs.AI'],
    });
    expect(facts).toEqual({ top1IsPrimary: true, top1InCategories: true, primaryInTop3: true });
  });

  it("tells a first category that is one of arXiv's but not its primary", () => {
    const facts = qualityFacts({
      id: 'b',
      arxivCategories: ['cs.CL', 'cs.AI'],
      predictedCodes: ['cs.AI', 'cs.LG', 'cs.CL'],
    });
    expect(facts).toEqual({ top1IsPrimary: false, top1InCategories: true, primaryInTop3: true });
  });

  it("does not count arXiv's primary at the model's fourth place as in its top 3", () => {
    const facts = qualityFacts({
      id: 'c',
      arxivCategories: ['cs.LG'],
      predictedCodes: ['stat.ML', 'cs.AI', 'cs.CV', 'cs.LG'],
    });
    expect(facts).toEqual({ top1IsPrimary: false, top1InCategories: false, primaryInTop3: false });
  });

  it('compares the two names of an arXiv alias pair as one category (cs.SY is eess.SY)', () => {
    const facts = qualityFacts({ id: 'd', arxivCategories: ['eess.SY'], predictedCodes: ['cs.SY'] });
    expect(facts).toEqual({ top1IsPrimary: true, top1InCategories: true, primaryInTop3: true });
  });
});

describe('labelledListing', () => {
  it.each([
    ['pending', { id: 'p', enrichment: 'pending', arxivCategories: ['cs.CV'], predictedCodes: ['cs.CV'] }],
    ['not on arXiv', { id: 'title-x', enrichment: 'not-arxiv', predictedCodes: ['cs.CV'] }],
    ['enriched without a prediction', { id: 'n', enrichment: 'enriched', arxivCategories: ['cs.CV'] }],
    ['enriched with no arXiv category', enriched('e', [], ['cs.CV'])],
    ['never enriched', { id: 'o', predictedCodes: ['cs.CV'] }],
  ])('leaves out a listing %s', (_case, listing) => {
    expect(labelledListing(listing as QualityListing)).toBeUndefined();
  });
});

describe('qualityFigures', () => {
  it('counts only enriched papers and gives each figure as a percentage with 2 decimals', () => {
    const figures = qualityFigures([
      enriched('a', ['cs.CV'], ['cs.CV', 'cs.LG']),
      enriched('b', ['cs.CL', 'cs.AI'], ['cs.AI', 'cs.CL']),
      enriched('c', ['cs.LG'], ['stat.ML', 'cs.AI', 'cs.CV']),
      { id: 'p', enrichment: 'pending', predictedCodes: ['cs.CV'] },
    ]);
    expect(figures).toEqual({
      enriched: 3,
      counts: { top1IsPrimary: 1, top1InCategories: 2, primaryInTop3: 2 },
      percent: { top1IsPrimary: 33.33, top1InCategories: 66.67, primaryInTop3: 66.67 },
    });
  });

  it('gives no percentages, not 0, when no paper counts', () => {
    const figures = qualityFigures([{ id: 'p', enrichment: 'pending', predictedCodes: ['cs.CV'] }]);
    expect(figures).toEqual({
      enriched: 0,
      counts: { top1IsPrimary: 0, top1InCategories: 0, primaryInTop3: 0 },
    });
    expect(figures).not.toHaveProperty('percent');
  });
});

describe('qualityReport', () => {
  it("sums the days' counts for the total (each paper weighs the same), days oldest first", () => {
    const validation = shippedValidationFigures();
    const report = qualityReport(
      { from: '2026-06-11', to: '2026-06-13' },
      new Map([
        ['2026-06-13', []],
        ['2026-06-12', [enriched('x', ['cs.CV'], ['cs.LG', 'cs.CV'])]],
        [
          '2026-06-11',
          [
            enriched('a', ['cs.CV'], ['cs.CV']),
            enriched('b', ['cs.CV'], ['cs.CV']),
            enriched('c', ['cs.CV'], ['cs.CV']),
          ],
        ],
      ]),
      validation,
    );
    expect(report.items.map((day) => [day.day, day.listings, day.percent?.top1IsPrimary])).toEqual([
      ['2026-06-11', 3, 100],
      ['2026-06-12', 1, 0],
      ['2026-06-13', 0, undefined],
    ]);
    // 3 of 4 papers, not the mean of the days' 100% and 0%.
    expect(report.total).toMatchObject({ listings: 4, enriched: 4, percent: { top1IsPrimary: 75 } });
    expect(report.validation).toBe(validation);
  });
});

describe('shippedValidationFigures', () => {
  it("are the committed model's validation split figures as percentages", () => {
    const metrics = JSON.parse(
      readFileSync(new URL('../../shared/classify/model/metrics.json', import.meta.url), 'utf8'),
    );
    const figures = shippedValidationFigures();
    expect(figures.model).toBe(metrics.model);
    expect(figures.papers).toBe(metrics.validation.papers);
    for (const name of ['top1IsPrimary', 'top1InCategories', 'primaryInTop3'] as const) {
      expect(figures.percent[name]).toBeCloseTo(metrics.validation[name] * 100, 2);
    }
  });

  it('rounds to 2 decimals', () => {
    expect(percentage(0.7091785499096204, 1)).toBe(70.92);
    expect(percentage(2, 3)).toBe(66.67);
  });
});

describe('qualityReportOfListings', () => {
  it('reports stored listing items in hand by day, every day from the first to the last', () => {
    const item = (id: string, listedOn: string, arxiv: string[] | undefined, predicted: string[]) => ({
      paper: { id },
      listedOn,
      ...(arxiv
        ? {
            enrichment: 'enriched' as const,
            arxiv: { categories: arxiv, atomArchiveKey: 'arxiv/x.xml', enrichedAt: `${listedOn}T09:00:00Z` },
          }
        : { enrichment: 'pending' as const }),
      predictedCategories: predicted.map((code) => ({
        code,
        name: code,
        group: 'Test',
        score: 0.5,
        assigned: true,
        terms: [],
      })),
    });
    const report = qualityReportOfListings([
      item('a', '2026-06-12', ['cs.CV'], ['cs.CV']),
      item('b', '2026-06-10', ['cs.CL', 'cs.AI'], ['cs.AI', 'cs.CL']),
      item('c', '2026-06-10', undefined, ['cs.AI']),
    ]);
    expect([report.from, report.to]).toEqual(['2026-06-10', '2026-06-12']);
    expect(
      report.items.map((day) => [day.day, day.listings, day.enriched, day.percent?.top1IsPrimary]),
    ).toEqual([
      ['2026-06-10', 2, 1, 0],
      ['2026-06-11', 0, 0, undefined],
      ['2026-06-12', 1, 1, 100],
    ]);
    expect(report.total.percent).toEqual({ top1IsPrimary: 50, top1InCategories: 100, primaryInTop3: 100 });
  });
});

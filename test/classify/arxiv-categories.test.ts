import { describe, expect, it } from 'vitest';
import { classifyPaper } from '../../shared/classify';
import { arxivClassification } from '../../shared/classify/arxiv-categories';
import type { PaperEnrichment } from '../../shared/enrichment';
import { classifyWithEnrichment } from '../../shared/pipeline/classify-stage';

const paper = {
  id: '2606.13677',
  title: 'Dexterous manipulation of articulated tools with reinforcement learning',
  abstract:
    'We present a sim-to-real framework for robot hands that learns grasping and in-hand manipulation policies with reinforcement learning and motion planning.',
  links: {},
  source: 'hf-api' as const,
};

const enriched: PaperEnrichment = {
  state: 'enriched',
  arxiv: {
    categories: ['cs.RO', 'q-bio.NC'],
    version: 2,
    atomArchiveKey: 'arxiv/2026/06/14/00.xml',
    enrichedAt: '2026-06-14T02:30:47.000Z',
  },
};

describe('arxivClassification', () => {
  it('keeps arXiv’s order, scores each 1 and assigned, and keeps the model’s terms for the codes it ranked', () => {
    // Prepare
    const predicted = classifyPaper({ title: paper.title, abstract: paper.abstract });
    const ranked = predicted.categories[0];
    if (!ranked) throw new Error('the model ranked nothing');

    // Act
    const classification = arxivClassification(['q-bio.NC', ranked.code, 'q-bio.NC'], predicted);

    // Assess
    expect(classification).toMatchObject({
      primaryCategory: 'q-bio.NC',
      categorySource: 'arxiv',
      classifierVersion: predicted.classifierVersion,
    });
    expect(
      classification.categories.map((category) => [category.code, category.score, category.assigned]),
    ).toEqual([
      ['q-bio.NC', 1, true],
      [ranked.code, 1, true],
    ]);
    expect(classification.categories[1]?.terms).toEqual(ranked.terms);
    expect(classification.categories[0]?.name).toBe('Neurons and Cognition');
  });
});

describe('classifyWithEnrichment', () => {
  it('stores arXiv’s categories for an enriched paper, and the model’s ranking beside them', () => {
    const result = classifyWithEnrichment(paper, enriched);

    expect(result.classification?.categories.map((category) => category.code)).toEqual(['cs.RO', 'q-bio.NC']);
    expect(result.enrichment).toBe('enriched');
    expect(result.arxiv).toEqual(enriched.arxiv);
    expect(result.predictedCategories).toEqual(
      classifyPaper({ title: paper.title, abstract: paper.abstract }).categories,
    );
  });

  it.each(['pending', 'missing', 'not-arxiv'] as const)(
    'keeps the model’s categories for a %s paper',
    (state) => {
      const result = classifyWithEnrichment(paper, { state });

      expect(result.classification?.categorySource).toBe('model');
      expect(result.classification?.categories).toEqual(result.predictedCategories);
      expect(result.enrichment).toBe(state);
      expect(result.arxiv).toBeUndefined();
    },
  );

  it('keeps a feed’s own categories when arXiv did not answer, the model’s prediction beside them', () => {
    const result = classifyWithEnrichment({ ...paper, sourceCategories: ['cs.RO', 'cs.AI'] }, undefined);

    expect(result.classification).toMatchObject({ categorySource: 'source', primaryCategory: 'cs.RO' });
    expect(result.predictedCategories?.length).toBeGreaterThan(0);
    expect(result.enrichment).toBeUndefined();
  });
});

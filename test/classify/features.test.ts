import { describe, expect, it } from 'vitest';
import { TermIndex, vectorize } from '../../shared/classify/features';
import { loadClassifier } from '../../shared/classify/index';
import { paperTerms } from '../../shared/classify/tokenize';
import { languageModelTranslation, primeNumbers, quantumErrorCorrection, visionTransformer } from './papers';

describe('TermIndex.termIds', () => {
  it('finds exactly the paper terms that are in the vocabulary, once per occurrence', () => {
    const { index, terms } = loadClassifier();
    const known = new Map(terms.map((term, id) => [term, id]));
    for (const paper of [quantumErrorCorrection, visionTransformer, languageModelTranslation, primeNumbers]) {
      const expected = paperTerms(paper.title, paper.abstract)
        .map((term) => known.get(term))
        .filter((id) => id !== undefined);

      const ids = index.termIds(paper.title, paper.abstract);

      expect([...ids].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    }
  });

  it('finds a bigram whose words are not terms by its text', () => {
    const index = new TermIndex(['zeta', 'riemann zeta', 'alpha beta']);

    expect(index.termIds('Riemann zeta', 'alpha beta zeta')).toEqual([0, 1, 2, 0]);
  });

  it('lists the title terms titleRepeat times', () => {
    const index = new TermIndex(['zeta', 'riemann zeta', 'alpha beta']);

    expect(index.termIds('Riemann zeta', 'alpha beta zeta', 2)).toEqual([0, 1, 0, 1, 2, 0]);
  });
});

describe('vectorize', () => {
  it('weighs terms by (1 + ln tf) × idf and scales the vector to unit length', () => {
    const { ids, values } = vectorize([2, 0, 2, 2], [1, 5, 2]);

    expect([...ids]).toEqual([0, 2]);
    const a = 1 * 1;
    const b = (1 + Math.log(3)) * 2;
    const norm = Math.hypot(a, b);
    expect(values[0]).toBeCloseTo(a / norm, 6);
    expect(values[1]).toBeCloseTo(b / norm, 6);
  });

  it('gives the empty vector for no terms', () => {
    expect(vectorize([], [1]).ids).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import { TermIndex, VocabularyError, vectorize, vocabularyLines } from '../../shared/classify/features';
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

describe('TermIndex of a vocabulary file', () => {
  it('takes one term a line, a last newline or none, and finds each by its text', () => {
    for (const text of ['zeta\nriemann zeta\nschrödinger\n', 'zeta\nriemann zeta\nschrödinger']) {
      const index = new TermIndex(vocabularyLines(text));

      expect(index.terms).toEqual(['zeta', 'riemann zeta', 'schrödinger']);
      expect([index.idOf('zeta'), index.idOf('riemann zeta'), index.idOf('schrödinger')]).toEqual([0, 1, 2]);
    }
  });

  it('tells a term from its prefixes and extensions, by word and by pair', () => {
    const index = new TermIndex(vocabularyLines('zeta\nzetas\nriemann zeta\n'));

    expect([
      index.idOf('zet'),
      index.idOf('zetas'),
      index.idOf('riemann zetas'),
      index.idOf('riemann'),
    ]).toEqual([undefined, 1, undefined, undefined]);
    expect(index.termIds('Riemann zetas', 'riemann zeta')).toEqual([1, 0, 2]);
  });

  it('refuses an empty or a repeated line, naming it', () => {
    expect(() => new TermIndex(vocabularyLines('alpha\n\nbeta\n'))).toThrow(new VocabularyError(2));
    expect(() => new TermIndex(vocabularyLines('alpha\nbeta\nalpha\n'))).toThrow(new VocabularyError(3));
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

import { describe, expect, it } from 'vitest';
import { paperTerms, termsOfTokens, tokenize } from '../../shared/classify/tokenize';

describe('tokenize', () => {
  it('lower-cases words and splits on anything that is not a letter or digit', () => {
    expect(tokenize('Vision-Language Models (VLMs) for 3D scenes')).toEqual([
      'vision',
      'language',
      'models',
      'vlms',
      '3d',
      'scenes',
    ]);
  });

  it('drops stop words, single characters and bare numbers', () => {
    expect(tokenize('We show that a model of 2025 is x times faster than the baseline')).toEqual([
      'show',
      'model',
      'times',
      'faster',
      'baseline',
    ]);
  });

  it('normalises compatibility characters (NFKC) and keeps LaTeX command names', () => {
    expect(tokenize('ﬁnite $\\mathcal{O}(n)$ eﬃcient')).toEqual(['finite', 'mathcal', 'efficient']);
  });
});

describe('termsOfTokens', () => {
  it('gives the unigrams, then the bigrams of adjacent tokens', () => {
    expect(termsOfTokens(['quantum', 'error', 'correction'])).toEqual([
      'quantum',
      'error',
      'correction',
      'quantum error',
      'error correction',
    ]);
  });
});

describe('paperTerms', () => {
  it('forms no bigram across the title and the abstract', () => {
    const terms = paperTerms('Graph Networks', 'Molecules matter');

    expect(terms).toContain('graph networks');
    expect(terms).toContain('molecules matter');
    expect(terms).not.toContain('networks molecules');
  });

  it('lists repeated terms once per occurrence', () => {
    expect(paperTerms('Qubits', 'qubits and qubits').filter((t) => t === 'qubits')).toHaveLength(3);
  });
});

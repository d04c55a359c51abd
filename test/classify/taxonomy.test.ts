import { describe, expect, it } from 'vitest';
import { loadClassifier } from '../../shared/classify/index';
import { canonicalCategory, describeCategory, knownCategoryCodes } from '../../shared/classify/taxonomy';

describe('describeCategory', () => {
  it('names a known category and its group', () => {
    expect(describeCategory('cs.CV')).toEqual({
      code: 'cs.CV',
      name: 'Computer Vision and Pattern Recognition',
      group: 'Computer Science',
    });
    expect(describeCategory('q-bio.NC')).toEqual({
      code: 'q-bio.NC',
      name: 'Neurons and Cognition',
      group: 'Quantitative Biology',
    });
  });

  it('names every category the model can predict (no fallback names)', () => {
    for (const code of loadClassifier().header.classes) {
      expect(knownCategoryCodes).toContain(code);
      expect(describeCategory(code).name).not.toBe(code);
    }
  });

  it('falls back to the code as name and the archive as group for unknown codes', () => {
    expect(describeCategory('math.ZZ')).toEqual({ code: 'math.ZZ', name: 'math.ZZ', group: 'Mathematics' });
    expect(describeCategory('hep-new')).toEqual({ code: 'hep-new', name: 'hep-new', group: 'Physics' });
    expect(describeCategory('constructor')).toEqual({
      code: 'constructor',
      name: 'constructor',
      group: 'Other',
    });
  });
});

describe('canonicalCategory', () => {
  it('maps arXiv aliases to the canonical code and leaves others alone', () => {
    expect(canonicalCategory('math.MP')).toBe('math-ph');
    expect(canonicalCategory('cs.SY')).toBe('eess.SY');
    expect(canonicalCategory('stat.TH')).toBe('math.ST');
    expect(canonicalCategory('cs.CL')).toBe('cs.CL');
    expect(canonicalCategory('toString')).toBe('toString');
  });
});

import { describe, expect, it } from 'vitest';
import { ClassificationSchema } from '../../shared/classification';
import { classifierVersion, classifyPaper, loadClassifier } from '../../shared/classify/index';
import { termsOfTokens, tokenize } from '../../shared/classify/tokenize';
import { languageModelTranslation, primeNumbers, quantumErrorCorrection, visionTransformer } from './papers';

const papers = { quantumErrorCorrection, visionTransformer, languageModelTranslation, primeNumbers };

describe('classifyPaper (model)', () => {
  it.each([
    ['quantumErrorCorrection', 'quant-ph'],
    ['visionTransformer', 'cs.CV'],
    ['languageModelTranslation', 'cs.CL'],
    ['primeNumbers', 'math.NT'],
  ] as const)('puts %s in %s', (name, expected) => {
    // Act
    const result = classifyPaper(papers[name]);

    // Assess
    expect(result.primaryCategory).toBe(expected);
    expect(result.categories[0]?.code).toBe(expected);
    expect(result.categories[0]?.assigned).toBe(true);
    expect(result.categorySource).toBe('model');
  });

  it('names and groups its categories from the taxonomy', () => {
    const result = classifyPaper(visionTransformer);

    expect(result.categories[0]).toMatchObject({
      code: 'cs.CV',
      name: 'Computer Vision and Pattern Recognition',
      group: 'Computer Science',
    });
    expect(classifyPaper(quantumErrorCorrection).categories[0]).toMatchObject({
      name: 'Quantum Physics',
      group: 'Physics',
    });
  });

  it('gives the same output and version for the same input', () => {
    const first = classifyPaper(quantumErrorCorrection);
    const second = classifyPaper({ ...quantumErrorCorrection });

    expect(second).toEqual(first);
    expect(first.classifierVersion).toBe(classifierVersion());
    expect(first.classifierVersion).toMatch(/^[a-z0-9.-]+-[0-9a-f]{12}$/);
  });

  it('returns a valid Classification with five ranked categories whose scores behave like probabilities', () => {
    for (const paper of Object.values(papers)) {
      const result = ClassificationSchema.parse(classifyPaper(paper));

      expect(result.categories).toHaveLength(5);
      expect(new Set(result.categories.map((c) => c.code)).size).toBe(5);
      const scores = result.categories.map((c) => c.score);
      for (const score of scores) expect(score).toBeGreaterThanOrEqual(0);
      for (const score of scores) expect(score).toBeLessThanOrEqual(1);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(result.primaryCategory).toBe(result.categories[0]?.code);
    }
  });

  it('is confident on unambiguous papers and doubtful on the fifth guess', () => {
    const result = classifyPaper(quantumErrorCorrection);

    expect(result.categories[0]?.score).toBeGreaterThan(0.7);
    expect(result.categories[4]?.score).toBeLessThan(0.5);
  });

  it('assigns the top category always, then exactly those passing the calibrated threshold', () => {
    const { assignThreshold } = loadClassifier().header;
    for (const paper of [...Object.values(papers), { title: 'Notes', abstract: '' }]) {
      const { categories } = classifyPaper(paper);

      expect(categories[0]?.assigned).toBe(true);
      categories.slice(1).forEach((category) => {
        expect(category.assigned).toBe(category.score >= assignThreshold);
      });
      expect(categories.filter((c) => c.assigned).length).toBeLessThanOrEqual(5);
    }
  });

  it('explains each category with terms that occur in the paper', () => {
    for (const paper of Object.values(papers)) {
      const paperTerms = new Set([
        ...termsOfTokens(tokenize(paper.title)),
        ...termsOfTokens(tokenize(paper.abstract)),
      ]);
      const text = `${paper.title} ${paper.abstract}`.toLowerCase();
      const { categories } = classifyPaper(paper);

      expect(categories[0]?.terms.length).toBeGreaterThan(0);
      for (const category of categories) {
        expect(category.terms.length).toBeLessThanOrEqual(loadClassifier().header.explain.maxTerms);
        for (const term of category.terms) {
          expect(paperTerms.has(term)).toBe(true);
          for (const word of term.split(' ')) expect(text).toContain(word);
        }
      }
    }
  });

  it('explains quantum error correction by its quantum vocabulary', () => {
    const terms = classifyPaper(quantumErrorCorrection).categories[0]?.terms ?? [];

    expect(terms.some((term) => /quantum|qubit|surface code|error correction/.test(term))).toBe(true);
  });

  it('still answers for a paper with no known term (title only, no abstract)', () => {
    const result = ClassificationSchema.parse(classifyPaper({ title: 'Zzyzx qwxv', abstract: '' }));

    expect(result.categories).toHaveLength(5);
    expect(result.categories.every((c) => c.terms.length === 0)).toBe(true);
  });
});

describe('classifyPaper (source categories)', () => {
  it('keeps the source categories as given, primary first, scored 1 and assigned', () => {
    // Prepare
    const input = { ...visionTransformer, sourceCategories: ['hep-th', 'gr-qc', 'math-ph'] };

    // Act
    const result = ClassificationSchema.parse(classifyPaper(input));

    // Assess
    expect(result.categorySource).toBe('source');
    expect(result.primaryCategory).toBe('hep-th');
    expect(result.categories).toEqual([
      {
        code: 'hep-th',
        name: 'High Energy Physics - Theory',
        group: 'Physics',
        score: 1,
        assigned: true,
        terms: [],
      },
      {
        code: 'gr-qc',
        name: 'General Relativity and Quantum Cosmology',
        group: 'Physics',
        score: 1,
        assigned: true,
        terms: [],
      },
      {
        code: 'math-ph',
        name: 'Mathematical Physics',
        group: 'Physics',
        score: 1,
        assigned: true,
        terms: [],
      },
    ]);
    expect(result.classifierVersion).toBe(classifierVersion());
  });

  it('names an unknown code by itself and groups it by its archive instead of failing', () => {
    const result = classifyPaper({ ...primeNumbers, sourceCategories: ['cs.QZ', 'weird-thing'] });

    expect(result.categories.map(({ code, name, group }) => ({ code, name, group }))).toEqual([
      { code: 'cs.QZ', name: 'cs.QZ', group: 'Computer Science' },
      { code: 'weird-thing', name: 'weird-thing', group: 'Other' },
    ]);
  });

  it('drops blank and repeated source codes, and falls back to the model when none is left', () => {
    expect(
      classifyPaper({
        ...primeNumbers,
        sourceCategories: ['math.NT', ' ', 'math.NT', 'math.CA'],
      }).categories.map((c) => c.code),
    ).toEqual(['math.NT', 'math.CA']);
    expect(classifyPaper({ ...primeNumbers, sourceCategories: [] }).categorySource).toBe('model');
    expect(classifyPaper({ ...primeNumbers, sourceCategories: [' '] }).categorySource).toBe('model');
  });
});

/**
 * The loader keeps the 4-bit term weights packed (decoded as the hidden layer reads them), and
 * the term index remembers word pairs as it meets them instead of building them all at load.
 * These tests hold both to the plain way, on the committed model and the evaluation sample:
 * every weight unpacked to a byte up front, every term looked up in a Map of the decoded
 * vocabulary. Predictions must be bit-identical, so they are compared as JSON text (which
 * writes every double exactly).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { predictWithModel } from '../../shared/classify/classifier';
import { parseLabelledPaper } from '../../shared/classify/evaluate';
import { TermIndex, VocabularyError } from '../../shared/classify/features';
import { loadModel, modelDirectory } from '../../shared/classify/load-model';
import {
  type ClassifierModel,
  decodeModel,
  encodeModel,
  MODEL_FILES,
  ModelMetricsSchema,
  termWeightAt,
  unpackedTermWeights,
} from '../../shared/classify/model-format';
import { paperTerms, TOKENIZER_VERSION } from '../../shared/classify/tokenize';
import { tinyParts } from './tiny-model';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const directory = modelDirectory({});
const model = loadModel(directory);
const metrics = ModelMetricsSchema.parse(
  JSON.parse(readFileSync(`${directory}/${MODEL_FILES.metrics}`, 'utf8')),
);
const sample = gunzipSync(readFileSync(`${REPO_ROOT}${metrics.sample.path}`))
  .toString('utf8')
  .split('\n')
  .flatMap((line, i) => (line.trim() ? [parseLabelledPaper(line, `sample:${i + 1}`)] : []));

/** The vocabulary as the loader used to read it: decoded, split, one string a term. */
const referenceTerms = new TextDecoder('utf-8', { fatal: true })
  .decode(readFileSync(`${directory}/${MODEL_FILES.vocab}`))
  .split('\n')
  .slice(0, model.header.terms);
const referenceIds = new Map(referenceTerms.map((term, id) => [term, id]));

/** The same model with every term weight unpacked to one a byte, the way the loader used to hold it. */
function unpackedModel(packed: ClassifierModel): ClassifierModel {
  return {
    ...packed,
    header: { ...packed.header, termBits: 8 },
    termWeights: unpackedTermWeights(packed),
  };
}

describe('the committed model, its term weights left packed', () => {
  it('is a 4-bit model, so the packed path is the one under test', () => {
    expect(model.header.termBits).toBe(4);
    expect(model.termWeights.byteLength).toBe(Math.ceil((model.header.terms * model.header.hidden) / 2));
  });

  it('reads every term weight as the unpacked array holds it', () => {
    const unpacked = unpackedTermWeights(model);
    const { terms, hidden } = model.header;
    let differing = 0;
    for (let t = 0; t < terms; t++) {
      for (let h = 0; h < hidden; h++)
        if (termWeightAt(model, t, h) !== unpacked[t * hidden + h]) differing++;
    }
    expect(differing).toBe(0);
    // Both signs occur, so a nibble read unsigned would not pass.
    expect(Math.min(...unpacked.subarray(0, 100_000))).toBeLessThan(-1);
    expect(Math.max(...unpacked.subarray(0, 100_000))).toBe(7);
  });

  it('names every term as the decoded vocabulary does', () => {
    expect(model.index.size).toBe(referenceTerms.length);
    for (let id = 0; id < referenceTerms.length; id++) {
      if (model.index.term(id) !== referenceTerms[id]) expect(model.index.term(id)).toBe(referenceTerms[id]);
      if (model.index.idOf(referenceTerms[id] as string) !== id) {
        expect(model.index.idOf(referenceTerms[id] as string)).toBe(id);
      }
    }
    expect(model.terms).toEqual(referenceTerms);
  });

  it('finds the terms of every sample paper that a Map of the vocabulary finds', () => {
    let mismatched = 0;
    for (const paper of sample) {
      const expected = paperTerms(paper.title, paper.abstract)
        .map((term) => referenceIds.get(term))
        .filter((id) => id !== undefined)
        .sort((a, b) => a - b);
      const ids = model.index.termIds(paper.title, paper.abstract).sort((a, b) => a - b);
      if (JSON.stringify(ids) !== JSON.stringify(expected)) mismatched++;
    }
    expect(sample.length).toBe(1500);
    expect(mismatched).toBe(0);
  });

  it('predicts bit-identically to the unpacked model on every sample paper', () => {
    const reference = unpackedModel(model);
    const differing = sample.filter(
      (paper) =>
        JSON.stringify(predictWithModel(model, paper.title, paper.abstract)) !==
        JSON.stringify(predictWithModel(reference, paper.title, paper.abstract)),
    );
    expect(differing.map((paper) => paper.id)).toEqual([]);
  });

  it('is a comparison that sees a changed weight', () => {
    const reference = unpackedModel(model);
    const weights = Int8Array.from(reference.termWeights);
    weights.fill(0, 0, weights.length >> 1);
    const changed = { ...reference, termWeights: weights };
    const differing = sample
      .slice(0, 50)
      .filter(
        (paper) =>
          JSON.stringify(predictWithModel(model, paper.title, paper.abstract)) !==
          JSON.stringify(predictWithModel(changed, paper.title, paper.abstract)),
      );
    expect(differing.length).toBeGreaterThan(0);
  });
});

describe('a 4-bit model of any even hidden width', () => {
  /** A model of `hidden` units over the tiny model's terms and classes, weights drawn from a fixed seed. */
  function packedModelOf(hidden: number): ClassifierModel {
    let seed = hidden;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const floats = (n: number) => Float32Array.from({ length: n }, () => next() * 2 - 1);
    const parts = tinyParts();
    const C = parts.classes.length;
    const files = encodeModel({
      ...parts,
      termBits: 4,
      hiddenBias: floats(hidden),
      primaryWeights: floats(hidden * C),
      listedWeights: floats(hidden * C),
      termWeights: Int8Array.from({ length: parts.terms.length * hidden }, () => Math.floor(next() * 16) - 8),
    });
    return decodeModel(files.header, files.weights, files.vocab, TOKENIZER_VERSION);
  }

  // 2 and 6 take the hidden layer a byte at a time, 8 and 24 a 32-bit word (eight units) at a time.
  it.each([2, 6, 8, 24])('predicts with %i hidden units as the unpacked model does', (hidden) => {
    const packed = packedModelOf(hidden);
    const predict = (m: ClassifierModel) =>
      JSON.stringify(
        predictWithModel(m, 'Error correction of a qubit', 'image qubit error correction qubit'),
      );

    expect(predict(packed)).toBe(predict(unpackedModel(packed)));
  });
});

describe('TermIndex', () => {
  it('refuses an empty or repeated term, naming its line', () => {
    expect(() => new TermIndex(['alpha', 'beta', 'alpha'])).toThrow(new VocabularyError(3));
    expect(() => new TermIndex(['alpha', '', 'beta'])).toThrow(/line 2 is empty/);
  });

  it('finds bigrams by the pair of their words beyond 32,768 terms (pair keys past 2³⁰)', () => {
    const words = Array.from({ length: 40_000 }, (_, i) => `w${i}`);
    const index = new TermIndex([...words, 'w39999 w39998', 'w1 w2']);

    expect(index.termIds('w39999 w39998', 'w1 w2 w3')).toEqual([39_999, 39_998, 40_000, 1, 2, 40_001, 3]);
  });
});

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { featuresOf, forward, predictWithModel } from '../../shared/classify/classifier';
import { loadModel, modelDirectory } from '../../shared/classify/load-model';
import {
  type ClassifierModel,
  decodeModel,
  encodeModel,
  termWeightAt,
} from '../../shared/classify/model-format';
import { TOKENIZER_VERSION } from '../../shared/classify/tokenize';
import { tinyParts } from './tiny-model';

// The tiny hand-made network of the format tests: 'qubit' and 'error correction'
// drive hidden unit 1, which votes for quant-ph; 'image' drives unit 0 (cs.CV).
const files = encodeModel(tinyParts());
const tiny = decodeModel(files.header, files.weights, files.vocab, TOKENIZER_VERSION);

describe('predictWithModel', () => {
  it('ranks by the network: quantum terms make quant-ph the primary', () => {
    const result = predictWithModel(tiny, 'A qubit', 'On error correction');

    expect(result.categories.map((c) => c.code)).toEqual(['quant-ph', 'cs.CV']);
    expect(result.primaryCategory).toBe('quant-ph');
    expect(result.classifierVersion).toBe(tiny.version);
  });

  it('ranks cs.CV first for an image paper', () => {
    expect(predictWithModel(tiny, 'Image', 'image image').primaryCategory).toBe('cs.CV');
  });

  it('explains a category by the terms whose exact contribution to its logit is largest, strongest first', () => {
    // qubit: x = 2/√13, contributes x·0.02·100 ≈ 1.11; error correction: x = 3/√13, x·0.03·50 ≈ 1.25.
    const [quant, vision] = predictWithModel(tiny, 'A qubit', 'On error correction').categories;

    expect(quant?.terms).toEqual(['error correction', 'qubit']);
    expect(vision?.terms).toEqual([]);
  });
});

/** Every class's ranking score the plain way: both heads in full, no pruning. */
function everyScore(model: ClassifierModel, title: string, abstract: string): number[] {
  const { ids, values } = featuresOf(model, title, abstract);
  const C = model.header.classes.length;
  const H = model.header.hidden;
  const hidden = Array.from(model.hiddenBias);
  ids.forEach((id, i) => {
    for (let h = 0; h < H; h++)
      hidden[h] =
        (hidden[h] as number) +
        (values[i] as number) * (model.scale[id] as number) * termWeightAt(model, id, h);
  });
  const relu = hidden.map((v) => Math.max(v, 0));
  const head = (weights: Float32Array, bias: Float32Array) =>
    Array.from(bias, (b, c) => relu.reduce((sum, v, h) => sum + v * (weights[h * C + c] as number), b));
  const primary = head(model.primaryWeights, model.primaryBias);
  const listed = head(model.listedWeights, model.listedBias);
  const max = Math.max(...primary);
  const logSum = max + Math.log(primary.reduce((sum, z) => sum + Math.exp(z - max), 0));
  return primary.map(
    (z, c) => z - logSum + model.header.listedWeight * -Math.log1p(Math.exp(-(listed[c] as number))),
  );
}

/** A four-class model whose scores come from the biases alone (every weight zero), to set up ties. */
function biasOnlyModel(primaryBias: number[], listedBias: number[], listedWeight: number): ClassifierModel {
  const parts = tinyParts();
  const C = primaryBias.length;
  const H = parts.hiddenBias.length;
  const files = encodeModel({
    ...parts,
    classes: ['cs.AI', 'cs.CL', 'cs.CV', 'cs.LG'].slice(0, C),
    primaryWeights: new Float32Array(H * C),
    primaryBias: Float32Array.from(primaryBias),
    listedWeights: new Float32Array(H * C),
    listedBias: Float32Array.from(listedBias),
    listedWeight,
  });
  return decodeModel(files.header, files.weights, files.vocab, TOKENIZER_VERSION);
}

describe('forward', () => {
  const topOf = (model: ClassifierModel, k: number) =>
    forward(model, featuresOf(model, 'image', 'qubit'), k).top;

  it('orders equal scores by lower class index, as a full sort would', () => {
    // Classes 1 and 3 tie at the top, 0 and 2 below them.
    expect(topOf(biasOnlyModel([0, 1, 0, 1], [0, 0, 0, 0], 0.5), 4)).toEqual([1, 3, 0, 2]);
    // Equal primary scores; the listed head lifts 1 and 2 alike.
    expect(topOf(biasOnlyModel([1, 1, 1, 1], [0, 2, 2, 0], 1), 4)).toEqual([1, 2, 0, 3]);
    // Listed weight 0: the ranking is the primary head's alone, all tied.
    expect(topOf(biasOnlyModel([1, 1, 1, 1], [3, 0, 0, 3], 0), 3)).toEqual([0, 1, 2]);
  });

  it('returns every class when k exceeds them, and none when k is 0', () => {
    const model = biasOnlyModel([0, 2, 1, 3], [0, 0, 0, 0], 0.25);
    expect(topOf(model, 10)).toEqual([3, 1, 2, 0]);
    expect(topOf(model, 0)).toEqual([]);
  });

  const committed = loadModel(modelDirectory({}));
  const papers = gunzipSync(
    readFileSync(new URL('../fixtures/classify/validation-sample.jsonl.gz', import.meta.url)),
  )
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 300)
    .map((line) => JSON.parse(line) as { title: string; abstract: string });

  it.each([0, 0.25, 1.5])(
    'finds exactly the top K of scoring every class in full (listed weight %s), though it scores only some',
    (listedWeight) => {
      const model = { ...committed, header: { ...committed.header, listedWeight } };
      let scored = 0;
      for (const paper of papers) {
        const scores = everyScore(model, paper.title, paper.abstract);
        const expected = scores
          .map((score, c) => ({ score, c }))
          .sort((a, b) => b.score - a.score || a.c - b.c)
          .slice(0, model.header.topK);
        const pass = forward(model, featuresOf(model, paper.title, paper.abstract));
        expect(pass.top).toEqual(expected.map(({ c }) => c));
        for (const { score, c } of expected) expect(pass.rank[c]).toBeCloseTo(score, 9);
        scored += pass.rank.filter(Number.isFinite).length;
      }
      // The pruning is the point: far fewer classes scored than all of them.
      expect(scored / papers.length).toBeLessThan(model.header.classes.length / 2);
    },
  );
});

import { describe, expect, it } from 'vitest';
import { predictWithModel } from '../../shared/classify/classifier';
import { decodeModel, encodeModel } from '../../shared/classify/model-format';
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

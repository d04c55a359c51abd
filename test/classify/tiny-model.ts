import type { ModelParts } from '../../shared/classify/model-format';
import { TOKENIZER_VERSION } from '../../shared/classify/tokenize';

/** A hand-made network small enough to check by hand. */
export function tinyParts(): ModelParts {
  // 3 terms, 2 hidden units, 2 classes.
  return {
    name: 'tiny',
    tokenizer: TOKENIZER_VERSION,
    classes: ['cs.CV', 'quant-ph'],
    terms: ['image', 'qubit', 'error correction'],
    idf: Float32Array.from([1.5, 2, 3]),
    scale: Float32Array.from([0.01, 0.02, 0.03]),
    hiddenBias: Float32Array.from([0, 0.1]),
    primaryWeights: Float32Array.from([1, -1, -1, 1]),
    primaryBias: Float32Array.from([0.1, -0.1]),
    listedWeights: Float32Array.from([2, -2, -2, 2]),
    listedBias: Float32Array.from([-1, -1]),
    termWeights: Int8Array.from([127, -127, -100, 100, 0, 50]),
    listedWeight: 0.5,
    calibration: { slope: 1, intercept: 0 },
    assignThreshold: 0.4,
    topK: 2,
    termBits: 8,
    titleRepeat: 1,
    explain: { maxTerms: 3, minContribution: 0, candidates: 10 },
    training: { seed: 1 },
  };
}

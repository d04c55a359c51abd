import type { CategoryScore, Classification } from '../classification';
import { type FeatureVector, vectorize } from './features';
import type { ClassifierModel } from './model-format';
import { describeCategory } from './taxonomy';
import { paperTerms } from './tokenize';

/** What the classifier reads of a paper. */
export interface ClassifyInput {
  title: string;
  abstract: string;
  /** The categories the source gave (arXiv feeds), primary first; used as given when non-empty. */
  sourceCategories?: readonly string[] | undefined;
}

/** The feature vector of a paper under `model`'s vocabulary. */
export function featuresOf(model: ClassifierModel, title: string, abstract: string): FeatureVector {
  return vectorize(paperTerms(title, abstract), model.vocab, model.idf);
}

/** Softmax probabilities over `model.header.classes` (uncalibrated), in class order. */
export function classProbabilities(model: ClassifierModel, features: FeatureVector): Float64Array {
  const C = model.header.classes.length;
  const z = new Float64Array(C);
  for (let c = 0; c < C; c++) z[c] = model.bias[c] as number;
  const { ids, values } = features;
  const { weights, scale } = model;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k] as number;
    const x = (values[k] as number) * (scale[id] as number);
    const base = id * C;
    for (let c = 0; c < C; c++) z[c] = (z[c] as number) + x * (weights[base + c] as number);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < C; c++) if ((z[c] as number) > max) max = z[c] as number;
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp((z[c] as number) - max);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) z[c] = (z[c] as number) / sum;
  return z;
}

/** Indices of the `k` largest entries, largest first (ties: lower index first). */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (top.length === k && v <= (values[top[k - 1] as number] as number)) continue;
    let at = top.length;
    while (at > 0 && v > (values[top[at - 1] as number] as number)) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}

/** The calibrated score of a softmax probability: the chance the category is one of the paper's. */
export function calibratedScore(model: ClassifierModel, probability: number): number {
  const { slope, intercept } = model.header.calibration;
  const logit = slope * Math.log(Math.max(probability, 1e-12)) + intercept;
  return 1 / (1 + Math.exp(-logit));
}

/**
 * The terms that pushed class `c` up most: the paper's terms whose contribution
 * to the class's logit (feature value × weight; weights are centred across
 * classes, so a positive contribution favours `c` over the average class) is
 * largest, strongest first.
 */
export function explainingTerms(model: ClassifierModel, features: FeatureVector, c: number): string[] {
  const { maxTerms, minContribution } = model.header.explain;
  const C = model.header.classes.length;
  const scored: Array<{ id: number; contribution: number }> = [];
  for (let k = 0; k < features.ids.length; k++) {
    const id = features.ids[k] as number;
    const contribution =
      (features.values[k] as number) * (model.scale[id] as number) * (model.weights[id * C + c] as number);
    if (contribution > minContribution) scored.push({ id, contribution });
  }
  scored.sort((a, b) => b.contribution - a.contribution || a.id - b.id);
  return scored.slice(0, maxTerms).map(({ id }) => model.terms[id] as string);
}

/**
 * Predicts a paper's arXiv categories with `model`: the `topK` most likely,
 * ranked, each with a calibrated score, whether it passes the calibrated
 * threshold (the first always does) and the terms behind it.
 */
export function predictWithModel(model: ClassifierModel, title: string, abstract: string): Classification {
  const features = featuresOf(model, title, abstract);
  const probabilities = classProbabilities(model, features);
  const { classes, topK, assignThreshold } = model.header;
  const categories: CategoryScore[] = topIndices(probabilities, topK).map((c, rank) => {
    const score = calibratedScore(model, probabilities[c] as number);
    return {
      ...describeCategory(classes[c] as string),
      score,
      assigned: rank === 0 || score >= assignThreshold,
      terms: explainingTerms(model, features, c),
    };
  });
  return {
    categories,
    primaryCategory: (categories[0] as CategoryScore).code,
    classifierVersion: model.version,
    categorySource: 'model',
  };
}

/**
 * The source's own categories as a classification: in the given order (blank
 * entries and repeats dropped), each scored 1 and assigned, named from the
 * taxonomy; returns undefined when none are left.
 */
export function fromSourceCategories(codes: readonly string[], version: string): Classification | undefined {
  const seen = new Set<string>();
  const categories: CategoryScore[] = [];
  for (const raw of codes) {
    const code = raw.trim();
    if (!code || seen.has(code)) continue;
    seen.add(code);
    categories.push({ ...describeCategory(code), score: 1, assigned: true, terms: [] });
  }
  const first = categories[0];
  if (!first) return undefined;
  return { categories, primaryCategory: first.code, classifierVersion: version, categorySource: 'source' };
}

import type { CategoryScore, Classification } from '../classification';
import { type FeatureVector, vectorize } from './features';
import type { ClassifierModel } from './model-format';
import { describeCategory } from './taxonomy';

/** What the classifier reads of a paper. */
export interface ClassifyInput {
  title: string;
  abstract: string;
  /** The categories the source gave (arXiv feeds), primary first; used as given when non-empty. */
  sourceCategories?: readonly string[] | undefined;
}

/** The feature vector of a paper under `model`'s vocabulary. */
export function featuresOf(model: ClassifierModel, title: string, abstract: string): FeatureVector {
  return vectorize(model.index.termIds(title, abstract, model.header.titleRepeat), model.idf);
}

/** One forward pass: the hidden layer and each class's ranking score. */
export interface ForwardPass {
  /** Hidden activations after ReLU (H). */
  hidden: Float64Array;
  /** r = ln p + listedWeight · ln q per class (see `ModelHeaderSchema.listedWeight`). */
  rank: Float64Array;
}

/**
 * Runs the network on a feature vector: hidden = ReLU(hiddenBias + Σ x·termWeights),
 * then the primary head (softmax) and the listed head (sigmoid), combined into
 * each class's ranking score.
 */
export function forward(model: ClassifierModel, features: FeatureVector): ForwardPass {
  const C = model.header.classes.length;
  const H = model.header.hidden;
  const { termWeights, scale, primaryWeights, listedWeights } = model;
  const hidden = new Float64Array(H);
  for (let h = 0; h < H; h++) hidden[h] = model.hiddenBias[h] as number;
  const { ids, values } = features;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k] as number;
    const x = (values[k] as number) * (scale[id] as number);
    const base = id * H;
    for (let h = 0; h < H; h++) hidden[h] = (hidden[h] as number) + x * (termWeights[base + h] as number);
  }
  const primary = new Float64Array(C);
  const listed = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    primary[c] = model.primaryBias[c] as number;
    listed[c] = model.listedBias[c] as number;
  }
  for (let h = 0; h < H; h++) {
    const a = hidden[h] as number;
    if (a <= 0) {
      hidden[h] = 0;
      continue;
    }
    const base = h * C;
    for (let c = 0; c < C; c++) {
      primary[c] = (primary[c] as number) + a * (primaryWeights[base + c] as number);
      listed[c] = (listed[c] as number) + a * (listedWeights[base + c] as number);
    }
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < C; c++) if ((primary[c] as number) > max) max = primary[c] as number;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp((primary[c] as number) - max);
  const logNormaliser = max + Math.log(sum);
  const gamma = model.header.listedWeight;
  const rank = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const z = listed[c] as number;
    // ln σ(z), computed stably
    const logListed = z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
    rank[c] = (primary[c] as number) - logNormaliser + gamma * logListed;
  }
  return { hidden, rank };
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

/** The calibrated score of a ranking score: the chance the category is one of the paper's. */
export function calibratedScore(model: ClassifierModel, rank: number): number {
  const { slope, intercept } = model.header.calibration;
  return 1 / (1 + Math.exp(-(slope * rank + intercept)));
}

/**
 * The terms that pushed class `c` up most. With the hidden units' on/off
 * pattern fixed, the primary logit of `c` is exactly a sum of one contribution
 * per term, x · Σ_h termWeight[h] · primaryWeight[h][c] over active units (the
 * primary weights are centred across classes, so a positive contribution
 * favours `c` over the average class). Returns the largest positive ones,
 * strongest first, searched among the paper's most heavily weighted terms.
 */
export function explainingTerms(
  model: ClassifierModel,
  features: FeatureVector,
  pass: ForwardPass,
  classes: readonly number[],
): string[][] {
  const { maxTerms, minContribution, candidates } = model.header.explain;
  const C = model.header.classes.length;
  const H = model.header.hidden;
  const K = classes.length;
  const { termWeights, scale, primaryWeights } = model;
  // Each class's direction in hidden space, over the active units only: [unit][class].
  const active: number[] = [];
  for (let h = 0; h < H; h++) if ((pass.hidden[h] as number) > 0) active.push(h);
  const directions = new Float64Array(active.length * K);
  active.forEach((h, a) => {
    for (let i = 0; i < K; i++)
      directions[a * K + i] = primaryWeights[h * C + (classes[i] as number)] as number;
  });
  const order = Array.from(features.ids.keys())
    .map((k) => ({
      k,
      weight: (features.values[k] as number) * (scale[features.ids[k] as number] as number),
    }))
    .sort((a, b) => b.weight - a.weight || a.k - b.k)
    .slice(0, candidates);
  const scored = classes.map(() => [] as Array<{ id: number; contribution: number }>);
  const dots = new Float64Array(K);
  for (const { k, weight } of order) {
    const id = features.ids[k] as number;
    const base = id * H;
    dots.fill(0);
    for (let a = 0; a < active.length; a++) {
      const w = termWeights[base + (active[a] as number)] as number;
      if (w === 0) continue;
      for (let i = 0; i < K; i++) dots[i] = (dots[i] as number) + w * (directions[a * K + i] as number);
    }
    for (let i = 0; i < K; i++) {
      const contribution = weight * (dots[i] as number);
      if (contribution > minContribution) scored[i]?.push({ id, contribution });
    }
  }
  return scored.map((list) =>
    list
      .sort((a, b) => b.contribution - a.contribution || a.id - b.id)
      .slice(0, maxTerms)
      .map(({ id }) => model.terms[id] as string),
  );
}

/**
 * Predicts a paper's arXiv categories with `model`: the `topK` most likely,
 * ranked, each with a calibrated score, whether it passes the calibrated
 * threshold (the first always does) and the terms behind it.
 */
export function predictWithModel(model: ClassifierModel, title: string, abstract: string): Classification {
  const features = featuresOf(model, title, abstract);
  const pass = forward(model, features);
  const { classes, topK, assignThreshold } = model.header;
  const top = topIndices(pass.rank, topK);
  const terms = explainingTerms(model, features, pass, top);
  const categories: CategoryScore[] = top.map((c, rank) => {
    const score = calibratedScore(model, pass.rank[c] as number);
    return {
      ...describeCategory(classes[c] as string),
      score,
      assigned: rank === 0 || score >= assignThreshold,
      terms: terms[rank] ?? [],
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

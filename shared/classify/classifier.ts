import type { CategoryScore, Classification } from '../classification';
import { type FeatureVector, vectorize } from './features';
import { type ClassifierModel, termWeightAt } from './model-format';
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

/** One forward pass: the hidden layer and the classes at the top of the ranking. */
export interface ForwardPass {
  /** Indices of the hidden units that are active (> 0 after ReLU), ascending. */
  active: Int32Array;
  /** The `k` classes with the highest ranking score, best first (ties: lower index first). */
  top: number[];
  /**
   * r = ln p + listedWeight · ln q per class (see `ModelHeaderSchema.listedWeight`):
   * exact for every class in `top` (and any other class the pass looked at),
   * -Infinity for classes that provably cannot reach the top `k`.
   */
  rank: Float64Array;
}

/** ln σ(z), computed stably. */
function logSigmoid(z: number): number {
  return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
}

/**
 * hidden += Σ x · termWeights[term] over the paper's terms, weights one signed byte each.
 * Unrolled by four (the same sums in the same order): this loop is most of the model's time.
 * The primary head has the same loop over Float32Array weights; one helper for both measured
 * about 20% slower (its element loads see two array types), so each stays on its own.
 */
function addTermRows8(
  hidden: Float64Array,
  termWeights: Int8Array,
  scale: Float32Array,
  { ids, values }: FeatureVector,
  H: number,
): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    const x = (values[i] as number) * (scale[id] as number);
    const base = id * H;
    let h = 0;
    for (; h + 3 < H; h += 4) {
      hidden[h] = (hidden[h] as number) + x * (termWeights[base + h] as number);
      hidden[h + 1] = (hidden[h + 1] as number) + x * (termWeights[base + h + 1] as number);
      hidden[h + 2] = (hidden[h + 2] as number) + x * (termWeights[base + h + 2] as number);
      hidden[h + 3] = (hidden[h + 3] as number) + x * (termWeights[base + h + 3] as number);
    }
    for (; h < H; h++) hidden[h] = (hidden[h] as number) + x * (termWeights[base + h] as number);
  }
}

/**
 * The same sums as {@link addTermRows8}, in the same order, over 4-bit weights decoded as they
 * are read (low nibble first, sign-extended): an even `H` starts every row on a byte.
 */
function addTermRows4(
  hidden: Float64Array,
  packed: Uint8Array,
  scale: Float32Array,
  { ids, values }: FeatureVector,
  H: number,
): void {
  const rowBytes = H >> 1;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    const x = (values[i] as number) * (scale[id] as number);
    const base = id * rowBytes;
    let h = 0;
    let b = base;
    for (; h + 3 < H; h += 4, b += 2) {
      const first = packed[b] as number;
      const second = packed[b + 1] as number;
      hidden[h] = (hidden[h] as number) + x * ((first << 28) >> 28);
      hidden[h + 1] = (hidden[h + 1] as number) + x * ((first << 24) >> 28);
      hidden[h + 2] = (hidden[h + 2] as number) + x * ((second << 28) >> 28);
      hidden[h + 3] = (hidden[h + 3] as number) + x * ((second << 24) >> 28);
    }
    for (; h < H; h += 2, b++) {
      const byte = packed[b] as number;
      hidden[h] = (hidden[h] as number) + x * ((byte << 28) >> 28);
      hidden[h + 1] = (hidden[h + 1] as number) + x * ((byte << 24) >> 28);
    }
  }
}

/**
 * Runs the network on a feature vector: hidden = ReLU(hiddenBias + Σ x·termWeights),
 * the primary head's log-softmax for every class, then the ranking scores of
 * the best `k` classes (default: the model's `topK`; at most all of them, none if k < 1).
 *
 * The listed head is only evaluated where it can matter: ln q ≤ 0 and the
 * listed weight is ≥ 0, so a class's score is at most its ln p. Classes are
 * taken in order of ln p and scored until the next one's ln p is below the
 * k-th best score so far; no class left can then enter the top k. The result
 * is exactly the top k of scoring every class, at a fraction of the listed
 * head's cost.
 */
export function forward(model: ClassifierModel, features: FeatureVector, k = model.header.topK): ForwardPass {
  const C = model.header.classes.length;
  const H = model.header.hidden;
  const { scale, primaryWeights, listedWeights, listedBias } = model;
  const hidden = new Float64Array(H);
  for (let h = 0; h < H; h++) hidden[h] = model.hiddenBias[h] as number;
  if (model.header.termBits === 8) addTermRows8(hidden, model.termWeights as Int8Array, scale, features, H);
  else if (H % 2 === 0) addTermRows4(hidden, model.termWeights as Uint8Array, scale, features, H);
  else {
    // An odd row length starts every other row mid-byte: rare enough (no trained model has one) to go slowly.
    const { ids, values } = features;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const x = (values[i] as number) * (scale[id] as number);
      for (let h = 0; h < H; h++) hidden[h] = (hidden[h] as number) + x * termWeightAt(model, id, h);
    }
  }
  let activeCount = 0;
  for (let h = 0; h < H; h++) {
    if ((hidden[h] as number) > 0) activeCount++;
    else hidden[h] = 0;
  }
  const active = new Int32Array(activeCount);
  for (let h = 0, a = 0; h < H; h++) if ((hidden[h] as number) > 0) active[a++] = h;

  // The primary head's log-softmax, every class (the normaliser needs them all).
  const logP = new Float64Array(C);
  for (let c = 0; c < C; c++) logP[c] = model.primaryBias[c] as number;
  for (let a = 0; a < activeCount; a++) {
    const h = active[a] as number;
    const value = hidden[h] as number;
    const base = h * C;
    let c = 0;
    for (; c + 3 < C; c += 4) {
      logP[c] = (logP[c] as number) + value * (primaryWeights[base + c] as number);
      logP[c + 1] = (logP[c + 1] as number) + value * (primaryWeights[base + c + 1] as number);
      logP[c + 2] = (logP[c + 2] as number) + value * (primaryWeights[base + c + 2] as number);
      logP[c + 3] = (logP[c + 3] as number) + value * (primaryWeights[base + c + 3] as number);
    }
    for (; c < C; c++) logP[c] = (logP[c] as number) + value * (primaryWeights[base + c] as number);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < C; c++) if ((logP[c] as number) > max) max = logP[c] as number;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp((logP[c] as number) - max);
  const logNormaliser = max + Math.log(sum);
  for (let c = 0; c < C; c++) logP[c] = (logP[c] as number) - logNormaliser;

  // The top k by r = ln p + γ ln q, looking at classes in order of ln p (an upper bound of r).
  const gamma = model.header.listedWeight;
  const want = Math.max(0, Math.min(Math.trunc(k), C));
  const rank = new Float64Array(C).fill(Number.NEGATIVE_INFINITY);
  const seen = new Uint8Array(C);
  const top: number[] = [];
  for (let step = 0; want > 0 && step < C; step++) {
    let next = -1;
    for (let c = 0; c < C; c++) {
      if (!seen[c] && (next < 0 || (logP[c] as number) > (logP[next] as number))) next = c;
    }
    const bound = logP[next] as number;
    if (top.length === want && bound < (rank[top[want - 1] as number] as number)) break;
    seen[next] = 1;
    let z = listedBias[next] as number;
    for (let a = 0; a < activeCount; a++) {
      const h = active[a] as number;
      z += (hidden[h] as number) * (listedWeights[h * C + next] as number);
    }
    const r = bound + gamma * logSigmoid(z);
    rank[next] = r;
    // Insert in order: higher score first, equal scores by lower index.
    let at = top.length;
    while (at > 0) {
      const other = top[at - 1] as number;
      const o = rank[other] as number;
      if (r > o || (r === o && next < other)) at--;
      else break;
    }
    if (at < want) {
      top.splice(at, 0, next);
      if (top.length > want) top.pop();
    }
  }
  return { active, top, rank };
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
  const K = classes.length;
  const { scale, primaryWeights } = model;
  const { active } = pass;
  const A = active.length;
  // Each class's direction in hidden space, over the active units only: [class][unit].
  const directions = new Float64Array(K * A);
  for (let i = 0; i < K; i++) {
    const c = classes[i] as number;
    for (let a = 0; a < A; a++)
      directions[i * A + a] = primaryWeights[(active[a] as number) * C + c] as number;
  }
  // The paper's most heavily weighted terms, heaviest first (ties: earlier first).
  const { ids, values } = features;
  const weights = new Float64Array(ids.length);
  const order: number[] = [];
  for (let j = 0; j < ids.length; j++) {
    weights[j] = (values[j] as number) * (scale[ids[j] as number] as number);
    order.push(j);
  }
  order.sort((x, y) => (weights[y] as number) - (weights[x] as number) || x - y);
  order.length = Math.min(order.length, candidates);
  const scored = classes.map(() => [] as Array<{ id: number; contribution: number }>);
  const gathered = new Float64Array(A);
  for (const j of order) {
    const id = ids[j] as number;
    for (let a = 0; a < A; a++) gathered[a] = termWeightAt(model, id, active[a] as number);
    for (let i = 0; i < K; i++) {
      let dot = 0;
      const offset = i * A;
      let a = 0;
      for (; a + 3 < A; a += 4) {
        dot += (gathered[a] as number) * (directions[offset + a] as number);
        dot += (gathered[a + 1] as number) * (directions[offset + a + 1] as number);
        dot += (gathered[a + 2] as number) * (directions[offset + a + 2] as number);
        dot += (gathered[a + 3] as number) * (directions[offset + a + 3] as number);
      }
      for (; a < A; a++) dot += (gathered[a] as number) * (directions[offset + a] as number);
      const contribution = (weights[j] as number) * dot;
      if (contribution > minContribution) scored[i]?.push({ id, contribution });
    }
  }
  return scored.map((list) =>
    list
      .sort((a, b) => b.contribution - a.contribution || a.id - b.id)
      .slice(0, maxTerms)
      .map(({ id }) => model.index.term(id)),
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
  const { classes, assignThreshold } = model.header;
  const { top } = pass;
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

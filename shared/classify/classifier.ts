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
 * The same sums as {@link addTermRows4}, each hidden unit's in the same order (term by term),
 * for `H` a multiple of 8 and rows on 4-byte boundaries: eight units at a time, kept in locals
 * over all the paper's terms, their weights read as one little-endian 32-bit word (nibble j at
 * bits 4j..4j+3). The hidden array is then read and written once a unit instead of once a term
 * and unit, and one load gives eight weights: the shipped model's hidden layer, most of its time.
 */
function addTermRows4By8(
  hidden: Float64Array,
  packed: Uint8Array,
  scale: Float32Array,
  { ids, values }: FeatureVector,
  H: number,
): void {
  const n = ids.length;
  const rowWords = H >> 3;
  const words = new Int32Array(packed.buffer, packed.byteOffset, packed.byteLength >> 2);
  const xs = new Float64Array(n);
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i] as number;
    xs[i] = (values[i] as number) * (scale[id] as number);
    rows[i] = id * rowWords;
  }
  for (let w = 0, h = 0; w < rowWords; w++, h += 8) {
    let a0 = hidden[h] as number;
    let a1 = hidden[h + 1] as number;
    let a2 = hidden[h + 2] as number;
    let a3 = hidden[h + 3] as number;
    let a4 = hidden[h + 4] as number;
    let a5 = hidden[h + 5] as number;
    let a6 = hidden[h + 6] as number;
    let a7 = hidden[h + 7] as number;
    for (let i = 0; i < n; i++) {
      const x = xs[i] as number;
      const word = words[(rows[i] as number) + w] as number;
      a0 += x * ((word << 28) >> 28);
      a1 += x * ((word << 24) >> 28);
      a2 += x * ((word << 20) >> 28);
      a3 += x * ((word << 16) >> 28);
      a4 += x * ((word << 12) >> 28);
      a5 += x * ((word << 8) >> 28);
      a6 += x * ((word << 4) >> 28);
      a7 += x * (word >> 28);
    }
    hidden[h] = a0;
    hidden[h + 1] = a1;
    hidden[h + 2] = a2;
    hidden[h + 3] = a3;
    hidden[h + 4] = a4;
    hidden[h + 5] = a5;
    hidden[h + 6] = a6;
    hidden[h + 7] = a7;
  }
}

/**
 * The primary head's logits: bias + Σ hidden[h] · primaryWeights[h][c] over the active units,
 * each class's sum in unit order. Eight classes at a time, kept in locals over all active units
 * (a class's sum in the same order as one class at a time, so the same bits): the logits array is
 * then read and written once a class instead of once a unit and class.
 */
function primaryLogits(model: ClassifierModel, hidden: Float64Array, active: Int32Array): Float64Array {
  const C = model.header.classes.length;
  const { primaryWeights, primaryBias } = model;
  const A = active.length;
  const values = new Float64Array(A);
  const rows = new Int32Array(A);
  for (let a = 0; a < A; a++) {
    const h = active[a] as number;
    values[a] = hidden[h] as number;
    rows[a] = h * C;
  }
  const logP = new Float64Array(C);
  let c = 0;
  for (; c + 7 < C; c += 8) {
    let l0 = primaryBias[c] as number;
    let l1 = primaryBias[c + 1] as number;
    let l2 = primaryBias[c + 2] as number;
    let l3 = primaryBias[c + 3] as number;
    let l4 = primaryBias[c + 4] as number;
    let l5 = primaryBias[c + 5] as number;
    let l6 = primaryBias[c + 6] as number;
    let l7 = primaryBias[c + 7] as number;
    for (let a = 0; a < A; a++) {
      const value = values[a] as number;
      const base = (rows[a] as number) + c;
      l0 += value * (primaryWeights[base] as number);
      l1 += value * (primaryWeights[base + 1] as number);
      l2 += value * (primaryWeights[base + 2] as number);
      l3 += value * (primaryWeights[base + 3] as number);
      l4 += value * (primaryWeights[base + 4] as number);
      l5 += value * (primaryWeights[base + 5] as number);
      l6 += value * (primaryWeights[base + 6] as number);
      l7 += value * (primaryWeights[base + 7] as number);
    }
    logP[c] = l0;
    logP[c + 1] = l1;
    logP[c + 2] = l2;
    logP[c + 3] = l3;
    logP[c + 4] = l4;
    logP[c + 5] = l5;
    logP[c + 6] = l6;
    logP[c + 7] = l7;
  }
  for (; c < C; c++) {
    let l = primaryBias[c] as number;
    for (let a = 0; a < A; a++)
      l += (values[a] as number) * (primaryWeights[(rows[a] as number) + c] as number);
    logP[c] = l;
  }
  return logP;
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
  const { scale, listedWeights, listedBias } = model;
  const hidden = new Float64Array(H);
  for (let h = 0; h < H; h++) hidden[h] = model.hiddenBias[h] as number;
  if (model.header.termBits === 8) addTermRows8(hidden, model.termWeights as Int8Array, scale, features, H);
  else if (H % 8 === 0 && model.termWeights.byteOffset % 4 === 0)
    addTermRows4By8(hidden, model.termWeights as Uint8Array, scale, features, H);
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
  const logP = primaryLogits(model, hidden, active);
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
 * The indices of the `limit` largest of `weights`, largest first, equal ones in index order:
 * the first `limit` of a stable sort, chosen by insertion (a paper has about a hundred terms
 * and the explanation reads two dozen, so sorting them all cost more than the rest of the choice).
 */
function heaviestFirst(weights: Float64Array, limit: number): Int32Array {
  const order = new Int32Array(Math.min(weights.length, Math.max(0, limit)));
  let count = 0;
  for (let j = 0; j < weights.length && order.length > 0; j++) {
    const w = weights[j] as number;
    let at: number;
    if (count < order.length) at = count++;
    else if (w > (weights[order[count - 1] as number] as number)) at = count - 1;
    else continue; // no heavier than the lightest kept, which came earlier
    while (at > 0 && w > (weights[order[at - 1] as number] as number)) {
      order[at] = order[at - 1] as number;
      at--;
    }
    order[at] = j;
  }
  return order;
}

/**
 * Fills `out[a]` with the integer weight of a term for hidden unit `active[a]`, what
 * {@link termWeightAt} gives: for 4-bit rows on byte boundaries (even `H`), each unit's byte
 * and nibble are found once, not once a term.
 */
function termWeightGatherer(
  model: ClassifierModel,
  active: Int32Array,
): (term: number, out: Float64Array) => void {
  const { hidden: H, termBits } = model.header;
  const A = active.length;
  if (termBits !== 4 || H % 2 !== 0) {
    return (term, out) => {
      for (let a = 0; a < A; a++) out[a] = termWeightAt(model, term, active[a] as number);
    };
  }
  const packed = model.termWeights as Uint8Array;
  const rowBytes = H >> 1;
  const byteOf = new Int32Array(A);
  // Shifting a nibble to the top of a 32-bit integer and back sign-extends it: low nibble 28, high 24.
  const shiftOf = new Int32Array(A);
  for (let a = 0; a < A; a++) {
    const h = active[a] as number;
    byteOf[a] = h >> 1;
    shiftOf[a] = h & 1 ? 24 : 28;
  }
  return (term, out) => {
    const base = term * rowBytes;
    for (let a = 0; a < A; a++) {
      out[a] = ((packed[base + (byteOf[a] as number)] as number) << (shiftOf[a] as number)) >> 28;
    }
  };
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
  for (let j = 0; j < ids.length; j++)
    weights[j] = (values[j] as number) * (scale[ids[j] as number] as number);
  const order = heaviestFirst(weights, candidates);
  const scored = classes.map(() => [] as Array<{ id: number; contribution: number }>);
  const gathered = new Float64Array(A);
  const gather = termWeightGatherer(model, active);
  const keep = (i: number, j: number, id: number, dot: number) => {
    const contribution = (weights[j] as number) * dot;
    if (contribution > minContribution) scored[i]?.push({ id, contribution });
  };
  for (const j of order) {
    const id = ids[j] as number;
    gather(id, gathered);
    // Four classes' dot products at a time, each summed in unit order as one alone would be:
    // one running sum waits for each addition before the next, four side by side do not.
    let i = 0;
    for (; i + 3 < K; i += 4) {
      const o0 = i * A;
      const o1 = o0 + A;
      const o2 = o1 + A;
      const o3 = o2 + A;
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      for (let a = 0; a < A; a++) {
        const g = gathered[a] as number;
        d0 += g * (directions[o0 + a] as number);
        d1 += g * (directions[o1 + a] as number);
        d2 += g * (directions[o2 + a] as number);
        d3 += g * (directions[o3 + a] as number);
      }
      keep(i, j, id, d0);
      keep(i + 1, j, id, d1);
      keep(i + 2, j, id, d2);
      keep(i + 3, j, id, d3);
    }
    for (; i < K; i++) {
      const offset = i * A;
      let dot = 0;
      for (let a = 0; a < A; a++) dot += (gathered[a] as number) * (directions[offset + a] as number);
      keep(i, j, id, dot);
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

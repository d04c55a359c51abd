/**
 * The networks: sparse feature rows, one two-headed network trained on them,
 * networks joined into one ensemble, and the quantisation they ship with.
 */
import type { LabelledPaper as Paper } from '../evaluate';
import { type TermIndex, vectorize } from '../features';
import { log } from './log';

/** mulberry32: a small seeded PRNG, so shuffles are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle(values: Int32Array, random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i] as number;
    values[i] = values[j] as number;
    values[j] = t;
  }
}

/** Sparse rows of the feature matrix (CSR). */
export interface Rows {
  offsets: Int32Array;
  ids: Int32Array;
  values: Float32Array;
}

export function buildRows(papers: Paper[], index: TermIndex, idf: Float32Array, titleRepeat: number): Rows {
  const vectors = papers.map((p) => vectorize(index.termIds(p.title, p.abstract, titleRepeat), idf));
  const offsets = new Int32Array(papers.length + 1);
  vectors.forEach((v, i) => {
    offsets[i + 1] = (offsets[i] as number) + v.ids.length;
  });
  const total = offsets[papers.length] as number;
  const ids = new Int32Array(total);
  const values = new Float32Array(total);
  vectors.forEach((v, i) => {
    ids.set(v.ids, offsets[i]);
    values.set(v.values, offsets[i]);
  });
  return { offsets, ids, values };
}

/**
 * Learning rates and dropout: fixed, chosen on the calibration split, and
 * rechecked with `--check` on one network over the 33,000 mi terms (69.30 /
 * 82.83 / 91.26 at listed weight 0.25): term learning rate 0.025 or 0.1,
 * head learning rate 0.001 or 0.004, hidden dropout 0.1 or 0.5: none better
 * on the three figures together.
 */
export const TERM_LEARNING_RATE = 0.05;
export const HEAD_LEARNING_RATE = 0.002;
export const HEAD_BATCH = 16;
export const TERM_DROPOUT = 0.55;
export const HIDDEN_DROPOUT = 0.3;
export const INIT_TERM_WEIGHT = 0.05;

/** Hidden units per teacher network (--teacher). */
export const TEACHER_HIDDEN = 128;
/** Teacher networks average their weights from this epoch on. */
export const TEACHER_AVERAGE_FROM = 5;

export interface Network {
  termWeights: Float32Array;
  hiddenBias: Float64Array;
  primaryWeights: Float64Array;
  primaryBias: Float64Array;
  listedWeights: Float64Array;
  listedBias: Float64Array;
}

/** A network of V terms, H hidden units and C classes with every weight zero. */
export function zeroNetwork(V: number, H: number, C: number): Network {
  return {
    termWeights: new Float32Array(V * H),
    hiddenBias: new Float64Array(H),
    primaryWeights: new Float64Array(H * C),
    primaryBias: new Float64Array(C),
    listedWeights: new Float64Array(H * C),
    listedBias: new Float64Array(C),
  };
}

/**
 * A teacher's outputs on the training papers (row-major, paper by class): the
 * primary head's softmax and the listed head's sigmoids, mixed into the
 * targets with weight `weight` (the hard labels keep 1 − weight).
 */
export interface SoftTargets {
  primary: Float32Array;
  listed: Float32Array;
  weight: number;
}

/**
 * Trains the two-headed network: term weights and hidden bias by Adagrad,
 * one paper at a time; the heads by Adam on mini-batches. Returns the weights
 * averaged over the epochs from `averageFrom` on.
 */
export function trainNetwork(
  rows: Rows,
  primaries: Array<number | undefined>,
  listed: Array<ReadonlySet<number>>,
  V: number,
  C: number,
  H: number,
  seed: number,
  options: { epochs: number; averageFrom: number },
  soft?: SoftTargets,
  paperWeights?: Float32Array,
): Network {
  const random = rng(seed);
  const uniform = (limit: number) => (random() * 2 - 1) * limit;
  const headLimit = Math.sqrt(6 / (H + C));
  const net: Network = {
    termWeights: Float32Array.from({ length: V * H }, () => uniform(INIT_TERM_WEIGHT)),
    hiddenBias: new Float64Array(H),
    primaryWeights: Float64Array.from({ length: H * C }, () => uniform(headLimit)),
    primaryBias: new Float64Array(C),
    listedWeights: Float64Array.from({ length: H * C }, () => uniform(headLimit)),
    listedBias: new Float64Array(C),
  };
  const termSquares = new Float32Array(V * H).fill(1e-8);
  const biasSquares = new Float64Array(H).fill(1e-8);
  const heads = [net.primaryWeights, net.primaryBias, net.listedWeights, net.listedBias];
  const headGrads = heads.map((a) => new Float64Array(a.length));
  const headMoment1 = heads.map((a) => new Float64Array(a.length));
  const headMoment2 = heads.map((a) => new Float64Array(a.length));
  let adamStep = 0;
  const updateHeads = () => {
    adamStep++;
    const correction1 = 1 - 0.9 ** adamStep;
    const correction2 = 1 - 0.999 ** adamStep;
    heads.forEach((param, k) => {
      const g = headGrads[k] as Float64Array;
      const m = headMoment1[k] as Float64Array;
      const v = headMoment2[k] as Float64Array;
      for (let i = 0; i < param.length; i++) {
        const gi = (g[i] as number) / HEAD_BATCH;
        m[i] = 0.9 * (m[i] as number) + 0.1 * gi;
        v[i] = 0.999 * (v[i] as number) + 0.001 * gi * gi;
        param[i] =
          (param[i] as number) -
          (HEAD_LEARNING_RATE * ((m[i] as number) / correction1)) /
            (Math.sqrt((v[i] as number) / correction2) + 1e-8);
        g[i] = 0;
      }
    });
  };
  const [gPrimaryW, gPrimaryB, gListedW, gListedB] = headGrads as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];

  const averaged = zeroNetwork(V, H, C);
  let snapshots = 0;

  const hidden = new Float64Array(H);
  const mask = new Float64Array(H);
  const dHidden = new Float64Array(H);
  const primary = new Float64Array(C);
  const listedOut = new Float64Array(C);
  const kept = new Uint8Array(1 << 16);
  const order = new Int32Array(primaries.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const termScale = 1 / (1 - TERM_DROPOUT);
  const hiddenScale = 1 / (1 - HIDDEN_DROPOUT);

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    const started = Date.now();
    let loss = 0;
    let inBatch = 0;
    for (const d of order) {
      const target = primaries[d];
      if (target === undefined) continue;
      const from = rows.offsets[d] as number;
      const to = rows.offsets[d + 1] as number;
      // Forward, with dropout on terms and hidden units.
      for (let h = 0; h < H; h++) hidden[h] = net.hiddenBias[h] as number;
      for (let k = from; k < to; k++) {
        const keep = random() >= TERM_DROPOUT;
        kept[k - from] = keep ? 1 : 0;
        if (!keep) continue;
        const x = (rows.values[k] as number) * termScale;
        const base = (rows.ids[k] as number) * H;
        for (let h = 0; h < H; h++)
          hidden[h] = (hidden[h] as number) + x * (net.termWeights[base + h] as number);
      }
      for (let h = 0; h < H; h++) {
        mask[h] = random() >= HIDDEN_DROPOUT ? hiddenScale : 0;
        hidden[h] = (hidden[h] as number) > 0 ? (hidden[h] as number) * (mask[h] as number) : 0;
      }
      for (let c = 0; c < C; c++) {
        primary[c] = net.primaryBias[c] as number;
        listedOut[c] = net.listedBias[c] as number;
      }
      for (let h = 0; h < H; h++) {
        const a = hidden[h] as number;
        if (a === 0) continue;
        const base = h * C;
        for (let c = 0; c < C; c++) {
          primary[c] = (primary[c] as number) + a * (net.primaryWeights[base + c] as number);
          listedOut[c] = (listedOut[c] as number) + a * (net.listedWeights[base + c] as number);
        }
      }
      // Output gradients: softmax cross-entropy on the primary, sigmoid cross-entropy on every category.
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) if ((primary[c] as number) > max) max = primary[c] as number;
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp((primary[c] as number) - max);
        primary[c] = e;
        sum += e;
      }
      for (let c = 0; c < C; c++) primary[c] = (primary[c] as number) / sum;
      loss -= Math.log(Math.max(primary[target] as number, 1e-12));
      const gold = listed[d] as ReadonlySet<number>;
      if (soft) {
        // Distillation: the targets are the hard labels mixed with the teacher's outputs.
        const w = soft.weight;
        const at = d * C;
        for (let c = 0; c < C; c++) {
          const hardPrimary = c === target ? 1 : 0;
          const hardListed = gold.has(c) ? 1 : 0;
          primary[c] =
            (primary[c] as number) - ((1 - w) * hardPrimary + w * (soft.primary[at + c] as number));
          listedOut[c] =
            1 / (1 + Math.exp(-(listedOut[c] as number))) -
            ((1 - w) * hardListed + w * (soft.listed[at + c] as number));
        }
      } else {
        primary[target] = (primary[target] as number) - 1;
        for (let c = 0; c < C; c++) {
          listedOut[c] = 1 / (1 + Math.exp(-(listedOut[c] as number))) - (gold.has(c) ? 1 : 0);
        }
      }
      if (paperWeights) {
        // A class weight scales the paper's whole gradient, through both heads into the hidden layer.
        const w = paperWeights[d] as number;
        for (let c = 0; c < C; c++) {
          primary[c] = (primary[c] as number) * w;
          listedOut[c] = (listedOut[c] as number) * w;
        }
      }
      for (let c = 0; c < C; c++) {
        gPrimaryB[c] = (gPrimaryB[c] as number) + (primary[c] as number);
        gListedB[c] = (gListedB[c] as number) + (listedOut[c] as number);
      }
      for (let h = 0; h < H; h++) {
        const a = hidden[h] as number;
        if (a === 0) {
          dHidden[h] = 0;
          continue;
        }
        const base = h * C;
        let back = 0;
        for (let c = 0; c < C; c++) {
          const gp = primary[c] as number;
          const gl = listedOut[c] as number;
          gPrimaryW[base + c] = (gPrimaryW[base + c] as number) + a * gp;
          gListedW[base + c] = (gListedW[base + c] as number) + a * gl;
          back +=
            (net.primaryWeights[base + c] as number) * gp + (net.listedWeights[base + c] as number) * gl;
        }
        dHidden[h] = back * (mask[h] as number);
      }
      for (let h = 0; h < H; h++) {
        const g = dHidden[h] as number;
        biasSquares[h] = (biasSquares[h] as number) + g * g;
        net.hiddenBias[h] =
          (net.hiddenBias[h] as number) - (TERM_LEARNING_RATE * g) / Math.sqrt(biasSquares[h] as number);
      }
      for (let k = from; k < to; k++) {
        if (!kept[k - from]) continue;
        const x = (rows.values[k] as number) * termScale;
        const base = (rows.ids[k] as number) * H;
        for (let h = 0; h < H; h++) {
          const g = dHidden[h] as number;
          if (g === 0) continue;
          const i = base + h;
          const gi = x * g;
          const acc = (termSquares[i] as number) + gi * gi;
          termSquares[i] = acc;
          net.termWeights[i] = (net.termWeights[i] as number) - (TERM_LEARNING_RATE * gi) / Math.sqrt(acc);
        }
      }
      if (++inBatch === HEAD_BATCH) {
        updateHeads();
        inBatch = 0;
      }
    }
    if (epoch + 1 >= options.averageFrom) {
      snapshots++;
      for (const key of Object.keys(net) as Array<keyof Network>) {
        const live = net[key];
        const mean = averaged[key];
        for (let i = 0; i < live.length; i++)
          mean[i] = (mean[i] as number) + ((live[i] as number) - (mean[i] as number)) / snapshots;
      }
    }
    log(
      `epoch ${epoch + 1}/${options.epochs}: primary loss ${(loss / order.length).toFixed(4)} (${Date.now() - started} ms)${snapshots ? `, averaging ${snapshots}` : ''}`,
    );
  }
  return snapshots ? averaged : net;
}

/**
 * The ensemble of independently trained networks (same features) as one
 * network: their hidden layers side by side, each head's weights and biases
 * divided by the number of members, so the primary logits are the members'
 * mean (the softmax of the mean logits: the normalised geometric mean of the
 * members' probabilities) and the listed logits likewise.
 */
export function concatenate(members: Network[], V: number, width: number, C: number): Network {
  const M = members.length;
  const H = width * M;
  const net = zeroNetwork(V, H, C);
  members.forEach((member, m) => {
    for (let t = 0; t < V; t++)
      net.termWeights.set(member.termWeights.subarray(t * width, (t + 1) * width), t * H + m * width);
    net.hiddenBias.set(member.hiddenBias, m * width);
    for (let i = 0; i < width * C; i++) {
      net.primaryWeights[m * width * C + i] = (member.primaryWeights[i] as number) / M;
      net.listedWeights[m * width * C + i] = (member.listedWeights[i] as number) / M;
    }
    for (let c = 0; c < C; c++) {
      net.primaryBias[c] = (net.primaryBias[c] as number) + (member.primaryBias[c] as number) / M;
      net.listedBias[c] = (net.listedBias[c] as number) + (member.listedBias[c] as number) / M;
    }
  });
  return net;
}

/** The (unquantised) network's outputs on every row, without dropout: the distillation targets. */
export function teacherOutputs(
  net: Network,
  rows: Rows,
  H: number,
  C: number,
  weight: number,
  temperature: number,
): SoftTargets {
  const N = rows.offsets.length - 1;
  const primary = new Float32Array(N * C);
  const listed = new Float32Array(N * C);
  const hidden = new Float64Array(H);
  const logits = new Float64Array(C);
  for (let d = 0; d < N; d++) {
    for (let h = 0; h < H; h++) hidden[h] = net.hiddenBias[h] as number;
    for (let k = rows.offsets[d] as number; k < (rows.offsets[d + 1] as number); k++) {
      const x = rows.values[k] as number;
      const base = (rows.ids[k] as number) * H;
      for (let h = 0; h < H; h++)
        hidden[h] = (hidden[h] as number) + x * (net.termWeights[base + h] as number);
    }
    for (let c = 0; c < C; c++) {
      logits[c] = net.primaryBias[c] as number;
      listed[d * C + c] = net.listedBias[c] as number;
    }
    for (let h = 0; h < H; h++) {
      const a = hidden[h] as number;
      if (a <= 0) continue;
      for (let c = 0; c < C; c++) {
        logits[c] = (logits[c] as number) + a * (net.primaryWeights[h * C + c] as number);
        listed[d * C + c] = (listed[d * C + c] as number) + a * (net.listedWeights[h * C + c] as number);
      }
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) if ((logits[c] as number) > max) max = logits[c] as number;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(((logits[c] as number) - max) / temperature);
    for (let c = 0; c < C; c++) {
      primary[d * C + c] = Math.exp(((logits[c] as number) - max) / temperature) / sum;
      listed[d * C + c] = 1 / (1 + Math.exp(-(listed[d * C + c] as number) / temperature));
    }
  }
  return { primary, listed, weight };
}

/** Quantises term weights to signed `bits`-bit integers with one scale per term (row). */
export function quantiseRows(
  W: Float32Array,
  rows: number,
  width: number,
  bits: 4 | 8,
): { scale: Float32Array; weights: Int8Array } {
  const levels = bits === 8 ? 127 : 7;
  const scale = new Float32Array(rows);
  const weights = new Int8Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let maxAbs = 0;
    for (let i = 0; i < width; i++) maxAbs = Math.max(maxAbs, Math.abs(W[base + i] as number));
    const s = maxAbs > 0 ? maxAbs / levels : 1;
    scale[r] = s;
    for (let i = 0; i < width; i++) weights[base + i] = Math.round((W[base + i] as number) / s);
  }
  return { scale, weights };
}

/** Subtracts each row's mean across classes (and the bias's mean): the softmax does not change. */
export function centreAcrossClasses(
  W: Float64Array,
  bias: Float64Array,
  rows: number,
  C: number,
): Float32Array[] {
  const centred = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += W[r * C + c] as number;
    mean /= C;
    for (let c = 0; c < C; c++) centred[r * C + c] = (W[r * C + c] as number) - mean;
  }
  const biasMean = bias.reduce((s, x) => s + x, 0) / C;
  return [centred, Float32Array.from(bias, (x) => x - biasMean)];
}

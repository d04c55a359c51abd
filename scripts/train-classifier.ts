/**
 * `npm run train:classifier [-- options]`: trains the arXiv-category classifier
 * on the labelled papers and writes the model to `shared/classify/model/`.
 *
 * Deterministic: the same data and options give the same model bytes (seeded
 * shuffles, a split by hash of the paper id, no clock or randomness elsewhere).
 *
 * 1. Split by SHA-256 of the id: 10% validation, 5% calibration, 85% training.
 * 2. Features: uni- and bigrams (the shared tokeniser), vocabulary the terms of
 *    highest document frequency in the training split, sublinear tf-idf, L2-normalised.
 * 3. Model: a linear softmax over the categories, trained with Adagrad and L2
 *    on soft targets that spread each paper's mass over all its categories,
 *    weighted toward the primary, so it learns from cross-lists as well.
 * 4. Weights centred across classes (the softmax does not change, and a term's
 *    weight then reads as "for this class rather than the average one"), then
 *    quantised to int8 with one scale per term.
 * 5. Calibration on the calibration split, with the quantised model: Platt
 *    scaling of ln p to the chance the category is among the paper's, and the
 *    global threshold for `assigned` that maximises micro-F1 there.
 * 6. Written, read back through the loader, and evaluated on the validation split.
 *
 * Options: --data <train.jsonl.gz> --out <dir> --vocab <terms> --epochs <n>
 * --seed <n> --primary-weight <0..1> --l2 <λ> --lr <η> --dry-run (no files written).
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import * as z from 'zod';
import { calibratedScore, classProbabilities, featuresOf, topIndices } from '../shared/classify/classifier';
import { vectorize } from '../shared/classify/features';
import { loadModel } from '../shared/classify/load-model';
import {
  type ClassifierModel,
  decodeModel,
  encodeModel,
  MODEL_FILES,
  type ModelMetrics,
  ModelMetricsSchema,
  type ModelParts,
  sha256Hex,
} from '../shared/classify/model-format';
import { canonicalCategory } from '../shared/classify/taxonomy';
import { paperTerms, TOKENIZER_VERSION } from '../shared/classify/tokenize';

const MODEL_NAME = 'tfidf-softmax';
const TOP_K = 5;
/** A category needs this many training papers (as primary or cross-list) to be a class. */
const MIN_CLASS_PAPERS = 5;
/** A term needs this document frequency to enter the vocabulary. */
const MIN_DF = 3;

const LabelledPaperSchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  abstract: z.string(),
  categories: z.array(z.string().min(1)).min(1),
  primary: z.string().min(1),
});

interface Paper {
  id: string;
  title: string;
  abstract: string;
  /** Canonical codes, primary first, deduplicated. */
  categories: string[];
}

type Split = 'train' | 'calibration' | 'validation';

const Options = z.object({
  data: z.string().min(1),
  out: z.string().min(1),
  vocab: z.coerce.number().int().positive(),
  epochs: z.coerce.number().int().positive(),
  seed: z.coerce.number().int(),
  primaryWeight: z.coerce.number().min(0).max(1),
  l2: z.coerce.number().min(0),
  lr: z.coerce.number().positive(),
  dryRun: z.boolean(),
});
type Options = z.infer<typeof Options>;

function log(message: string): void {
  process.stderr.write(`train-classifier: ${message}\n`);
}

async function readPapers(path: string): Promise<Paper[]> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  const papers: Paper[] = [];
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (!line.trim()) continue;
    const row = LabelledPaperSchema.safeParse(JSON.parse(line));
    if (!row.success) throw new Error(`${path}:${lineNumber}: ${row.error.issues[0]?.message}`);
    const categories = [...new Set([row.data.primary, ...row.data.categories].map(canonicalCategory))];
    papers.push({ id: row.data.id, title: row.data.title, abstract: row.data.abstract, categories });
  }
  return papers;
}

function splitOf(id: string): Split {
  const bucket = Number.parseInt(sha256Hex(`split:${id}`).slice(0, 8), 16) % 100;
  return bucket < 10 ? 'validation' : bucket < 15 ? 'calibration' : 'train';
}

/** mulberry32: a small seeded PRNG, so shuffles are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(values: Int32Array, random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i] as number;
    values[i] = values[j] as number;
    values[j] = t;
  }
}

/** The vocabulary: terms with df ≥ MIN_DF, highest df first (ties by term), at most `size`. */
function chooseVocabulary(train: Paper[], size: number): { terms: string[]; idf: Float32Array } {
  const df = new Map<string, number>();
  for (const paper of train) {
    for (const term of new Set(paperTerms(paper.title, paper.abstract)))
      df.set(term, (df.get(term) ?? 0) + 1);
  }
  const candidates = [...df].filter(([, n]) => n >= MIN_DF);
  candidates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const chosen = candidates.slice(0, size);
  const N = train.length;
  const idf = new Float32Array(chosen.length);
  chosen.forEach(([, n], i) => {
    idf[i] = Math.log((1 + N) / (1 + n)) + 1;
  });
  log(`${df.size} distinct terms, ${candidates.length} with df >= ${MIN_DF}, kept ${chosen.length}`);
  return { terms: chosen.map(([term]) => term), idf };
}

/** Sparse rows of the feature matrix (CSR). */
interface Rows {
  offsets: Int32Array;
  ids: Int32Array;
  values: Float32Array;
}

function buildRows(papers: Paper[], vocab: ReadonlyMap<string, number>, idf: Float32Array): Rows {
  const vectors = papers.map((p) => vectorize(paperTerms(p.title, p.abstract), vocab, idf));
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
 * Soft target of a paper: its known categories share the mass, the primary
 * getting `primaryWeight` and the cross-lists the rest equally (a paper with
 * one known category puts all of it there).
 */
function targetsOf(paper: Paper, classIndex: ReadonlyMap<string, number>, primaryWeight: number) {
  const known = paper.categories.map((code) => classIndex.get(code)).filter((c) => c !== undefined);
  if (known.length === 0) return [];
  const [first, ...rest] = known;
  if (rest.length === 0) return [{ c: first as number, t: 1 }];
  const primaryKnown = classIndex.get(paper.categories[0] as string) !== undefined;
  const head = primaryKnown ? primaryWeight : 1 / known.length;
  const tail = (1 - head) / rest.length;
  return [{ c: first as number, t: head }, ...rest.map((c) => ({ c, t: tail }))];
}

/** Multinomial logistic regression on soft targets: Adagrad, L2 on the weights it touches. */
function trainSoftmax(
  rows: Rows,
  targets: Array<Array<{ c: number; t: number }>>,
  V: number,
  C: number,
  options: Options,
): { W: Float32Array; b: Float64Array } {
  const W = new Float32Array(V * C);
  const G = new Float32Array(V * C).fill(1e-8);
  const b = new Float64Array(C);
  const Gb = new Float64Array(C).fill(1e-8);
  const z = new Float64Array(C);
  const g = new Float64Array(C);
  const order = new Int32Array(targets.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const random = rng(options.seed);
  const { lr, l2 } = options;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    let loss = 0;
    const started = Date.now();
    for (const d of order) {
      const target = targets[d] as Array<{ c: number; t: number }>;
      if (target.length === 0) continue;
      const from = rows.offsets[d] as number;
      const to = rows.offsets[d + 1] as number;
      for (let c = 0; c < C; c++) z[c] = b[c] as number;
      for (let k = from; k < to; k++) {
        const x = rows.values[k] as number;
        const base = (rows.ids[k] as number) * C;
        for (let c = 0; c < C; c++) z[c] = (z[c] as number) + x * (W[base + c] as number);
      }
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) if ((z[c] as number) > max) max = z[c] as number;
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp((z[c] as number) - max);
        g[c] = e;
        sum += e;
      }
      for (let c = 0; c < C; c++) g[c] = (g[c] as number) / sum;
      for (const { c, t } of target) {
        loss -= t * Math.log(Math.max(g[c] as number, 1e-12));
        g[c] = (g[c] as number) - t;
      }
      for (let c = 0; c < C; c++) {
        const grad = g[c] as number;
        Gb[c] = (Gb[c] as number) + grad * grad;
        b[c] = (b[c] as number) - (lr * grad) / Math.sqrt(Gb[c] as number);
      }
      for (let k = from; k < to; k++) {
        const x = rows.values[k] as number;
        const base = (rows.ids[k] as number) * C;
        for (let c = 0; c < C; c++) {
          const i = base + c;
          const w = W[i] as number;
          const grad = x * (g[c] as number) + l2 * w;
          const acc = (G[i] as number) + grad * grad;
          G[i] = acc;
          W[i] = w - (lr * grad) / Math.sqrt(acc);
        }
      }
    }
    log(
      `epoch ${epoch + 1}/${options.epochs}: loss ${(loss / order.length).toFixed(4)} (${Date.now() - started} ms)`,
    );
  }
  return { W, b };
}

/** Centres each term's weights across classes, then quantises them to int8 with one scale per term. */
function quantise(W: Float32Array, V: number, C: number): { scale: Float32Array; weights: Int8Array } {
  const scale = new Float32Array(V);
  const weights = new Int8Array(V * C);
  for (let v = 0; v < V; v++) {
    const base = v * C;
    let mean = 0;
    for (let c = 0; c < C; c++) mean += W[base + c] as number;
    mean /= C;
    let maxAbs = 0;
    for (let c = 0; c < C; c++) maxAbs = Math.max(maxAbs, Math.abs((W[base + c] as number) - mean));
    const s = maxAbs > 0 ? maxAbs / 127 : 1;
    scale[v] = s;
    for (let c = 0; c < C; c++) weights[base + c] = Math.round(((W[base + c] as number) - mean) / s);
  }
  return { scale, weights };
}

/** Platt scaling: fits σ(a·x + b) to 0/1 outcomes by Newton's method with step halving. */
function fitPlatt(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const nll = (a: number, b: number) => {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) {
      const m = a * (xs[i] as number) + b;
      // -log σ(m) for y=1, -log(1-σ(m)) for y=0, computed stably.
      const s = ys[i] ? -m : m;
      sum += s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
    }
    return sum;
  };
  let a = 1;
  let b = 0;
  let current = nll(a, b);
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      const p = 1 / (1 + Math.exp(-(a * x + b)));
      const r = p - (ys[i] as number);
      const w = p * (1 - p);
      ga += r * x;
      gb += r;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    let da = det > 0 ? (hbb * ga - hab * gb) / det : ga * 1e-3;
    let db = det > 0 ? (haa * gb - hab * ga) / det : gb * 1e-3;
    let step = 1;
    let next = nll(a - da, b - db);
    while (next > current && step > 1e-6) {
      step /= 2;
      da /= 2;
      db /= 2;
      next = nll(a - da, b - db);
    }
    if (next > current) break;
    a -= da;
    b -= db;
    const improvement = current - next;
    current = next;
    if (improvement < 1e-9 * xs.length) break;
  }
  return { slope: a, intercept: b };
}

interface Ranked {
  gold: Set<string>;
  primary: string;
  /** The top-K codes and their calibrated scores, best first. */
  codes: string[];
  scores: number[];
}

function rank(model: ClassifierModel, papers: Paper[]): Ranked[] {
  return papers.map((paper) => {
    const probabilities = classProbabilities(model, featuresOf(model, paper.title, paper.abstract));
    const top = topIndices(probabilities, model.header.topK);
    return {
      gold: new Set(paper.categories),
      primary: paper.categories[0] as string,
      codes: top.map((c) => model.header.classes[c] as string),
      scores: top.map((c) => calibratedScore(model, probabilities[c] as number)),
    };
  });
}

function assignedCounts(ranked: Ranked[], threshold: number) {
  let tp = 0;
  let predicted = 0;
  let actual = 0;
  for (const r of ranked) {
    actual += r.gold.size;
    r.codes.forEach((code, i) => {
      if (i === 0 || (r.scores[i] as number) >= threshold) {
        predicted++;
        if (r.gold.has(code)) tp++;
      }
    });
  }
  const precision = predicted ? tp / predicted : 0;
  const recall = actual ? tp / actual : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, meanAssigned: predicted / ranked.length };
}

function evaluate(ranked: Ranked[], threshold: number): ModelMetrics['validation'] {
  let top1IsPrimary = 0;
  let top1InCategories = 0;
  let primaryInTop3 = 0;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, score: 0, hits: 0 }));
  let entries = 0;
  for (const r of ranked) {
    if (r.codes[0] === r.primary) top1IsPrimary++;
    if (r.gold.has(r.codes[0] as string)) top1InCategories++;
    if (r.codes.slice(0, 3).includes(r.primary)) primaryInTop3++;
    r.codes.forEach((code, i) => {
      const score = r.scores[i] as number;
      const bin = bins[Math.min(9, Math.floor(score * 10))] as { n: number; score: number; hits: number };
      bin.n++;
      bin.score += score;
      if (r.gold.has(code)) bin.hits++;
      entries++;
    });
  }
  const n = ranked.length;
  const assigned = assignedCounts(ranked, threshold);
  const calibrationError = bins.reduce(
    (sum, bin) => sum + (bin.n ? Math.abs(bin.score - bin.hits) / entries : 0),
    0,
  );
  return {
    papers: n,
    top1IsPrimary: top1IsPrimary / n,
    top1InCategories: top1InCategories / n,
    primaryInTop3: primaryInTop3 / n,
    assignedMicroF1: assigned.f1,
    assignedPrecision: assigned.precision,
    assignedRecall: assigned.recall,
    meanAssigned: assigned.meanAssigned,
    calibrationError,
  };
}

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: {
        type: 'string',
        default: fileURLToPath(new URL('../../shared/data/arxiv-labeled/train.jsonl.gz', import.meta.url)),
      },
      out: { type: 'string', default: fileURLToPath(new URL('../shared/classify/model/', import.meta.url)) },
      vocab: { type: 'string', default: '40000' },
      epochs: { type: 'string', default: '5' },
      seed: { type: 'string', default: '20260601' },
      'primary-weight': { type: 'string', default: '1' },
      l2: { type: 'string', default: '1e-4' },
      lr: { type: 'string', default: '0.5' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const options = Options.parse({
    ...values,
    primaryWeight: values['primary-weight'],
    dryRun: values['dry-run'],
  });
  const started = Date.now();

  const papers = await readPapers(options.data);
  const bySplit: Record<Split, Paper[]> = { train: [], calibration: [], validation: [] };
  for (const paper of papers) bySplit[splitOf(paper.id)].push(paper);
  const { train, calibration, validation } = bySplit;
  log(
    `${papers.length} papers: ${train.length} train, ${calibration.length} calibration, ${validation.length} validation`,
  );

  const classCounts = new Map<string, number>();
  for (const paper of train)
    for (const code of paper.categories) classCounts.set(code, (classCounts.get(code) ?? 0) + 1);
  const classes = [...classCounts]
    .filter(([, n]) => n >= MIN_CLASS_PAPERS)
    .map(([code]) => code)
    .sort();
  const classIndex = new Map(classes.map((code, i) => [code, i]));
  log(`${classes.length} classes (categories on >= ${MIN_CLASS_PAPERS} training papers)`);

  const { terms, idf } = chooseVocabulary(train, options.vocab);
  const vocab = new Map(terms.map((term, i) => [term, i]));
  const rows = buildRows(train, vocab, idf);
  log(`features built: ${rows.ids.length} non-zeros (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const targets = train.map((paper) => targetsOf(paper, classIndex, options.primaryWeight));
  const V = terms.length;
  const C = classes.length;
  const { W, b } = trainSoftmax(rows, targets, V, C, options);
  const { scale, weights } = quantise(W, V, C);
  const meanBias = b.reduce((s, x) => s + x, 0) / C;
  const bias = Float32Array.from(b, (x) => x - meanBias);

  const parts: ModelParts = {
    name: MODEL_NAME,
    tokenizer: TOKENIZER_VERSION,
    classes,
    terms,
    bias,
    idf,
    scale,
    weights,
    calibration: { slope: 1, intercept: 0 },
    assignThreshold: 0.5,
    topK: TOP_K,
    explain: { maxTerms: 5, minContribution: 0.05 },
    training: {
      data: sha256Hex(papers.map((p) => p.id).join('\n')).slice(0, 16),
      trainPapers: train.length,
      vocabulary: V,
      minDf: MIN_DF,
      epochs: options.epochs,
      seed: options.seed,
      primaryWeight: options.primaryWeight,
      l2: options.l2,
      learningRate: options.lr,
      optimizer: 'adagrad',
      quantisation: 'int8, per-term scale, centred across classes',
    },
  };

  // Calibrate the model as it will ship (quantised), on papers it was not trained on.
  const uncalibrated = encodeModel(parts);
  const provisional = decodeModel(
    uncalibrated.header,
    uncalibrated.weights,
    uncalibrated.vocab,
    TOKENIZER_VERSION,
  );
  const xs: number[] = [];
  const ys: number[] = [];
  for (const paper of calibration) {
    const probabilities = classProbabilities(
      provisional,
      featuresOf(provisional, paper.title, paper.abstract),
    );
    const gold = new Set(paper.categories);
    for (const c of topIndices(probabilities, TOP_K)) {
      xs.push(Math.log(Math.max(probabilities[c] as number, 1e-12)));
      ys.push(gold.has(classes[c] as string) ? 1 : 0);
    }
  }
  parts.calibration = fitPlatt(xs, ys);
  const calibrated = encodeModel(parts);
  const calibrationModel = decodeModel(
    calibrated.header,
    calibrated.weights,
    calibrated.vocab,
    TOKENIZER_VERSION,
  );
  const calibrationRanked = rank(calibrationModel, calibration);
  let best = { threshold: 0.5, f1: -1 };
  for (let t = 0.05; t <= 0.951; t += 0.01) {
    const threshold = Math.round(t * 100) / 100;
    const { f1 } = assignedCounts(calibrationRanked, threshold);
    if (f1 > best.f1) best = { threshold, f1 };
  }
  parts.assignThreshold = best.threshold;
  log(
    `calibration: score = sigmoid(${parts.calibration.slope.toFixed(4)} ln p + ${parts.calibration.intercept.toFixed(4)}), assign at ${best.threshold} (micro-F1 ${best.f1.toFixed(4)} on the calibration split)`,
  );

  const final = encodeModel(parts);
  let model: ClassifierModel;
  if (options.dryRun) {
    model = decodeModel(final.header, final.weights, final.vocab, TOKENIZER_VERSION);
  } else {
    await mkdir(options.out, { recursive: true });
    const out = options.out.replace(/\/+$/, '');
    // Data files first, header last (renamed into place), so a reader never sees a header without its data.
    await writeFile(`${out}/${MODEL_FILES.weights}`, final.weights);
    await writeFile(`${out}/${MODEL_FILES.vocab}`, final.vocab);
    await writeFile(`${out}/${MODEL_FILES.header}.tmp`, final.header);
    await rename(`${out}/${MODEL_FILES.header}.tmp`, `${out}/${MODEL_FILES.header}`);
    model = loadModel(out);
  }

  const metrics: ModelMetrics = ModelMetricsSchema.parse({
    split: { train: train.length, calibration: calibration.length, validation: validation.length },
    validation: evaluate(rank(model, validation), parts.assignThreshold),
  });
  if (!options.dryRun) {
    await writeFile(
      `${options.out.replace(/\/+$/, '')}/${MODEL_FILES.metrics}`,
      `${JSON.stringify(metrics, null, 2)}\n`,
    );
  }
  const v = metrics.validation;
  const bytes = final.weights.byteLength + final.vocab.byteLength + final.header.length;
  process.stdout.write(
    [
      `model ${model.version}: ${V} terms x ${C} classes, ${bytes} bytes${options.dryRun ? ' (dry run, not written)' : ` written to ${options.out}`}`,
      `validation (${v.papers} papers):`,
      `  top-1 == primary          ${percent(v.top1IsPrimary)}`,
      `  top-1 in categories       ${percent(v.top1InCategories)}`,
      `  primary in top-3          ${percent(v.primaryInTop3)}`,
      `  assigned-set micro-F1     ${percent(v.assignedMicroF1)} (precision ${percent(v.assignedPrecision)}, recall ${percent(v.assignedRecall)}, ${v.meanAssigned.toFixed(2)} assigned per paper)`,
      `  calibration error (ECE)   ${v.calibrationError.toFixed(4)}`,
      `trained in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `train-classifier: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});

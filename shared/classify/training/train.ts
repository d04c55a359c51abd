/**
 * One training run, from the labelled papers to the model files, the
 * evaluation sample and the validation figures: the steps the header of
 * `scripts/train-classifier.ts` lists, which only reads the command line and
 * hands the options over.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { featuresOf, forward } from '../classifier';
import {
  assignedCounts,
  evaluateModel,
  evaluateRanked,
  evaluationSample,
  type LabelledPaper as Paper,
  rankPapers,
  type Split,
  splitOf,
} from '../evaluate';
import { TermIndex } from '../features';
import { loadModel } from '../load-model';
import {
  type ClassifierModel,
  decodeModel,
  encodeModel,
  MODEL_FILES,
  type ModelHeader,
  type ModelMetrics,
  ModelMetricsSchema,
  type ModelParts,
  sha256Hex,
} from '../model-format';
import { TOKENIZER_VERSION } from '../tokenize';
import { fitPlatt } from './calibration';
import { isCheckPaper, readPapers, rebalancingWeights, withExtraPapers } from './data';
import { log } from './log';
import {
  buildRows,
  centreAcrossClasses,
  concatenate,
  HEAD_LEARNING_RATE,
  HIDDEN_DROPOUT,
  quantiseRows,
  type SoftTargets,
  TEACHER_AVERAGE_FROM,
  TEACHER_HIDDEN,
  TERM_DROPOUT,
  TERM_LEARNING_RATE,
  teacherOutputs,
  trainNetwork,
} from './network';
import { NO_EXTRA, type TrainingOptions as Options } from './options';
import { chooseVocabulary, MIN_DF } from './vocabulary';

const MODEL_NAME = 'tfidf-mlp';
const TOP_K = 5;
/** A category needs this many training papers (as primary or cross-list) to be a class. */
const MIN_CLASS_PAPERS = 5;
/** The evaluation sample committed for the tests: this many validation papers. */
const SAMPLE_PAPERS = 1500;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * Trains, calibrates and evaluates a model with `options`; writes the model to
 * `options.out` and the evaluation sample to `options.sample` unless
 * `options.dryRun`. Progress goes to stderr; returns the summary for stdout
 * (empty with `options.check`, which prints its figures as progress and
 * writes nothing). Rejects with `OverlappingDataError` when an extra paper
 * is also in `options.data`.
 */
export async function trainClassifier(options: Options): Promise<string> {
  const started = Date.now();

  const papers = await readPapers(options.data);
  const extra = options.extra === NO_EXTRA ? [] : await readPapers(options.extra);
  const bySplit: Record<Split, Paper[]> = { train: [], calibration: [], validation: [] };
  for (const paper of papers) bySplit[splitOf(paper.id)].push(paper);
  const { calibration, validation } = bySplit;
  // --check: 10% of the training split held out (by hash of the id) to choose settings on, never the validation split.
  const heldOut = options.check ? bySplit.train.filter((p) => isCheckPaper(p.id)) : [];
  const original = options.check ? bySplit.train.filter((p) => !isCheckPaper(p.id)) : bySplit.train;
  // The extra papers only ever train: calibration, check and validation papers stay drawn from --data as before.
  const train = withExtraPapers(original, extra, [...calibration, ...validation, ...heldOut]);
  log(
    `${papers.length} papers: ${original.length} train, ${calibration.length} calibration, ${validation.length} validation; ${extra.length} extra, for training`,
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

  const { terms, idf } = chooseVocabulary(train, options.vocab, options.select, classIndex);
  const trainWeights =
    extra.length && options.rebalance > 0
      ? rebalancingWeights(original, train, classIndex, options.rebalance)
      : undefined;
  const index = new TermIndex(terms);
  const V = terms.length;
  const C = classes.length;
  const H = options.hidden * options.members;
  /** Trains the network(s) on `papers` (the vocabulary and classes stay those of the training split). */
  const trainOn = (papers: Paper[], paperWeights?: Float32Array) => {
    const rows = buildRows(papers, index, idf, options.titleRepeat);
    log(`features built: ${rows.ids.length} non-zeros (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const primaries = papers.map((paper) => classIndex.get(paper.categories[0] as string));
    const listed = papers.map(
      (paper) => new Set(paper.categories.map((code) => classIndex.get(code)).filter((c) => c !== undefined)),
    );
    let soft: SoftTargets | undefined;
    if (options.teacher > 0) {
      // Distillation: a teacher ensemble (seeds seed+1000, …, default width) trained on the same papers.
      const teacherOptions = {
        epochs: options.teacherEpochs,
        averageFrom: Math.min(TEACHER_AVERAGE_FROM, options.teacherEpochs),
      };
      const teachers = Array.from({ length: options.teacher }, (_, m) =>
        trainNetwork(rows, primaries, listed, V, C, TEACHER_HIDDEN, options.seed + 1000 + m, teacherOptions),
      );
      soft = teacherOutputs(
        concatenate(teachers, V, TEACHER_HIDDEN, C),
        rows,
        TEACHER_HIDDEN * options.teacher,
        C,
        options.distill,
        options.temperature,
      );
      log(`teacher: ${options.teacher} x ${TEACHER_HIDDEN} hidden, outputs ready`);
    }
    const members = Array.from({ length: options.members }, (_, m) =>
      trainNetwork(
        rows,
        primaries,
        listed,
        V,
        C,
        options.hidden,
        options.seed + m,
        options,
        soft,
        paperWeights,
      ),
    );
    const net = concatenate(members, V, options.hidden, C);
    const { scale, weights: termWeights } = quantiseRows(net.termWeights, V, H, options.termBits);
    const [primaryWeights, primaryBias] = centreAcrossClasses(net.primaryWeights, net.primaryBias, H, C) as [
      Float32Array,
      Float32Array,
    ];
    return {
      scale,
      termWeights,
      hiddenBias: Float32Array.from(net.hiddenBias),
      primaryWeights,
      primaryBias,
      listedWeights: Float32Array.from(net.listedWeights),
      listedBias: Float32Array.from(net.listedBias),
    };
  };
  const trained = trainOn(train, trainWeights);

  const parts: ModelParts = {
    name: MODEL_NAME,
    tokenizer: TOKENIZER_VERSION,
    classes,
    terms,
    idf,
    ...trained,
    listedWeight: 0,
    calibration: { slope: 1, intercept: 0 },
    assignThreshold: 0.5,
    topK: TOP_K,
    termBits: options.termBits,
    titleRepeat: options.titleRepeat,
    explain: { maxTerms: 5, minContribution: 0.05, candidates: 24 },
    training: {
      data: sha256Hex([...papers, ...extra].map((p) => p.id).join('\n')).slice(0, 16),
      trainPapers: train.length,
      ...(extra.length
        ? {
            extraPapers: extra.length,
            rebalance:
              options.rebalance > 0
                ? `each paper weighted by (its primary's share of the original training papers / its share of all training papers)^${options.rebalance}, mean 1`
                : 'none',
          }
        : {}),
      vocabulary: V,
      minDf: MIN_DF,
      hidden: H,
      members: options.members,
      seeds: Array.from({ length: options.members }, (_, m) => options.seed + m).join(','),
      epochs: options.epochs,
      averageFrom: options.averageFrom,
      termDropout: TERM_DROPOUT,
      hiddenDropout: HIDDEN_DROPOUT,
      termLearningRate: TERM_LEARNING_RATE,
      headLearningRate: HEAD_LEARNING_RATE,
      optimizer: 'adagrad (term weights), adam (heads)',
      quantisation: `term weights int${options.termBits}, per-term scale; primary head centred across classes`,
      ...(options.select === 'mi'
        ? { vocabularyChoice: 'most informative of the categories (--select mi)' }
        : {}),
      ...(options.teacher > 0
        ? {
            distillation: `targets (1 - ${options.distill}) x labels + ${options.distill} x the outputs (temperature ${options.temperature}) of a teacher ensemble of ${options.teacher} networks of ${TEACHER_HIDDEN} hidden units (seeds ${options.seed + 1000}..${options.seed + 999 + options.teacher}, ${options.teacherEpochs} epochs) trained on the same papers`,
          }
        : {}),
    },
  };

  // Calibrate the model as it will ship (quantised), on papers it was not trained on.
  const encoded = encodeModel(parts);
  const provisional = decodeModel(encoded.header, encoded.weights, encoded.vocab, TOKENIZER_VERSION);
  const withHeader = (patch: Partial<ModelHeader>): ClassifierModel => ({
    ...provisional,
    header: { ...provisional.header, ...patch },
  });
  let bestWeight = { listedWeight: 0, score: -1 };
  for (const listedWeight of [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]) {
    const figures = evaluateRanked(rankPapers(withHeader({ listedWeight }), calibration), 0.5);
    const score = figures.top1IsPrimary + figures.top1InCategories + figures.primaryInTop3;
    log(
      `calibration: listed weight ${listedWeight}: ${percent(figures.top1IsPrimary)} / ${percent(figures.top1InCategories)} / ${percent(figures.primaryInTop3)}`,
    );
    if (score > bestWeight.score) bestWeight = { listedWeight, score };
  }
  parts.listedWeight = options.listedWeight === 'auto' ? bestWeight.listedWeight : options.listedWeight;
  const xs: number[] = [];
  const ys: number[] = [];
  const ranking = withHeader({ listedWeight: parts.listedWeight });
  for (const paper of calibration) {
    const { rank: scores, top } = forward(ranking, featuresOf(ranking, paper.title, paper.abstract), TOP_K);
    const gold = new Set(paper.categories);
    for (const c of top) {
      xs.push(scores[c] as number);
      ys.push(gold.has(classes[c] as string) ? 1 : 0);
    }
  }
  parts.calibration = fitPlatt(xs, ys);
  const calibrationRanked = rankPapers(
    withHeader({ listedWeight: parts.listedWeight, calibration: parts.calibration }),
    calibration,
  );
  let best = { threshold: 0.5, f1: -1 };
  for (let t = 0.05; t <= 0.951; t += 0.01) {
    const threshold = Math.round(t * 100) / 100;
    const { f1 } = assignedCounts(calibrationRanked, threshold);
    if (f1 > best.f1) best = { threshold, f1 };
  }
  parts.assignThreshold = best.threshold;
  log(
    `calibration: listed weight ${parts.listedWeight}, score = sigmoid(${parts.calibration.slope.toFixed(4)} r + ${parts.calibration.intercept.toFixed(4)}), assign at ${best.threshold} (micro-F1 ${best.f1.toFixed(4)} on the calibration split)`,
  );

  const report = (label: string) => {
    if (!options.check) return;
    const encodedNow = encodeModel(parts);
    const m = decodeModel(encodedNow.header, encodedNow.weights, encodedNow.vocab, TOKENIZER_VERSION);
    const at = (papersToRank: Paper[], listedWeight: number) =>
      evaluateRanked(
        rankPapers({ ...m, header: { ...m.header, listedWeight } }, papersToRank),
        parts.assignThreshold,
      );
    const show = (f: ReturnType<typeof at>) =>
      `${percent(f.top1IsPrimary)} / ${percent(f.top1InCategories)} / ${percent(f.primaryInTop3)} F1 ${percent(f.assignedMicroF1)}`;
    for (const w of [0, 0.25, 0.5, 0.75, 1]) {
      const mark = w === parts.listedWeight ? ' *' : '';
      if (label === 'train')
        log(
          `check ${label} (${calibration.length + heldOut.length}): w ${w}: ${show(at([...calibration, ...heldOut], w))}${mark}`,
        );
      log(`check ${label} held-out (${heldOut.length}): w ${w}: ${show(at(heldOut, w))}${mark}`);
    }
  };
  report('train');
  if (options.refit) {
    // The final networks learn from the calibration papers too; the calibration fitted above carries over.
    // The calibration papers are of the original mix: weighted like the original training papers.
    const refitWeights =
      trainWeights &&
      rebalancingWeights(
        [...original, ...calibration],
        [...train, ...calibration],
        classIndex,
        options.rebalance,
      );
    Object.assign(parts, trainOn([...train, ...calibration], refitWeights));
    parts.training.trainPapers = train.length + calibration.length;
    parts.training.calibration =
      'fitted on the networks trained on the training split alone, then the networks retrained on training + calibration with the same seeds';
    report('refit');
  }
  if (options.check) return '';

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

  // The evaluation sample the tests rerun the committed model on: validation papers only.
  const sample = evaluationSample(validation, SAMPLE_PAPERS);
  const metrics: ModelMetrics = ModelMetricsSchema.parse({
    model: model.version,
    split: { train: train.length, calibration: calibration.length, validation: validation.length },
    validation: evaluateModel(model, validation),
    sample: { path: relative(REPO_ROOT, options.sample), figures: evaluateModel(model, sample) },
  });
  if (!options.dryRun) {
    const lines = sample.map((p) =>
      JSON.stringify({
        id: p.id,
        title: p.title,
        abstract: p.abstract,
        categories: p.categories,
        primary: p.categories[0],
      }),
    );
    await mkdir(dirname(options.sample), { recursive: true });
    await writeFile(options.sample, gzipSync(`${lines.join('\n')}\n`, { level: 9 }));
    await writeFile(
      `${options.out.replace(/\/+$/, '')}/${MODEL_FILES.metrics}`,
      `${JSON.stringify(metrics, null, 2)}\n`,
    );
  }
  const v = metrics.validation;
  const bytes = final.weights.byteLength + final.vocab.byteLength + final.header.length;
  return [
    `model ${model.version}: ${V} terms x ${H} hidden x ${C} classes, ${bytes} bytes${options.dryRun ? ' (dry run, not written)' : ` written to ${options.out}`}`,
    `validation (${v.papers} papers):`,
    `  top-1 == primary          ${percent(v.top1IsPrimary)}`,
    `  top-1 in categories       ${percent(v.top1InCategories)}`,
    `  primary in top-3          ${percent(v.primaryInTop3)}`,
    `  assigned-set micro-F1     ${percent(v.assignedMicroF1)} (precision ${percent(v.assignedPrecision)}, recall ${percent(v.assignedRecall)}, ${v.meanAssigned.toFixed(2)} assigned per paper)`,
    `  calibration error (ECE)   ${v.calibrationError.toFixed(4)}`,
    `evaluation sample (${metrics.sample.figures.papers} validation papers${options.dryRun ? '' : `, written to ${metrics.sample.path}`}): ${percent(metrics.sample.figures.top1IsPrimary)} / ${percent(metrics.sample.figures.top1InCategories)} / ${percent(metrics.sample.figures.primaryInTop3)}`,
    `trained in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    '',
  ].join('\n');
}

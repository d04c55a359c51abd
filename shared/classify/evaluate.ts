/**
 * How the classifier is evaluated, shared by the training script (which
 * prints and records the figures) and the tests (which recompute them on the
 * committed evaluation sample): the labelled-paper format, the split by id,
 * the ranking of a model over papers and the figures of issue 3.
 */
import * as z from '../zod';
import { calibratedScore, featuresOf, forward } from './classifier';
import { type ClassifierModel, type ModelMetrics, sha256Hex } from './model-format';
import { canonicalCategory } from './taxonomy';

/** One line of the labelled data (`train.jsonl.gz`) or of the evaluation sample. */
export const LabelledPaperSchema = z.object({
  id: z.string().check(z.minLength(1)),
  title: z.string(),
  abstract: z.string(),
  categories: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  primary: z.string().check(z.minLength(1)),
});

export interface LabelledPaper {
  id: string;
  title: string;
  abstract: string;
  /** Canonical codes, primary first, deduplicated. */
  categories: string[];
}

/** Parses one JSON line of labelled data; `where` names it in errors. */
export function parseLabelledPaper(line: string, where: string): LabelledPaper {
  const row = LabelledPaperSchema.safeParse(JSON.parse(line));
  if (!row.success) throw new Error(`${where}: ${row.error.issues[0]?.message}`);
  const categories = [...new Set([row.data.primary, ...row.data.categories].map(canonicalCategory))];
  return { id: row.data.id, title: row.data.title, abstract: row.data.abstract, categories };
}

export type Split = 'train' | 'calibration' | 'validation';

/** The split a paper belongs to, by SHA-256 of its id: 10% validation, 5% calibration, 85% training. */
export function splitOf(id: string): Split {
  const bucket = Number.parseInt(sha256Hex(`split:${id}`).slice(0, 8), 16) % 100;
  return bucket < 10 ? 'validation' : bucket < 15 ? 'calibration' : 'train';
}

/** One paper's ranked prediction next to its gold categories. */
export interface Ranked {
  gold: Set<string>;
  primary: string;
  /** The top-K codes and their calibrated scores, best first. */
  codes: string[];
  scores: number[];
}

export function rankPapers(model: ClassifierModel, papers: readonly LabelledPaper[]): Ranked[] {
  return papers.map((paper) => {
    const { rank: scores, top } = forward(model, featuresOf(model, paper.title, paper.abstract));
    return {
      gold: new Set(paper.categories),
      primary: paper.categories[0] as string,
      codes: top.map((c) => model.header.classes[c] as string),
      scores: top.map((c) => calibratedScore(model, scores[c] as number)),
    };
  });
}

/** Micro precision, recall and F1 of the assigned sets (the top one, and any scoring at least `threshold`). */
export function assignedCounts(ranked: readonly Ranked[], threshold: number) {
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

export type EvaluationFigures = ModelMetrics['validation'];

/** Issue 3's figures of ranked predictions (and the calibration error of the scores). */
export function evaluateRanked(ranked: readonly Ranked[], threshold: number): EvaluationFigures {
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

/** Evaluates `model` on labelled papers, with its own assignment threshold. */
export function evaluateModel(model: ClassifierModel, papers: readonly LabelledPaper[]): EvaluationFigures {
  return evaluateRanked(rankPapers(model, papers), model.header.assignThreshold);
}

/**
 * The evaluation sample committed with the model for the tests: `size`
 * validation papers, the ones with the smallest SHA-256 of `sample:<id>`.
 * Throws if a paper outside the validation split is passed.
 */
export function evaluationSample(validation: readonly LabelledPaper[], size: number): LabelledPaper[] {
  for (const paper of validation) {
    if (splitOf(paper.id) !== 'validation')
      throw new Error(`paper ${paper.id} is not in the validation split`);
  }
  return validation
    .map((paper) => ({ paper, key: sha256Hex(`sample:${paper.id}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, size)
    .map(({ paper }) => paper)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

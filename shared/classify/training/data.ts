/**
 * The labelled papers a training run reads, and which of them it trains on:
 * the check papers held out of training, the extra papers added to it, and
 * the class weights that keep the extra papers' class mix from taking over.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { type LabelledPaper as Paper, parseLabelledPaper } from '../evaluate';
import { sha256Hex } from '../model-format';
import { log } from './log';

/** Reads a gzipped JSON-lines file of labelled papers; a bad line is an error naming its file and line. */
export async function readPapers(path: string): Promise<Paper[]> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  const papers: Paper[] = [];
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim()) papers.push(parseLabelledPaper(line, `${path}:${lineNumber}`));
  }
  return papers;
}

/** The --check mode's held-out tenth of the training split, by hash of the id. */
export function isCheckPaper(id: string): boolean {
  return Number.parseInt(sha256Hex(`check:${id}`).slice(0, 8), 16) % 10 === 0;
}

/** An extra data file whose id is also in the labelled data would leak into calibration or validation. */
export class OverlappingDataError extends Error {
  override readonly name = 'OverlappingDataError';
}

/**
 * The training papers: `original` (the training split of --data) followed by
 * the `extra` papers. Refuses an extra paper whose id is among `heldOut` (the
 * papers calibration, checks and validation are measured on) or repeats.
 */
export function withExtraPapers(original: Paper[], extra: Paper[], heldOut: readonly Paper[]): Paper[] {
  const seen = new Set([...original, ...heldOut].map((p) => p.id));
  for (const paper of extra) {
    if (seen.has(paper.id))
      throw new OverlappingDataError(`extra paper ${paper.id} is also in the labelled data`);
    seen.add(paper.id);
  }
  return [...original, ...extra];
}

/**
 * Class weights that pull the training mix back towards the original one, so
 * a class the extra papers doubled does not crowd out the classes they barely
 * grew: paper d with primary class c weighs (s_orig(c) / s_all(c))^strength,
 * s the class's share of primaries (add-one smoothed) among the `original`
 * training papers and among all `train` papers; scaled to mean 1 over `train`,
 * so the learning rates keep their meaning. Strength 1 trains, in expectation,
 * on the original class mix; 0 leaves every paper at weight 1. `report` gets one line naming
 * the lightest and the heaviest class weight (default: the training log on stderr).
 */
export function rebalancingWeights(
  original: readonly Paper[],
  train: readonly Paper[],
  classIndex: ReadonlyMap<string, number>,
  strength: number,
  report: (line: string) => void = log,
): Float32Array {
  const C = classIndex.size;
  const primaryOf = (paper: Paper) => classIndex.get(paper.categories[0] as string);
  const count = (papers: readonly Paper[]) => {
    const n = new Float64Array(C).fill(1);
    for (const paper of papers) {
      const c = primaryOf(paper);
      if (c !== undefined) n[c] = (n[c] as number) + 1;
    }
    const total = n.reduce((s, x) => s + x, 0);
    return n.map((x) => x / total);
  };
  const before = count(original);
  const after = count(train);
  const byClass = before.map((share, c) => (share / (after[c] as number)) ** strength);
  const weights = Float32Array.from(train, (paper) => {
    const c = primaryOf(paper);
    return c === undefined ? 1 : (byClass[c] as number);
  });
  const mean = weights.reduce((s, x) => s + x, 0) / weights.length;
  for (let i = 0; i < weights.length; i++) weights[i] = (weights[i] as number) / mean;
  // The lightest and heaviest classes among those that are some training paper's primary.
  const present = [...new Set(train.map(primaryOf))].filter((c) => c !== undefined).sort((x, y) => x - y);
  const ordered = present.sort((x, y) => (byClass[x] as number) - (byClass[y] as number));
  const code = [...classIndex.keys()];
  const describe = (c: number) => `${((byClass[c] as number) / mean).toFixed(3)} (${code[c]})`;
  report(
    `rebalance ${strength}: class weights from ${describe(ordered[0] as number)} to ${describe(ordered[ordered.length - 1] as number)}, mean 1 over the training papers`,
  );
  return weights;
}

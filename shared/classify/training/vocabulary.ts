/** The vocabulary a model is trained on: which terms, and their idf. */
import type { LabelledPaper as Paper } from '../evaluate';
import { paperTerms } from '../tokenize';
import { log } from './log';

/** A term needs this document frequency to enter the vocabulary. */
export const MIN_DF = 3;

/** How the vocabulary is chosen (`--select`). */
export type VocabularyChoice = 'df' | 'mi';

/**
 * How much telling each candidate term is of a paper's categories: its share
 * of the mutual information between "the paper has the term" and the
 * categories, df × KL(P(category | term) ‖ P(category)). Each paper's weight is
 * split evenly over its categories; P(category | term) is smoothed towards the
 * prior with one pseudo-paper, so a term seen three times is not "certain".
 */
export function informativeness(
  train: readonly Paper[],
  docTerms: ReadonlyArray<readonly string[]>,
  candidates: ReadonlyArray<{ term: string; n: number }>,
  classIndex: ReadonlyMap<string, number>,
): Float64Array {
  const C = classIndex.size;
  const row = new Map(candidates.map((c, i) => [c.term, i]));
  const mass = new Float32Array(candidates.length * C);
  const prior = new Float64Array(C);
  train.forEach((paper, d) => {
    const classes = paper.categories.map((code) => classIndex.get(code)).filter((c) => c !== undefined);
    if (!classes.length) return;
    const share = 1 / classes.length;
    for (const c of classes) prior[c] = (prior[c] as number) + share;
    for (const term of docTerms[d] as readonly string[]) {
      const r = row.get(term);
      if (r === undefined) continue;
      for (const c of classes) mass[r * C + c] = (mass[r * C + c] as number) + share;
    }
  });
  const total = prior.reduce((s, x) => s + x, 0);
  for (let c = 0; c < C; c++) prior[c] = (prior[c] as number) / total;
  return Float64Array.from(candidates, ({ n }, r) => {
    let labelled = 0;
    for (let c = 0; c < C; c++) labelled += mass[r * C + c] as number;
    let kl = 0;
    for (let c = 0; c < C; c++) {
      const q = prior[c] as number;
      const p = ((mass[r * C + c] as number) + q) / (labelled + 1);
      if (p > 0 && q > 0) kl += p * Math.log(p / q);
    }
    return n * kl;
  });
}

/**
 * The vocabulary: terms with df ≥ MIN_DF, at most `size`, ranked by `select`:
 * `df`, highest document frequency first; `mi`, most {@link informativeness}
 * first (loose phrases such as "composed three" or "persist even" rank below
 * rarer terms that name a field's objects, such as "mott transition" or
 * "constacyclic codes"). Ties by term, so the choice is deterministic.
 */
export function chooseVocabulary(
  train: Paper[],
  size: number,
  select: VocabularyChoice,
  classIndex: ReadonlyMap<string, number>,
): { terms: string[]; idf: Float32Array } {
  const df = new Map<string, number>();
  const docTerms = train.map((paper) => [...new Set(paperTerms(paper.title, paper.abstract))]);
  for (const terms of docTerms) for (const term of terms) df.set(term, (df.get(term) ?? 0) + 1);
  const candidates = [...df].filter(([, n]) => n >= MIN_DF).map(([term, n]) => ({ term, n }));
  const scores =
    select === 'mi'
      ? informativeness(train, docTerms, candidates, classIndex)
      : Float64Array.from(candidates, ({ n }) => n);
  const order = Array.from(candidates.keys()).sort((a, b) => {
    const x = candidates[a]?.term as string;
    const y = candidates[b]?.term as string;
    return (scores[b] as number) - (scores[a] as number) || (x < y ? -1 : x > y ? 1 : 0);
  });
  const chosen = order.slice(0, size).map((i) => candidates[i] as { term: string; n: number });
  const N = train.length;
  const idf = new Float32Array(chosen.length);
  chosen.forEach(({ n }, i) => {
    idf[i] = Math.log((1 + N) / (1 + n)) + 1;
  });
  log(
    `${df.size} distinct terms, ${candidates.length} with df >= ${MIN_DF}, kept ${chosen.length} by ${select}`,
  );
  return { terms: chosen.map(({ term }) => term), idf };
}

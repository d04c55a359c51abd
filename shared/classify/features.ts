/**
 * A paper's feature vector, shared by training and inference: sublinear tf-idf
 * over the model's vocabulary, L2-normalised, so long and short abstracts weigh
 * alike.
 */
import { tokenize } from './tokenize';

/** Sparse vector: `values[i]` is the weight of vocabulary term `ids[i]`; ids ascending. */
export interface FeatureVector {
  ids: Int32Array;
  values: Float32Array;
}

/**
 * The vocabulary as a lookup from a paper's text to term ids. Gives exactly the
 * ids of `paperTerms(title, abstract)` that are in the vocabulary, without
 * building a string per bigram: a bigram of two known words is found by the
 * pair of their ids (every word of a vocabulary bigram is at least as frequent
 * as the bigram, so it is almost always a term itself); only a bigram with an
 * unknown word is looked up by its text.
 */
export class TermIndex {
  readonly size: number;
  private readonly ids = new Map<string, number>();
  private readonly pairs = new Map<number, number>();

  constructor(terms: readonly string[]) {
    this.size = terms.length;
    terms.forEach((term, id) => {
      this.ids.set(term, id);
    });
    terms.forEach((term, id) => {
      const space = term.indexOf(' ');
      if (space < 0) return;
      const first = this.ids.get(term.slice(0, space));
      const second = this.ids.get(term.slice(space + 1));
      if (first !== undefined && second !== undefined) this.pairs.set(first * this.size + second, id);
    });
  }

  /** The id of one term, or undefined. */
  idOf(term: string): number | undefined {
    return this.ids.get(term);
  }

  /**
   * Vocabulary ids of the title's and the abstract's uni- and bigrams, once per
   * occurrence (no bigram spans the two); the title's are listed `titleRepeat`
   * times, so a title term counts as that many occurrences (titles say more
   * about the topic than most abstract sentences).
   */
  termIds(title: string, abstract: string, titleRepeat = 1): number[] {
    const out: number[] = [];
    this.collect(tokenize(title), out);
    const titleEnd = out.length;
    for (let r = 1; r < titleRepeat; r++) for (let i = 0; i < titleEnd; i++) out.push(out[i] as number);
    this.collect(tokenize(abstract), out);
    return out;
  }

  private collect(tokens: string[], out: number[]): void {
    let previous = -1;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] as string;
      const id = this.ids.get(token) ?? -1;
      if (id >= 0) out.push(id);
      if (i > 0) {
        const bigram =
          previous >= 0 && id >= 0
            ? this.pairs.get(previous * this.size + id)
            : this.ids.get(`${tokens[i - 1]} ${token}`);
        if (bigram !== undefined) out.push(bigram);
      }
      previous = id;
    }
  }
}

/**
 * Maps a paper's term ids (see {@link TermIndex.termIds}) to its feature
 * vector: for each distinct term, `(1 + ln tf) × idf[term]`, then the vector is
 * scaled to unit length. No term gives the empty vector.
 */
export function vectorize(termIds: readonly number[], idf: ArrayLike<number>): FeatureVector {
  const sorted = Int32Array.from(termIds).sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const ids = new Int32Array(distinct);
  const values = new Float32Array(distinct);
  const raw = new Float64Array(distinct);
  let norm = 0;
  let k = -1;
  let tf = 0;
  const flush = () => {
    const value = (1 + Math.log(tf)) * (idf[ids[k] as number] as number);
    raw[k] = value;
    norm += value * value;
  };
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      if (k >= 0) flush();
      k++;
      ids[k] = sorted[i] as number;
      tf = 0;
    }
    tf++;
  }
  if (k >= 0) flush();
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < distinct; i++) values[i] = (raw[i] as number) * scale;
  return { ids, values };
}

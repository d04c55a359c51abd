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

/** A vocabulary that is not one term a line: `line` (1-based) is empty or repeats an earlier one. */
export class VocabularyError extends Error {
  override name = 'VocabularyError';
  constructor(readonly line: number) {
    super(`vocabulary line ${line} is empty or repeated`);
  }
}

/**
 * The vocabulary as a lookup from a paper's text to term ids. Gives exactly the
 * ids of `paperTerms(title, abstract)` that are in the vocabulary, without
 * building a string per bigram: a bigram of two known words is found by the
 * pair of their ids (every word of a vocabulary bigram is at least as frequent
 * as the bigram, so it is almost always a term itself); only a bigram with an
 * unknown word is looked up by its text.
 *
 * The pairs are remembered as they are met, in an open-addressing table of typed arrays,
 * answers that are no bigram included (most pairs of known words are none): building them all
 * up front took a fifth of the model's load, and a Map of them more (a key
 * `first × size + second` passes V8's small-integer range once the vocabulary has more than
 * 32,768 terms). A pair looked up by text gives the same id the table would, so the table
 * only saves time; once half full it stops remembering new pairs.
 */
export class TermIndex {
  readonly size: number;
  private readonly ids = new Map<string, number>();
  /** Slot → the pair's bigram id + 2 (1: no bigram; 0: empty slot), keyed by its words' ids. */
  private readonly pairSlots: Int32Array;
  private readonly pairFirst: Int32Array;
  private readonly pairSecond: Int32Array;
  private pairsRemembered = 0;

  /** @throws VocabularyError when a term is empty or repeated. */
  constructor(readonly terms: readonly string[]) {
    const size = terms.length;
    this.size = size;
    const ids = this.ids;
    for (let id = 0; id < size; id++) {
      const term = terms[id] as string;
      ids.set(term, id);
      // A repeat leaves the map's size behind the ids; the empty string is no term.
      if (ids.size !== id + 1 || term === '') throw new VocabularyError(id + 1);
    }
    let slotCount = 1024;
    while (slotCount < 4 * size) slotCount *= 2;
    this.pairSlots = new Int32Array(slotCount);
    this.pairFirst = new Int32Array(slotCount);
    this.pairSecond = new Int32Array(slotCount);
  }

  /** The text of term `id`. */
  term(id: number): string {
    return this.terms[id] as string;
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
            ? this.pairId(previous, id, tokens[i - 1] as string, token)
            : (this.ids.get(`${tokens[i - 1]} ${token}`) ?? -1);
        if (bigram >= 0) out.push(bigram);
      }
      previous = id;
    }
  }

  /** The bigram `firstText secondText` of the terms `first` and `second`, or -1. */
  private pairId(first: number, second: number, firstText: string, secondText: string): number {
    const mask = this.pairSlots.length - 1;
    let slot = pairHash(first, second) & mask;
    for (let entry = this.pairSlots[slot] as number; entry !== 0; entry = this.pairSlots[slot] as number) {
      if (this.pairFirst[slot] === first && this.pairSecond[slot] === second) return entry - 2;
      slot = (slot + 1) & mask;
    }
    const bigram = this.ids.get(`${firstText} ${secondText}`) ?? -1;
    if (2 * this.pairsRemembered < this.pairSlots.length) {
      this.pairSlots[slot] = bigram + 2;
      this.pairFirst[slot] = first;
      this.pairSecond[slot] = second;
      this.pairsRemembered++;
    }
    return bigram;
  }
}

/** Mixes two term ids into a table slot's hash (the table masks its low bits). */
function pairHash(first: number, second: number): number {
  const mixed = Math.imul(first, 0x9e3779b1) ^ second;
  return Math.imul(mixed ^ (mixed >>> 15), 0x85ebca6b) ^ (mixed >>> 13);
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

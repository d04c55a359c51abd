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
 * The pairs sit in an open-addressing table of typed arrays rather than a Map: a key
 * `first × size + second` passes V8's small-integer range (2³⁰) once the vocabulary
 * has more than 32,768 terms, and a Map of 20,000 such keys took most of the index's build.
 */
export class TermIndex {
  readonly size: number;
  private readonly ids = new Map<string, number>();
  /** Slot → bigram id + 1 (0: empty), keyed by its words' ids, kept beside it. */
  private readonly pairSlots: Int32Array;
  private readonly pairFirst: Int32Array;
  private readonly pairSecond: Int32Array;

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
    let slotCount = 16;
    while (slotCount < 2 * size) slotCount *= 2;
    const mask = slotCount - 1;
    const slots = new Int32Array(slotCount);
    const firsts = new Int32Array(slotCount);
    const seconds = new Int32Array(slotCount);
    for (let id = 0; id < size; id++) {
      const term = terms[id] as string;
      const space = term.indexOf(' ');
      if (space < 0) continue;
      const first = ids.get(term.slice(0, space));
      if (first === undefined) continue;
      const second = ids.get(term.slice(space + 1));
      if (second === undefined) continue;
      let slot = pairHash(first, second) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
      firsts[slot] = first;
      seconds[slot] = second;
    }
    this.pairSlots = slots;
    this.pairFirst = firsts;
    this.pairSecond = seconds;
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
            ? this.pairId(previous, id)
            : (this.ids.get(`${tokens[i - 1]} ${token}`) ?? -1);
        if (bigram >= 0) out.push(bigram);
      }
      previous = id;
    }
  }

  /** The bigram of the terms `first` and `second`, or -1. */
  private pairId(first: number, second: number): number {
    const mask = this.pairSlots.length - 1;
    for (let slot = pairHash(first, second) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.pairSlots[slot] as number;
      if (entry === 0) return -1;
      if (this.pairFirst[slot] === first && this.pairSecond[slot] === second) return entry - 1;
    }
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

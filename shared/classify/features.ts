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
 * The lines of a vocabulary file's text (one term a line, `\n`-separated; a last empty line,
 * what a trailing newline leaves, is no term): `starts[i]` is where line `i` begins and
 * `starts[i + 1] - 1` where it ends, for `count` lines.
 */
export interface VocabularyLines {
  readonly text: string;
  readonly starts: Int32Array;
  readonly count: number;
  /**
   * Each term's hash ({@link hashOfRange}), when a model file stores them ({@link termTable}):
   * hashing the 440 KB of a vocabulary in a cold process was a third of the model's load.
   */
  readonly hashes?: Int32Array;
}

/**
 * The terms as one text, `terms.join('\n')`, with where each starts in it (term `id` ends before
 * `starts[id + 1] - 1`, see {@link VocabularyLines}) and its hash: the starts and hashes are what a
 * model file stores of its vocabulary, so a load reads the table instead of computing it.
 */
export function termTable(terms: readonly string[]): {
  text: string;
  starts: Int32Array;
  hashes: Int32Array;
} {
  // Placed by their lengths, not split at newlines, so any string is one term.
  const starts = new Int32Array(terms.length + 1);
  for (let id = 0; id < terms.length; id++)
    starts[id + 1] = (starts[id] as number) + (terms[id] as string).length + 1;
  const text = terms.join('\n');
  const hashes = new Int32Array(terms.length);
  for (let id = 0; id < terms.length; id++)
    hashes[id] = hashOfRange(text, starts[id] as number, (starts[id + 1] as number) - 1);
  return { text, starts, hashes };
}

/** Finds the lines of a vocabulary's text (see {@link VocabularyLines}) without a string per line. */
export function vocabularyLines(text: string): VocabularyLines {
  const starts: number[] = [0];
  for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', end + 1)) starts.push(end + 1);
  // The text after the last newline is a line unless it is empty.
  if ((starts.at(-1) as number) < text.length) starts.push(text.length + 1);
  return { text, starts: Int32Array.from(starts), count: starts.length - 1 };
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const SPACE = 0x20;

/**
 * The vocabulary as a lookup from a paper's text to term ids. Gives exactly the
 * ids of `paperTerms(title, abstract)` that are in the vocabulary, without
 * building a string per bigram: a bigram of two known words is found by the
 * pair of their ids (every word of a vocabulary bigram is at least as frequent
 * as the bigram, so it is almost always a term itself); only a bigram with an
 * unknown word is looked up by its text, its two words hashed and compared in place.
 *
 * The terms stay in the one string of the vocabulary's text, each a range of it, found through an
 * open-addressing table of typed arrays keyed by an FNV-1a hash of its UTF-16 code units: a Map
 * of 33,000 terms, and the string per line it needs, took half the model's load to build (the
 * strings scattered over the heap, the Map rehashed as it grew); the table reads the text once,
 * in order. A model file stores each term's hash and start ({@link termTable}), so a load builds
 * only the table of slots (the duplicate check) from them.
 *
 * The pairs are remembered as they are met, in a second such table, answers that are no bigram
 * included (most pairs of known words are none): building them all up front took a fifth of the
 * model's load. A pair looked up by text gives the same id the table would, so the table only
 * saves time; once half full it stops remembering new pairs.
 */
export class TermIndex {
  readonly size: number;
  private readonly text: string;
  /** Term `id` is `text` from `starts[id]` to `starts[id + 1] - 1` (the separator's place). */
  private readonly starts: Int32Array;
  /** Each term's hash, so most slots are passed over without comparing text. */
  private readonly hashes: Int32Array;
  /** Slot → term id + 1 (0: empty slot). */
  private readonly slots: Int32Array;
  private termList: readonly string[] | undefined;
  /** Slot → the pair's bigram id + 2 (1: no bigram; 0: empty slot), keyed by its words' ids. */
  private readonly pairSlots: Int32Array;
  private readonly pairFirst: Int32Array;
  private readonly pairSecond: Int32Array;
  private pairsRemembered = 0;

  /** @throws VocabularyError when a term is empty or repeated. */
  constructor(terms: readonly string[]);
  /** The terms of a vocabulary file's lines. @throws VocabularyError when a line is empty or repeated. */
  constructor(lines: VocabularyLines);
  constructor(source: readonly string[] | VocabularyLines) {
    let lines: VocabularyLines;
    if (Array.isArray(source)) {
      const terms = source as readonly string[];
      lines = { ...termTable(terms), count: terms.length };
      this.termList = terms;
    } else lines = source as VocabularyLines;
    const { text, starts, count: size, hashes } = lines;
    this.size = size;
    this.text = text;
    this.starts = starts;
    this.hashes = hashes ?? new Int32Array(size);
    const hashed = hashes !== undefined;
    let slotCount = 1024;
    while (slotCount < 2 * size) slotCount *= 2;
    this.slots = new Int32Array(slotCount);
    for (let id = 0; id < size; id++) {
      const start = starts[id] as number;
      const end = (starts[id + 1] as number) - 1;
      // The empty string is no term.
      if (end <= start || !this.insert(id, start, end, hashed)) throw new VocabularyError(id + 1);
    }
    slotCount = 1024;
    while (slotCount < 4 * size) slotCount *= 2;
    this.pairSlots = new Int32Array(slotCount);
    this.pairFirst = new Int32Array(slotCount);
    this.pairSecond = new Int32Array(slotCount);
  }

  /** id → term, every term (built when first asked: inference reads single terms, {@link term}). */
  get terms(): readonly string[] {
    this.termList ??= Array.from({ length: this.size }, (_, id) => this.term(id));
    return this.termList;
  }

  /** The text of term `id`. */
  term(id: number): string {
    return this.text.slice(this.starts[id] as number, (this.starts[id + 1] as number) - 1);
  }

  /** The id of one term, or undefined. */
  idOf(term: string): number | undefined {
    const id = this.find(term, undefined);
    return id >= 0 ? id : undefined;
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
      const id = this.find(token, undefined);
      if (id >= 0) out.push(id);
      if (i > 0) {
        const bigram =
          previous >= 0 && id >= 0
            ? this.pairId(previous, id, tokens[i - 1] as string, token)
            : this.find(tokens[i - 1] as string, token);
        if (bigram >= 0) out.push(bigram);
      }
      previous = id;
    }
  }

  /** The id of the term `first`, or of `first second` (one space between) when `second` is given; -1 if none. */
  private find(first: string, second: string | undefined): number {
    let hash = FNV_OFFSET;
    for (let i = 0; i < first.length; i++) hash = Math.imul(hash ^ first.charCodeAt(i), FNV_PRIME);
    let length = first.length;
    if (second !== undefined) {
      hash = Math.imul(hash ^ SPACE, FNV_PRIME);
      for (let i = 0; i < second.length; i++) hash = Math.imul(hash ^ second.charCodeAt(i), FNV_PRIME);
      length += 1 + second.length;
    }
    const mask = this.slots.length - 1;
    const text = this.text;
    for (let slot = slotOf(hash) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      const id = entry - 1;
      if (this.hashes[id] !== hash) continue;
      const start = this.starts[id] as number;
      if ((this.starts[id + 1] as number) - 1 - start !== length) continue;
      let i = 0;
      while (i < first.length && text.charCodeAt(start + i) === first.charCodeAt(i)) i++;
      if (i < first.length) continue;
      if (second === undefined) return id;
      if (text.charCodeAt(start + i) !== SPACE) continue;
      const at = start + i + 1;
      let j = 0;
      while (j < second.length && text.charCodeAt(at + j) === second.charCodeAt(j)) j++;
      if (j === second.length) return id;
    }
  }

  /**
   * Adds term `id`, the text from `start` to `end`, to the table; false when an earlier term is
   * the same text. (A function of its own, like {@link hashOfRange}: small functions called once a
   * term are compiled early in a cold process, where one loop over the whole vocabulary ran
   * unoptimised for most of it.)
   */
  private insert(id: number, start: number, end: number, hashed: boolean): boolean {
    if (!hashed) this.hashes[id] = hashOfRange(this.text, start, end);
    const hash = this.hashes[id] as number;
    const mask = this.slots.length - 1;
    let slot = slotOf(hash) & mask;
    for (let entry = this.slots[slot] as number; entry !== 0; entry = this.slots[slot] as number) {
      if (this.hashes[entry - 1] === hash && this.sameText(entry - 1, start, end)) return false;
      slot = (slot + 1) & mask;
    }
    this.slots[slot] = id + 1;
    return true;
  }

  /** Whether term `id` is the text from `start` to `end`. */
  private sameText(id: number, start: number, end: number): boolean {
    const other = this.starts[id] as number;
    if ((this.starts[id + 1] as number) - 1 - other !== end - start) return false;
    for (let i = 0; i < end - start; i++) {
      if (this.text.charCodeAt(other + i) !== this.text.charCodeAt(start + i)) return false;
    }
    return true;
  }

  /** The bigram `firstText secondText` of the terms `first` and `second`, or -1. */
  private pairId(first: number, second: number, firstText: string, secondText: string): number {
    const mask = this.pairSlots.length - 1;
    let slot = pairHash(first, second) & mask;
    for (let entry = this.pairSlots[slot] as number; entry !== 0; entry = this.pairSlots[slot] as number) {
      if (this.pairFirst[slot] === first && this.pairSecond[slot] === second) return entry - 2;
      slot = (slot + 1) & mask;
    }
    const bigram = this.find(firstText, secondText);
    if (2 * this.pairsRemembered < this.pairSlots.length) {
      this.pairSlots[slot] = bigram + 2;
      this.pairFirst[slot] = first;
      this.pairSecond[slot] = second;
      this.pairsRemembered++;
    }
    return bigram;
  }
}

/** FNV-1a over the UTF-16 code units of `text` from `start` to `end`: what {@link TermIndex} hashes a term by. */
function hashOfRange(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash;
}

/** Spreads an FNV-1a hash's high bits into the low ones the table masks. */
function slotOf(hash: number): number {
  return hash ^ (hash >>> 15);
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

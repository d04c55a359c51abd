import { createHash } from 'node:crypto';
import { stemmer } from 'stemmer';
import { tokenize } from '../classify/tokenize';

/**
 * The words of keyword search: one function turns a paper's text and a query
 * into the same terms, so what is indexed and what is asked for always agree.
 *
 * A term is a token of the classifier's tokenizer (NFKC, lower case, letters and
 * digits, stop words dropped) reduced by Porter's stemmer (npm `stemmer`): a
 * user who types `diffusion` finds `Diffusion`, and `transformers` finds
 * `transformer`. Changing anything here changes every posting: bump
 * {@link SEARCH_TERMS_VERSION}, which is part of each listing's text hash, so a
 * re-fetch re-indexes what was indexed with the old rules.
 */

export const SEARCH_TERMS_VERSION = 'porter-v1';

/** DynamoDB keys hold at most 1 KB (2 KB for a partition key); a word longer than this is noise, not a term. */
const MAX_TERM_LENGTH = 64;

/**
 * Stems that nearly every abstract holds (the boilerplate of papers, and the pieces of the URLs they
 * cite): nobody searches for them, BM25 gives them almost no weight, and each would cost a posting
 * per paper. Not searched either, so a query and the index still agree.
 */
const BOILERPLATE_STEMS: ReadonlySet<string> = new Set(
  `http https www com github io org html pdf abs introduc across us propos achiev show exist requir address
  experi result find consist outperform demonstr present furthermor moreov novel paper`
    .split(/\s+/)
    .filter(Boolean),
);

/** The search terms of a text, in text order, repeats kept (their count is the term frequency). */
export function searchTerms(text: string): string[] {
  const terms: string[] = [];
  for (const token of tokenize(text)) {
    if (token.length > MAX_TERM_LENGTH) continue;
    const term = stemmer(token);
    if (!BOILERPLATE_STEMS.has(term)) terms.push(term);
  }
  return terms;
}

/**
 * How much an occurrence counts in each field (a BM25F-style weighting): a word of the title says
 * more about a paper than one of its abstract, and an author's name is asked for by itself.
 */
export const FIELD_WEIGHTS = { title: 3, abstract: 1, authors: 2 } as const;

export interface SearchableText {
  title: string;
  abstract: string;
  authors?: readonly string[];
}

/** One document as the index sees it: weighted frequencies of its distinct terms, and its weighted length. */
export interface IndexedDocument {
  /** term → weighted frequency (title ×3, authors ×2, abstract ×1). */
  terms: Map<string, number>;
  /** The weighted count of all its terms: BM25's document length. */
  length: number;
  /** Changes whenever the text or the term rules do; a posting carries the hash of the text it came from. */
  hash: string;
}

export function indexedDocument(text: SearchableText): IndexedDocument {
  const terms = new Map<string, number>();
  let length = 0;
  const add = (words: readonly string[], weight: number) => {
    for (const term of words) {
      terms.set(term, (terms.get(term) ?? 0) + weight);
      length += weight;
    }
  };
  add(searchTerms(text.title), FIELD_WEIGHTS.title);
  add(searchTerms(text.abstract), FIELD_WEIGHTS.abstract);
  add(searchTerms((text.authors ?? []).join(' ')), FIELD_WEIGHTS.authors);
  return { terms, length, hash: textHash(text) };
}

/** A short digest of the searchable text and the term rules. */
export function textHash(text: SearchableText): string {
  return createHash('sha256')
    .update(JSON.stringify([SEARCH_TERMS_VERSION, text.title, text.abstract, text.authors ?? []]))
    .digest('hex')
    .slice(0, 16);
}

/** The most words one query may hold: each is one postings range read. */
export const MAX_QUERY_TERMS = 8;

/** The distinct terms of a query, in the order typed. */
export function queryTerms(query: string): string[] {
  return [...new Set(searchTerms(query))];
}

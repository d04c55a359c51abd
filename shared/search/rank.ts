import type { IsoDate } from '../paper';

/**
 * BM25 over the postings a search read: pure, so its order is tested without a table.
 *
 * A posting is one term of one listing (a paper on a day). A paper listed on several days has a
 * posting per day; it is ranked once, by its best listing, with every matching day kept.
 */

/** One term of one listing, as the store reads it from the listing's postings item of the term's bucket (`TERM#<k>#<b>`). */
export interface Posting {
  day: IsoDate;
  id: string;
  /** The term's weighted frequency in the listing's text. */
  tf: number;
  /** The listing's weighted length. */
  length: number;
  /** The hash of the text the posting was made from; a read checks it against the listing's text. */
  hash: string;
}

export interface Candidate {
  id: string;
  /** How many of the query's terms the paper holds: papers with all of them come first. */
  matched: number;
  score: number;
  /** Its listings that matched, latest day first, each with the hash its postings carry. */
  listings: { day: IsoDate; hash: string }[];
}

/** BM25's usual constants: term-frequency saturation and length normalisation. */
const K1 = 1.2;
const B = 0.75;

/**
 * Ranks the papers the postings name: most query terms matched first, then by BM25 score, then by
 * id (the caller breaks score ties by upvotes once it has read them).
 * @param postingsByTerm one array per query term, each the postings read for it.
 * @param corpusSize listings in the range searched (BM25's N); at least the largest document frequency.
 */
export function rankCandidates(
  postingsByTerm: readonly (readonly Posting[])[],
  corpusSize: number,
): Candidate[] {
  let totalLength = 0;
  const lengths = new Map<string, number>();
  for (const postings of postingsByTerm) {
    for (const posting of postings) {
      const key = `${posting.day}#${posting.id}`;
      if (!lengths.has(key)) {
        lengths.set(key, posting.length);
        totalLength += posting.length;
      }
    }
  }
  // The mean length of the documents matched stands in for the corpus's: no statistics item has to
  // be kept up to date at write time, and only the relative order of the scores matters.
  const averageLength = lengths.size > 0 ? totalLength / lengths.size : 1;
  const papers = new Map<string, { termScores: number[]; listings: Map<IsoDate, string> }>();
  postingsByTerm.forEach((postings, termIndex) => {
    const df = new Set(postings.map((posting) => `${posting.day}#${posting.id}`)).size;
    const n = Math.max(corpusSize, df);
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    for (const posting of postings) {
      const norm = posting.tf + K1 * (1 - B + (B * posting.length) / averageLength);
      const score = (idf * posting.tf * (K1 + 1)) / norm;
      let paper = papers.get(posting.id);
      if (!paper) {
        paper = { termScores: new Array(postingsByTerm.length).fill(0), listings: new Map() };
        papers.set(posting.id, paper);
      }
      // A paper's listings usually share one text: it counts once per term, by its best listing.
      paper.termScores[termIndex] = Math.max(paper.termScores[termIndex] ?? 0, score);
      paper.listings.set(posting.day, posting.hash);
    }
  });
  const candidates: Candidate[] = [...papers].map(([id, paper]) => ({
    id,
    matched: paper.termScores.filter((score) => score > 0).length,
    score: paper.termScores.reduce((sum, score) => sum + score, 0),
    listings: [...paper.listings]
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .map(([day, hash]) => ({ day, hash })),
  }));
  return candidates.sort(compareCandidates);
}

export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.matched !== b.matched) return b.matched - a.matched;
  if (!tied(a, b)) return b.score - a.score;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether two candidates are tied before upvotes break the tie (scores equal but for rounding). */
export function tied(a: Candidate, b: Candidate): boolean {
  return a.matched === b.matched && Math.abs(a.score - b.score) < 1e-9;
}

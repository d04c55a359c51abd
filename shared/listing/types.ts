import type { IsoDate, ListingFormat, Paper } from '../paper';

/**
 * The contract between the listing parsers and the pipeline.
 *
 * A listing is parsed in two steps so the pipeline can fan out between them:
 * `splitListing` (in fetch-listing) checks the listing as a whole and cuts it
 * into raw items, each small enough and JSON-serialisable for one queue message;
 * `normalizeItem` (in parse-paper) turns one raw item into a validated {@link Paper}.
 * `parseListing` runs both in one process (the CLI, the benchmarks).
 */

/** What is known about a listing besides its bytes. */
export interface ListingContext {
  /** Where the bytes came from (a URL or a file path); helps format detection and links. */
  url?: string;
  /** The listing day the listing was fetched for, when one was asked for. */
  listedOn?: IsoDate;
  /** When the bytes were fetched (ISO 8601 timestamp); anchors dates without a year. */
  fetchedAt?: string;
}

/**
 * One paper's raw material, cut from a listing, plus what the listing as a whole
 * says about it (for instance the listing day of a text page). JSON-serialisable.
 */
export interface ListingItem {
  format: ListingFormat;
  /** Position in the listing, from 0; names the item in problem reports. */
  index: number;
  /** Format-specific raw data: an API item object, an Atom entry's fields, a text block's lines. */
  raw: unknown;
  /** The listing day the whole listing stands for, when it gives or implies one. */
  listedOn?: IsoDate;
}

export interface SplitListing {
  format: ListingFormat;
  items: ListingItem[];
  /** Listing-level facts worth reporting (e.g. the page's own listing day). */
  listedOn?: IsoDate;
}

/** One item that could not become a paper; the other items still come through. */
export interface ListingProblem {
  index: number;
  message: string;
}

export interface ParsedListing {
  format: ListingFormat;
  papers: Paper[];
  problems: ListingProblem[];
}

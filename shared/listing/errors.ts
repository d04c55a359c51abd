import type { ListingFormat } from '../paper';
import type * as z from '../zod';

/**
 * The listing as a whole cannot be parsed: not a known format, malformed JSON,
 * XML or HTML, or not the shape its format promises. The raw bytes are still
 * worth archiving; no paper can be taken from them.
 */
export class ListingParseError extends Error {
  override readonly name = 'ListingParseError';
  /** The format that was tried, or `'unknown'` when none was recognised. */
  readonly format: ListingFormat | 'unknown';

  constructor(format: ListingFormat | 'unknown', detail: string, options?: { cause?: unknown }) {
    super(`${format}: ${detail}`, options);
    this.format = format;
  }
}

/**
 * One item of a listing cannot become a paper (wrong types, no title, an
 * unreadable date line). The other items of the listing are unaffected.
 */
export class PaperParseError extends Error {
  override readonly name = 'PaperParseError';
  readonly format: ListingFormat;
  /** The item's position in its listing, from 0. */
  readonly index: number;
  /** What is wrong, without the format and index prefix of `message`. */
  readonly detail: string;

  constructor(format: ListingFormat, index: number, detail: string, options?: { cause?: unknown }) {
    super(`${format} item ${index}: ${detail}`, options);
    this.format = format;
    this.index = index;
    this.detail = detail;
  }
}

/** One line per zod issue, `path: message`, for error messages a person can act on. */
export function describeZodIssues(error: z.core.$ZodError, maxIssues = 3): string {
  const lines = error.issues.slice(0, maxIssues).map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(item)';
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length - lines.length;
  return more > 0 ? `${lines.join('; ')}; and ${more} more` : lines.join('; ');
}

/**
 * Says where a `JSON.parse` failure happened, as a byte offset into the UTF-8
 * text (V8 reports UTF-16 positions, or none at all for a premature end).
 */
export function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : /unexpected end/i.test(message) ? text.length : undefined;
  if (position !== undefined && position >= text.trimEnd().length) {
    return `unexpected end of JSON at byte ${utf8Length(text)}`;
  }
  // Without a position V8 quotes the text around the error instead: keep it, it says where.
  const reason = message.replace(/\s*in JSON at position \d+.*$/s, '');
  if (position === undefined) return `invalid JSON: ${reason}`;
  return `invalid JSON at byte ${utf8Length(text.slice(0, position))}: ${reason}`;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

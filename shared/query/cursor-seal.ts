import { createCipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Page, PaperReader } from '../store/paper-store';
import { InvalidCursorError } from '../store/paper-store';

/**
 * The query API's cursors, sealed: the store's own cursor (table keys as base64 JSON) goes out
 * encrypted and authenticated, so clients can neither read it nor alter it. The construction is a
 * synthetic-IV one (deterministic authenticated encryption): the tag is an HMAC-SHA256 of the
 * store's cursor, the ciphertext is AES-256-CTR with the tag as its counter block. The same page
 * always gets the same cursor (so a response's ETag does not change between two identical
 * requests), and any change to a sealed cursor fails the HMAC before the store sees it.
 *
 * The key is derived (HKDF-SHA256) from one secret: on AWS a Secrets Manager secret the stack
 * generates, locally a key generated into the data folder (`local/cursor-key.ts`).
 */

const TAG_BYTES = 16;
/** The store's cursor was canonical base64url: its bytes are sealed (a shorter cursor). */
const FORMAT_BYTES = 1;
/** The store's cursor was any other text: its UTF-8 is sealed. */
const FORMAT_TEXT = 2;

export interface CursorSeal {
  /** The client's cursor for the store's `inner` cursor. */
  seal(inner: string): string;
  /**
   * The store's cursor inside a client's cursor.
   * @throws InvalidCursorError when the cursor was altered, forged or sealed under another key.
   */
  open(sealed: string): string;
}

/** A seal keyed by `secret` (at least 32 characters). */
export function cursorSeal(secret: string): CursorSeal {
  if (secret.length < 32) throw new Error('the cursor key must be at least 32 characters');
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', secret, 'daily-papers-query', `cursor ${purpose}`, 32));
  const macKey = derive('mac');
  const encryptionKey = derive('encryption');
  const tagOf = (format: number, plaintext: Buffer) =>
    createHmac('sha256', macKey).update(Buffer.of(format)).update(plaintext).digest().subarray(0, TAG_BYTES);
  // CTR is its own inverse: the same call encrypts and decrypts.
  const ctr = (tag: Buffer, data: Buffer) => {
    const cipher = createCipheriv('aes-256-ctr', encryptionKey, tag);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  };
  return {
    seal(inner) {
      const bytes = Buffer.from(inner, 'base64url');
      const format = bytes.toString('base64url') === inner ? FORMAT_BYTES : FORMAT_TEXT;
      const plaintext = format === FORMAT_BYTES ? bytes : Buffer.from(inner, 'utf8');
      const tag = tagOf(format, plaintext);
      return Buffer.concat([Buffer.of(format), tag, ctr(tag, plaintext)]).toString('base64url');
    },
    open(sealed) {
      const bytes = Buffer.from(sealed, 'base64url');
      const format = bytes[0];
      if (bytes.length <= 1 + TAG_BYTES || (format !== FORMAT_BYTES && format !== FORMAT_TEXT)) {
        throw new InvalidCursorError(NOT_ISSUED);
      }
      const tag = bytes.subarray(1, 1 + TAG_BYTES);
      const plaintext = ctr(tag, bytes.subarray(1 + TAG_BYTES));
      if (!timingSafeEqual(tagOf(format, plaintext), tag)) throw new InvalidCursorError(NOT_ISSUED);
      return format === FORMAT_BYTES ? plaintext.toString('base64url') : plaintext.toString('utf8');
    },
  };
}

const NOT_ISSUED =
  'cursor was altered or was not issued by this API (pass back the cursor of the previous page unchanged)';

/**
 * `reader` with sealed cursors: each page's cursor is sealed on the way out, and a client's cursor
 * opened on the way in (an altered one is an {@link InvalidCursorError}, which the query API
 * answers with a 400 naming `cursor`, after routing and parameter checks, as for any bad cursor).
 */
export function withSealedCursors(reader: PaperReader, seal: CursorSeal): PaperReader {
  const opened = <P extends { cursor?: string }>(page: P): P =>
    page.cursor === undefined ? page : { ...page, cursor: seal.open(page.cursor) };
  const sealed = <T>(page: Page<T>): Page<T> =>
    page.cursor === undefined ? page : { ...page, cursor: seal.seal(page.cursor) };
  return {
    papersListedOn: async (day, page, order) => sealed(await reader.papersListedOn(day, opened(page), order)),
    papersInCategory: async (code, from, to, page, options) =>
      sealed(await reader.papersInCategory(code, from, to, opened(page), options)),
    paperById: (id) => reader.paperById(id),
    ingestedDays: async (page) => sealed(await reader.ingestedDays(opened(page))),
    searchPapers: async (request) => sealed(await reader.searchPapers(opened(request))),
    papersInRange: async (request) => sealed(await reader.papersInRange(opened(request))),
    categoryCounts: (from, to) => reader.categoryCounts(from, to),
    ingestedDay: (day) => reader.ingestedDay(day),
    qualityListingsOn: (day) => reader.qualityListingsOn(day),
  };
}

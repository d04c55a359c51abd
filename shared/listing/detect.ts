import type { ListingFormat } from '../paper';
import { ListingParseError } from './errors';
import { looksLikeHfText } from './hf-text';
import type { ListingContext } from './types';

/**
 * Names the format of a listing from its first characters, the way a person
 * would: a JSON array is the HF API, `<feed>` is Atom, `<rss>` is RSS, an HTML
 * page is the HF papers page, text with the "Daily Papers" heading or `·`
 * separators is the text rendering. The URL only breaks ties (a JSON object
 * from the HF API is still reported as a failed hf-api listing).
 * @throws ListingParseError (format `'unknown'`) when the text matches no format.
 */
export function detectFormat(text: string, context: ListingContext = {}): ListingFormat {
  const start = text.search(/\S/);
  if (start < 0) throw new ListingParseError('unknown', 'the listing is empty (no bytes but whitespace)');
  const first = text[start];
  if (first === '[') return 'hf-api';
  if (first === '{') {
    if (context.url && /huggingface\.co\/api\//.test(context.url)) return 'hf-api';
    throw new ListingParseError('unknown', 'a JSON object, not a listing (the HF API returns an array)');
  }
  if (first === '<') {
    const head = text.slice(start, start + 4096);
    const root = rootElementName(head);
    if (root === 'feed') return 'arxiv-atom';
    if (root === 'rss') return 'arxiv-rss';
    if (root === 'html' || /data-target\s*=\s*["']DailyPapers/.test(text)) return 'hf-html';
    throw new ListingParseError(
      'unknown',
      `markup with root element <${root ?? '?'}> is not a known listing`,
    );
  }
  if (looksLikeHfText(text)) return 'hf-text';
  throw new ListingParseError(
    'unknown',
    `not a known listing format (starts with ${JSON.stringify(text.slice(start, start + 40))})`,
  );
}

/** The first element's name, past the XML declaration, doctype, comments and processing instructions. */
function rootElementName(head: string): string | undefined {
  let pos = 0;
  for (;;) {
    pos = head.indexOf('<', pos);
    if (pos < 0) return undefined;
    if (head.startsWith('<?', pos)) {
      pos = head.indexOf('?>', pos);
    } else if (head.startsWith('<!--', pos)) {
      pos = head.indexOf('-->', pos);
    } else if (/^<!doctype\s/i.test(head.slice(pos, pos + 10))) {
      return /^<!doctype\s+([\w:.-]+)/i.exec(head.slice(pos, pos + 100))?.[1]?.toLowerCase();
    } else {
      return /^<([A-Za-z][\w:.-]*)/.exec(head.slice(pos, pos + 100))?.[1]?.toLowerCase();
    }
    if (pos < 0) return undefined;
  }
}

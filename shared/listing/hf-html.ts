import * as z from '../zod';
import { isoDayOf } from './dates';
import { describeJsonError, describeZodIssues, ListingParseError } from './errors';
import type { SplitListing } from './types';

/**
 * The Hugging Face papers page (`huggingface.co/papers/date/YYYY-MM-DD`). The
 * server renders a Svelte hydration element,
 * `<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="…">`,
 * whose HTML-escaped `data-props` JSON holds `{ dailyPapers: [API items], dateString, ... }`.
 * The items have the API's shape and are normalised by `normalizeHfItem`.
 */

const DAILY_PAPERS_TARGET = /\sdata-target\s*=\s*(["'])DailyPapers\1/;

/** The page's props, as far as the parser reads them; `dailyPapers` elements are checked per item later. */
export const DailyPapersPropsSchema = z.object({
  dailyPapers: z.array(z.unknown()),
  dateString: z.nullish(z.string()),
});

/**
 * Finds the `DailyPapers` element, decodes its props and cuts `dailyPapers` into items.
 * The listing day is `dateString` when it is a `YYYY-MM-DD` day.
 * @throws ListingParseError when the element, its `data-props` or the props' shape is missing or malformed.
 */
export function splitHfHtml(html: string): SplitListing {
  const attributes = dailyPapersAttributes(html);
  const encoded = attributes.get('data-props');
  if (encoded === undefined) {
    throw new ListingParseError('hf-html', 'the DailyPapers element has no data-props attribute');
  }
  const json = decodeHtmlEntities(encoded);
  let props: unknown;
  try {
    props = JSON.parse(json);
  } catch (error) {
    throw new ListingParseError('hf-html', `data-props: ${describeJsonError(json, error)}`, { cause: error });
  }
  const result = DailyPapersPropsSchema.safeParse(props);
  if (!result.success) {
    throw new ListingParseError('hf-html', `data-props: ${describeZodIssues(result.error)}`, {
      cause: result.error,
    });
  }
  const listedOn = result.data.dateString ? isoDayOf(result.data.dateString) : undefined;
  const items = result.data.dailyPapers.map((raw, index) =>
    listedOn
      ? { format: 'hf-html' as const, index, raw, listedOn }
      : { format: 'hf-html' as const, index, raw },
  );
  return listedOn ? { format: 'hf-html', items, listedOn } : { format: 'hf-html', items };
}

/** The attributes of the start tag that carries `data-target="DailyPapers"`. */
function dailyPapersAttributes(html: string): Map<string, string> {
  const target = DAILY_PAPERS_TARGET.exec(html);
  if (!target) throw new ListingParseError('hf-html', 'no element with data-target="DailyPapers"');
  // Attribute values are HTML-escaped, so no raw `<` or `>` occurs inside the tag.
  const start = html.lastIndexOf('<', target.index);
  const end = html.indexOf('>', target.index);
  if (start < 0 || end < 0) {
    throw new ListingParseError('hf-html', `unterminated DailyPapers tag at character ${target.index}`);
  }
  return parseAttributes(html.slice(start, end));
}

const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function parseAttributes(tag: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const afterName = tag.search(/\s/);
  if (afterName < 0) return attributes;
  for (const match of tag.slice(afterName).matchAll(ATTRIBUTE)) {
    const name = (match[1] as string).toLowerCase();
    if (!attributes.has(name)) attributes.set(name, match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
}

const NUMERIC_ENTITY = /&#(?:(\d{1,7})|[xX]([0-9a-fA-F]{1,6}));/g;

/**
 * Decodes the character references found in attribute values (`&quot;`,
 * `&#39;`, `&#x27;`, `&lt;`, `&gt;`, `&apos;`, `&nbsp;`, `&amp;`); other named
 * references are left as written. `&amp;` goes last so that an escaped
 * reference (`&amp;quot;`) decodes to its literal text (`&quot;`). Plain
 * `replaceAll` passes are several times faster than one regex with a callback
 * on a page whose props hold tens of thousands of `&quot;`.
 */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  let out = text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&apos;', "'")
    .replaceAll('&nbsp;', '\u00a0');
  if (out.includes('&#')) {
    out = out.replace(NUMERIC_ENTITY, (entity, dec, hex) => {
      const codePoint = dec !== undefined ? Number(dec) : Number.parseInt(hex, 16);
      return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
    });
  }
  return out.replaceAll('&amp;', '&');
}

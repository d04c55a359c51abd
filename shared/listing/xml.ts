import type { ListingFormat } from '../paper';
import { ListingParseError } from './errors';

/**
 * A small, strict XML reader for the arXiv feeds. The feeds are flat and
 * simple (a root, a channel, items of text elements), and a general-purpose
 * parser spent most of the parse budget building and validating a generic
 * tree (80× a `JSON.parse` of the same size). This reader checks
 * well-formedness (matching tags, quoted attributes, known entities, one root)
 * while it builds a light element tree, and reports where a document broke.
 *
 * Not supported, because the feeds never use them: DTD internal subsets and
 * custom entities, namespace resolution (names are kept as written, prefix
 * included: `arxiv:primary_category`, `dc:creator`).
 */

export interface XmlElement {
  /** The qualified name as written (`entry`, `arxiv:comment`). */
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data (text and CDATA), entities decoded, not trimmed. */
  text: string;
}

/** Shared by every element without attributes; replaced, never written to. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;
const START_TAG_NAME = /[^\s/>="'<]+/y;
const ATTRIBUTE = /\s+([^\s/>="'<]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
const TAG_END = /\s*(\/?)>/y;
const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|amp|quot|apos));/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Parses a whole document and returns its root element.
 * @throws ListingParseError naming the line and column where the XML is malformed.
 */
export function parseXml(text: string, format: ListingFormat): XmlElement {
  const malformed = (offset: number, problem: string): ListingParseError => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return new ListingParseError(format, `malformed XML at line ${line} column ${column}: ${problem}`);
  };
  const document: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [document];
  let top = document;
  let pos = 0;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const end = lt < 0 ? text.length : lt;
    // Whitespace between tags is layout, not content: skipping it saves
    // building strings nobody reads (every read trims).
    if (end > pos && !isXmlWhitespaceRun(text, pos, end)) {
      if (top === document) throw malformed(pos, 'text outside the root element');
      top.text += decodeXmlEntities(text.slice(pos, end), pos, malformed);
    }
    if (lt < 0) break;
    const next = text.charCodeAt(lt + 1);
    if (next === 0x2f /* / */) {
      const gt = text.indexOf('>', lt);
      if (gt < 0) throw malformed(lt, 'unterminated end tag');
      // The usual case, `</name>`, is checked without cutting the name out.
      const nameEnd = lt + 2 + top.name.length;
      if (top === document || nameEnd !== gt || !text.startsWith(top.name, lt + 2)) {
        const name = text.slice(lt + 2, gt).trimEnd();
        if (top === document) throw malformed(lt, `end tag </${name}> without a start tag`);
        if (name !== top.name) throw malformed(lt, `expected </${top.name}>, found </${name}>`);
      }
      stack.pop();
      top = stack[stack.length - 1] as XmlElement;
      pos = gt + 1;
    } else if (next === 0x3f /* ? */) {
      const close = text.indexOf('?>', lt + 2);
      if (close < 0) throw malformed(lt, 'unterminated processing instruction');
      pos = close + 2;
    } else if (next === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const close = text.indexOf('-->', lt + 4);
        if (close < 0) throw malformed(lt, 'unterminated comment');
        pos = close + 3;
      } else if (text.startsWith('<![CDATA[', lt)) {
        const close = text.indexOf(']]>', lt + 9);
        if (close < 0) throw malformed(lt, 'unterminated CDATA section');
        if (top === document) throw malformed(lt, 'CDATA outside the root element');
        top.text += text.slice(lt + 9, close);
        pos = close + 3;
      } else if (text.startsWith('<!DOCTYPE', lt) && top === document) {
        const gt = text.indexOf('>', lt);
        if (gt < 0 || text.lastIndexOf('[', gt) > lt)
          throw malformed(lt, 'DOCTYPE with an internal subset is not supported');
        pos = gt + 1;
      } else {
        throw malformed(lt, 'unexpected markup declaration');
      }
    } else {
      START_TAG_NAME.lastIndex = lt + 1;
      const name = START_TAG_NAME.exec(text)?.[0];
      if (!name) throw malformed(lt, 'a "<" that starts no tag');
      let cursor = lt + 1 + name.length;
      const element: XmlElement = { name, attributes: NO_ATTRIBUTES, children: [], text: '' };
      // Most tags have no attributes: try the attribute pattern only before one.
      while (text.charCodeAt(cursor) !== 0x3e /* > */ && text.charCodeAt(cursor) !== 0x2f /* / */) {
        ATTRIBUTE.lastIndex = cursor;
        const attribute = ATTRIBUTE.exec(text);
        if (!attribute) break;
        const value = attribute[2] ?? attribute[3] ?? '';
        if (element.attributes === NO_ATTRIBUTES) element.attributes = {};
        element.attributes[attribute[1] as string] = decodeXmlEntities(value, cursor, malformed);
        cursor = ATTRIBUTE.lastIndex;
      }
      TAG_END.lastIndex = cursor;
      const tagEnd = TAG_END.exec(text);
      if (!tagEnd) throw malformed(cursor, `malformed start tag <${name}>`);
      if (top === document && document.children.length)
        throw malformed(lt, `a second root element <${name}>`);
      top.children.push(element);
      if (!tagEnd[1]) {
        stack.push(element);
        top = element;
      }
      pos = TAG_END.lastIndex;
    }
  }
  if (top !== document) throw malformed(text.length, `unexpected end of document inside <${top.name}>`);
  const root = document.children[0];
  if (!root) throw malformed(0, 'no root element');
  return root;
}

/** True when `text[start, end)` holds only XML whitespace (space, tab, CR, LF). */
function isXmlWhitespaceRun(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

const STRAY_AMPERSAND = /&(?!#\d{1,7};|#x[0-9a-fA-F]{1,6};|(?:lt|gt|amp|quot|apos);)/;

function decodeXmlEntities(
  chars: string,
  offset: number,
  malformed: (offset: number, problem: string) => ListingParseError,
): string {
  if (!chars.includes('&')) return chars;
  const stray = STRAY_AMPERSAND.exec(chars);
  if (stray) throw malformed(offset + stray.index, 'an "&" that begins no known entity reference');
  return chars.replace(ENTITY, (_entity, dec, hex, name) => {
    if (name) return PREDEFINED[name] as string;
    const codePoint = dec !== undefined ? Number(dec) : Number.parseInt(hex, 16);
    return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd';
  });
}

/** The first child element called `name`. */
export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

/** Every child element called `name`, in document order. */
export function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** The trimmed text of the first child element called `name`, when there is one. */
export function childText(element: XmlElement, name: string): string | undefined {
  return childElement(element, name)?.text.trim();
}

/** The object without its undefined fields, so that it serialises to what it says. */
export function definedFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key in fields) {
    if (fields[key] !== undefined) out[key] = fields[key];
  }
  return out;
}

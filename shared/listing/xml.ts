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
  readonly name: string;
  /** Attribute values by name, entities decoded. Read-only: shared by elements without attributes. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own character data (text and CDATA), entities decoded, not trimmed. */
  readonly text: string;
  /** One attribute's value, entities decoded; cheaper than {@link attributes} when one is wanted. */
  attribute(name: string): string | undefined;
}

/** Shared by every element without attributes. */
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|amp|quot|apos));/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const STRAY_AMPERSAND = /&(?!#\d{1,7};|#x[0-9a-fA-F]{1,6};|(?:lt|gt|amp|quot|apos);)/;

/**
 * An element as the reader builds it. Attributes are checked while the tag is
 * read but turned into an object only when asked for: most (Atom's `<link>`
 * attributes, every `scheme`) are never read, and building them cost more
 * than reading the rest of the tag.
 */
class Element implements XmlElement {
  readonly name: string;
  readonly children: XmlElement[] = [];
  text = '';
  /** The start tag's text after its name, already checked; empty when it has no attributes. */
  private readonly attributeSource: string;
  private parsedAttributes: Readonly<Record<string, string>> | undefined;

  constructor(name: string, attributeSource: string) {
    this.name = name;
    this.attributeSource = attributeSource;
  }

  get attributes(): Readonly<Record<string, string>> {
    this.parsedAttributes ??= this.attributeSource ? attributesIn(this.attributeSource) : NO_ATTRIBUTES;
    return this.parsedAttributes;
  }

  attribute(name: string): string | undefined {
    if (this.parsedAttributes) return this.parsedAttributes[name];
    return this.attributeSource ? attributeIn(this.attributeSource, name) : undefined;
  }
}

/**
 * Parses a whole document and returns its root element.
 *
 * Tags are read with character-code loops rather than sticky regular
 * expressions (a match allocates a result array per tag), and the text is
 * searched for `&` once for the whole document rather than once per text
 * run: on the arXiv feeds' many small elements both cost more than the rest.
 * @throws ListingParseError naming the line and column where the XML is malformed.
 */
export function parseXml(text: string, format: ListingFormat): XmlElement {
  const document = new Element('#document', '');
  const stack: Element[] = [document];
  const length = text.length;
  let top = document;
  let pos = 0;
  // The next `&` at or after the last place looked at (`length` when none):
  // a run of text holds an entity reference only when it holds this one.
  let ampersand = -1;
  // The next `<` when a start tag with attributes already found it, else -1.
  let knownLt = -1;
  while (pos < length) {
    const lt = knownLt >= pos ? knownLt : text.indexOf('<', pos);
    knownLt = -1;
    const end = lt < 0 ? length : lt;
    // Whitespace between tags is layout, not content: skipping it saves
    // building strings nobody reads (every read trims).
    if (end > pos && !isXmlWhitespaceRun(text, pos, end)) {
      if (top === document) throw malformed(text, format, pos, 'text outside the root element');
      if (ampersand < pos) ampersand = indexOrLength(text, '&', pos);
      const chars = text.slice(pos, end);
      top.text += ampersand < end ? decodeXmlEntities(chars, pos, text, format) : chars;
    }
    if (lt < 0) break;
    const next = text.charCodeAt(lt + 1);
    if (next === 0x2f /* / */) {
      // The usual case, `</name>` closing the open element, is checked without searching or slicing.
      const nameEnd = lt + 2 + top.name.length;
      if (
        top !== document &&
        text.charCodeAt(nameEnd) === 0x3e /* > */ &&
        text.startsWith(top.name, lt + 2)
      ) {
        pos = nameEnd + 1;
      } else {
        const gt = text.indexOf('>', lt);
        if (gt < 0) throw malformed(text, format, lt, 'unterminated end tag');
        const name = text.slice(lt + 2, gt).trimEnd();
        if (top === document) throw malformed(text, format, lt, `end tag </${name}> without a start tag`);
        if (name !== top.name) throw malformed(text, format, lt, `expected </${top.name}>, found </${name}>`);
        pos = gt + 1;
      }
      stack.pop();
      top = stack[stack.length - 1] as Element;
    } else if (next === 0x3f /* ? */) {
      const close = text.indexOf('?>', lt + 2);
      if (close < 0) throw malformed(text, format, lt, 'unterminated processing instruction');
      pos = close + 2;
    } else if (next === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const close = text.indexOf('-->', lt + 4);
        if (close < 0) throw malformed(text, format, lt, 'unterminated comment');
        pos = close + 3;
      } else if (text.startsWith('<![CDATA[', lt)) {
        const close = text.indexOf(']]>', lt + 9);
        if (close < 0) throw malformed(text, format, lt, 'unterminated CDATA section');
        if (top === document) throw malformed(text, format, lt, 'CDATA outside the root element');
        top.text += text.slice(lt + 9, close);
        pos = close + 3;
      } else if (text.startsWith('<!DOCTYPE', lt) && top === document) {
        const gt = text.indexOf('>', lt);
        if (gt < 0 || text.lastIndexOf('[', gt) > lt)
          throw malformed(text, format, lt, 'DOCTYPE with an internal subset is not supported');
        pos = gt + 1;
      } else {
        throw malformed(text, format, lt, 'unexpected markup declaration');
      }
    } else {
      const nameEnd = nameEndFrom(text, lt + 1);
      if (nameEnd === lt + 1) throw malformed(text, format, lt, 'a "<" that starts no tag');
      const name = text.slice(lt + 1, nameEnd);
      const c = text.charCodeAt(nameEnd);
      let tagEnd: number;
      let element: Element;
      if (c === 0x3e /* > */ || (c === 0x2f /* / */ && text.charCodeAt(nameEnd + 1) === 0x3e)) {
        tagEnd = c === 0x3e ? nameEnd : nameEnd + 1;
        element = new Element(name, '');
      } else {
        // No attribute value may hold a `<`, so the whole tag lies before the next one.
        knownLt = text.indexOf('<', nameEnd);
        tagEnd = checkAttributes(text, format, name, nameEnd, knownLt < 0 ? length : knownLt);
        if (ampersand < nameEnd) ampersand = indexOrLength(text, '&', nameEnd);
        if (ampersand < tagEnd) checkAttributeEntities(text, format, nameEnd, tagEnd);
        element = new Element(name, text.slice(nameEnd, tagEnd));
      }
      if (top === document && document.children.length)
        throw malformed(text, format, lt, `a second root element <${name}>`);
      top.children.push(element);
      // A `/>` ends the element where it starts; `>` opens it.
      if (text.charCodeAt(tagEnd - 1) !== 0x2f /* / */) {
        stack.push(element);
        top = element;
      }
      pos = tagEnd + 1;
    }
  }
  if (top !== document)
    throw malformed(text, format, length, `unexpected end of document inside <${top.name}>`);
  const root = document.children[0];
  if (!root) throw malformed(text, format, 0, 'no root element');
  return root;
}

function malformed(text: string, format: ListingFormat, offset: number, problem: string): ListingParseError {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return new ListingParseError(format, `malformed XML at line ${line} column ${column}: ${problem}`);
}

function indexOrLength(text: string, search: string, from: number): number {
  const index = text.indexOf(search, from);
  return index < 0 ? text.length : index;
}

/**
 * Checks a start tag's attributes (`name="value"` or `name='value'`, each
 * after whitespace) from `cursor`, just past the tag name, and returns the
 * offset of the tag's closing `>`. `nextLt` is where the next `<` is (or the
 * text's length): a closing quote beyond it means a value holding a `<`.
 * @throws ListingParseError when the rest of the tag is not attributes and `>` or `/>`.
 */
function checkAttributes(
  text: string,
  format: ListingFormat,
  name: string,
  cursor: number,
  nextLt: number,
): number {
  const first = cursor;
  for (;;) {
    const start = whitespaceEnd(text, cursor);
    const c = text.charCodeAt(start);
    if (c === 0x3e /* > */) return start;
    if (c === 0x2f /* / */ && text.charCodeAt(start + 1) === 0x3e) return start + 1;
    // An attribute needs whitespace before it and a quoted value without `<`.
    const nameEnd = start > cursor ? nameEndFrom(text, start) : start;
    if (nameEnd === start) break;
    const equals = whitespaceEnd(text, nameEnd);
    if (text.charCodeAt(equals) !== 0x3d /* = */) break;
    const open = whitespaceEnd(text, equals + 1);
    const quote = text.charCodeAt(open);
    if (quote !== 0x22 /* " */ && quote !== 0x27 /* ' */) break;
    const close = text.indexOf(quote === 0x22 ? '"' : "'", open + 1);
    if (close < 0 || close > nextLt) break;
    cursor = close + 1;
  }
  // Problems are reported in document order: a bad entity in an earlier attribute first.
  checkAttributeEntities(text, format, first, cursor);
  throw malformed(text, format, cursor, `malformed start tag <${name}>`);
}

/**
 * Checks the entity references of the attribute values in `text[start, end)`
 * (a start tag past its name, already checked by {@link checkAttributes}).
 * @throws ListingParseError at the first `&` that begins no known entity reference.
 */
function checkAttributeEntities(text: string, format: ListingFormat, start: number, end: number): void {
  let cursor = start;
  while (cursor < end) {
    const open = text.slice(cursor, end).search(/["']/);
    if (open < 0) return;
    const valueStart = cursor + open + 1;
    const close = text.indexOf(text.charAt(valueStart - 1), valueStart);
    const stray = STRAY_AMPERSAND.exec(text.slice(valueStart, close));
    if (stray) throw malformed(text, format, valueStart + stray.index, STRAY_AMPERSAND_PROBLEM);
    cursor = close + 1;
  }
}

const STRAY_AMPERSAND_PROBLEM = 'an "&" that begins no known entity reference';

/** The attributes of a start tag's text past its name, already checked by {@link checkAttributes}. */
function attributesIn(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  let cursor = 0;
  for (;;) {
    const start = whitespaceEnd(source, cursor);
    const nameEnd = nameEndFrom(source, start);
    if (nameEnd === start) return attributes;
    const open = whitespaceEnd(source, whitespaceEnd(source, nameEnd) + 1);
    const close = source.indexOf(source.charAt(open), open + 1);
    const value = source.slice(open + 1, close);
    attributes[source.slice(start, nameEnd)] = value.includes('&')
      ? value.replace(ENTITY, decodeXmlEntity)
      : value;
    cursor = close + 1;
  }
}

/** One attribute's value in a start tag's text past its name (the last one, if the name repeats, as in {@link attributesIn}). */
function attributeIn(source: string, name: string): string | undefined {
  let found: string | undefined;
  let cursor = 0;
  for (;;) {
    const start = whitespaceEnd(source, cursor);
    const nameEnd = nameEndFrom(source, start);
    if (nameEnd === start) return found;
    const open = whitespaceEnd(source, whitespaceEnd(source, nameEnd) + 1);
    const close = source.indexOf(source.charAt(open), open + 1);
    if (nameEnd - start === name.length && source.startsWith(name, start)) {
      const value = source.slice(open + 1, close);
      found = value.includes('&') ? value.replace(ENTITY, decodeXmlEntity) : value;
    }
    cursor = close + 1;
  }
}

/** The end of the name starting at `start`: the first whitespace, `/`, `>`, `=`, quote or `<`, or the end of the text. */
function nameEndFrom(text: string, start: number): number {
  const length = text.length;
  let i = start;
  while (i < length) {
    const c = text.charCodeAt(i);
    // Every delimiter is at most `>`, so most name characters take the first test.
    if (c <= 0x3e /* > */ || c >= 0x7f) {
      if (
        c === 0x2f /* / */ ||
        c === 0x3e /* > */ ||
        c === 0x3d /* = */ ||
        c === 0x22 /* " */ ||
        c === 0x27 /* ' */ ||
        c === 0x3c /* < */ ||
        isJsWhitespace(c)
      )
        return i;
    }
    i++;
  }
  return i;
}

/** The first offset from `start` that is not whitespace (the text's length past the end: `NaN` is no whitespace). */
function whitespaceEnd(text: string, start: number): number {
  let i = start;
  while (isJsWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Whitespace as a regular expression's `\s` means it, by character code. */
function isJsWhitespace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** True when `text[start, end)` holds only XML whitespace (space, tab, CR, LF). */
function isXmlWhitespaceRun(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function decodeXmlEntity(
  _entity: string,
  dec: string | undefined,
  hex: string | undefined,
  name: string | undefined,
): string {
  if (name) return PREDEFINED[name] as string;
  const codePoint = dec !== undefined ? Number(dec) : Number.parseInt(hex as string, 16);
  return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd';
}

/** `chars` (found at `offset` of `text`) with its entity references decoded. */
function decodeXmlEntities(chars: string, offset: number, text: string, format: ListingFormat): string {
  const stray = STRAY_AMPERSAND.exec(chars);
  if (stray) throw malformed(text, format, offset + stray.index, STRAY_AMPERSAND_PROBLEM);
  return chars.replace(ENTITY, decodeXmlEntity);
}

/** The first child element called `name`. */
export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  for (const child of element.children) if (child.name === name) return child;
  return undefined;
}

/** The trimmed text of the first child element called `name`, when there is one. */
export function childText(element: XmlElement, name: string): string | undefined {
  return childElement(element, name)?.text.trim();
}

import { createHash } from 'node:crypto';
import * as z from '../zod';
import { TermIndex, termTable, VocabularyError, type VocabularyLines, vocabularyLines } from './features';

/**
 * The on-disk format of the classifier, written by `scripts/train-classifier.ts`
 * and read by the loader: one definition of both directions, so the training
 * script cannot write what the loader cannot read.
 *
 * A model directory holds
 * - `model.json`, the header ({@link ModelHeaderSchema}): classes, shape, calibration,
 *   and the length and SHA-256 of the two data files;
 * - `weights.bin`, little-endian, in this order (T terms, H hidden units, C classes):
 *   `idf f32[T]`, `scale f32[T]`, `hiddenBias f32[H]`, `primaryWeights f32[H×C]`,
 *   `primaryBias f32[C]`, `listedWeights f32[H×C]`, `listedBias f32[C]`, the vocabulary's
 *   table, `termHashes i32[T]` (each term's FNV-1a hash, see `TermIndex`) and `termStarts
 *   i32[T+1]` (where each term starts in the text of `vocab.txt`, in UTF-16 code units; the
 *   last is the text's length), so a load need not scan and hash the vocabulary, then
 *   `termWeights` row-major (term by term), signed integers of the header's
 *   `termBits`: 8 bits a byte, or 4 bits two a byte (low nibble first, two's
 *   complement, -8..7); the weight of term `t` for hidden unit `h` is
 *   `scale[t] × termWeights[t × H + h]`;
 * - `vocab.txt`, the terms in id order, one per line (UTF-8, `\n`);
 * - `metrics.json`, the validation figures of this model ({@link ModelMetricsSchema}),
 *   informational: the classifier does not read it.
 */

export const MODEL_FORMAT = 'daily-papers-classifier/4';
export const WEIGHTS_LAYOUT =
  'idf:f32[T] scale:f32[T] hiddenBias:f32[H] primaryWeights:f32[H*C] primaryBias:f32[C] listedWeights:f32[H*C] listedBias:f32[C] termHashes:i32[T] termStarts:i32[T+1] termWeights:int<termBits>[T*H]';

export const MODEL_FILES = {
  header: 'model.json',
  weights: 'weights.bin',
  vocab: 'vocab.txt',
  metrics: 'metrics.json',
} as const;

const Sha256Schema = z.string().check(z.regex(/^[0-9a-f]{64}$/));

const DataFileSchema = z.object({
  path: z.string().check(z.minLength(1)),
  bytes: z.number().check(z.int(), z.nonnegative()),
  sha256: Sha256Schema,
});

export const ModelHeaderSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  /** Model family, the first part of the classifier version. */
  name: z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]*$/)),
  /** The tokeniser the model was trained with; must equal `TOKENIZER_VERSION`. */
  tokenizer: z.string().check(z.minLength(1)),
  /** Category codes, in weight-column order. */
  classes: z.array(z.string().check(z.minLength(1))).check(z.minLength(2), z.maxLength(255)),
  /** Vocabulary size: rows of the term weights, lines of `vocab.txt`. */
  terms: z.number().check(z.int(), z.positive()),
  /** Hidden units (ReLU) between the terms and the two heads. */
  hidden: z.number().check(z.int(), z.positive(), z.maximum(4096)),
  /** How many times a title term counts in the term frequencies (see `TermIndex.termIds`). */
  titleRepeat: z.number().check(z.int(), z.minimum(1), z.maximum(10)),
  /** Bits per stored term weight: 8 (one a byte) or 4 (two a byte, low nibble first). */
  termBits: z.union([z.literal(4), z.literal(8)]),
  layout: z.literal(WEIGHTS_LAYOUT),
  weights: z.extend(DataFileSchema, { path: z.literal(MODEL_FILES.weights) }),
  vocab: z.extend(DataFileSchema, { path: z.literal(MODEL_FILES.vocab) }),
  /**
   * Categories are ranked by r = ln p + listedWeight · ln q, p the primary
   * head's softmax probability, q the listed head's sigmoid (the chance the
   * category is listed at all).
   */
  listedWeight: z.number().check(z.minimum(0)),
  /**
   * score = σ(slope · r + intercept): the chance that the category is one of
   * the paper's arXiv categories, fitted on papers held out of training.
   */
  calibration: z.object({ slope: z.number().check(z.positive()), intercept: z.number() }),
  /** A category is assigned when its score reaches this (the top one always is). */
  assignThreshold: z.number().check(z.minimum(0), z.maximum(1)),
  /** How many categories a prediction lists (and may assign). */
  topK: z.number().check(z.int(), z.minimum(1), z.maximum(10)),
  /**
   * Explanation: at most `maxTerms` terms per category, each adding at least
   * `minContribution` to the category's primary logit, searched among the
   * paper's `candidates` most heavily weighted terms.
   */
  explain: z.object({
    maxTerms: z.number().check(z.int(), z.minimum(0)),
    minContribution: z.number().check(z.minimum(0)),
    candidates: z.number().check(z.int(), z.positive()),
  }),
  /** How the model was trained: informational. */
  training: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type ModelHeader = z.infer<typeof ModelHeaderSchema>;

// In a module of its own so what reads the figures alone (the query API, the stack) bundles no inference code.
export { type ModelMetrics, ModelMetricsSchema } from './model-metrics';

/** The model or its files are missing, unreadable or inconsistent. */
export class ClassifierModelError extends Error {
  override name = 'ClassifierModelError';
}

/** A decoded model, ready for inference. */
export interface ClassifierModel {
  header: ModelHeader;
  /** `<name>-<first 12 hex of the header's SHA-256>`; the header pins the data files' hashes. */
  version: string;
  /** The vocabulary, as a lookup from text to term ids. */
  index: TermIndex;
  /** id → term. */
  terms: readonly string[];
  idf: Float32Array;
  scale: Float32Array;
  hiddenBias: Float32Array;
  /** H×C, row-major (hidden unit by hidden unit), centred across classes. */
  primaryWeights: Float32Array;
  primaryBias: Float32Array;
  /** H×C, row-major. */
  listedWeights: Float32Array;
  listedBias: Float32Array;
  /**
   * T×H, row-major, as stored in `weights.bin` (a view of its bytes, never copied or unpacked):
   * one signed byte a weight when `termBits` is 8, two a byte (low nibble first) when it is 4.
   * Read one with {@link termWeightAt}; multiply by `scale[term]`. Unpacking 12.7 million
   * weights took a third of the load, and the hidden layer decodes the nibbles as fast as it
   * reads bytes.
   */
  termWeights: Int8Array | Uint8Array;
}

/**
 * The integer weight of term `t` for hidden unit `h`, decoded from its stored bits
 * (sign-extended from 4 bits: shifted to the top of a 32-bit integer and back).
 */
export function termWeightAt(
  model: Pick<ClassifierModel, 'header' | 'termWeights'>,
  t: number,
  h: number,
): number {
  const i = t * model.header.hidden + h;
  if (model.header.termBits === 8) return model.termWeights[i] as number;
  const byte = model.termWeights[i >> 1] as number;
  return i & 1 ? (byte << 24) >> 28 : (byte << 28) >> 28;
}

/** Every term weight, one a byte: what {@link encodeModel} takes (training, re-encoding, tests). */
export function unpackedTermWeights(model: Pick<ClassifierModel, 'header' | 'termWeights'>): Int8Array {
  const { terms, hidden, termBits } = model.header;
  if (termBits === 8) return Int8Array.from(model.termWeights);
  return unpackInt4(model.termWeights as Uint8Array, terms * hidden);
}

/** The model's arrays, in file order, with their lengths for a shape. */
function arrayLayout(T: number, H: number, C: number) {
  return [
    ['idf', T],
    ['scale', T],
    ['hiddenBias', H],
    ['primaryWeights', H * C],
    ['primaryBias', C],
    ['listedWeights', H * C],
    ['listedBias', C],
  ] as const;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Byte length of `weights.bin` for a given shape. */
export function weightsByteLength(terms: number, hidden: number, classes: number, termBits: 4 | 8): number {
  const termBytes = termBits === 8 ? terms * hidden : Math.ceil((terms * hidden) / 2);
  const tableBytes = 4 * (2 * terms + 1);
  return 4 * (2 * terms + hidden + 2 * hidden * classes + 2 * classes) + tableBytes + termBytes;
}

/** Packs 4-bit signed integers two a byte, low nibble first. */
function packInt4(values: Int8Array): Uint8Array {
  const packed = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < -8 || v > 7) throw new ClassifierModelError(`term weight ${v} does not fit in 4 bits`);
    packed[i >> 1] = (packed[i >> 1] as number) | ((v & 0xf) << ((i & 1) * 4));
  }
  return packed;
}

/** Unpacks `length` 4-bit signed integers (see {@link packInt4}). */
function unpackInt4(packed: Uint8Array, length: number): Int8Array {
  const values = new Int8Array(length);
  const pairs = length >> 1;
  for (let i = 0; i < pairs; i++) {
    const byte = packed[i] as number;
    // Sign-extend each nibble by shifting it to the top of a 32-bit integer and back.
    values[2 * i] = (byte << 28) >> 28;
    values[2 * i + 1] = (byte << 24) >> 28;
  }
  if (length & 1) values[length - 1] = ((packed[pairs] as number) << 28) >> 28;
  return values;
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new ClassifierModelError('the classifier model needs a little-endian platform');
  }
}

/**
 * Decodes and checks a model from the bytes of its three files. Throws
 * {@link ClassifierModelError} when the header does not match its schema, a data
 * file has the wrong length or hash, or the vocabulary is malformed.
 */
export function decodeModel(
  headerText: string,
  weightsBytes: Uint8Array,
  vocabBytes: Uint8Array,
  expectedTokenizer: string,
): ClassifierModel {
  assertLittleEndian();
  let json: unknown;
  try {
    json = JSON.parse(headerText);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ClassifierModelError(`model header is not JSON: ${reason}`);
  }
  // Parsed once a process: zod's compiled fast path would cost more to build (a few ms on a cold
  // start, a sixth of the load) than it could save on one header.
  const parsed = ModelHeaderSchema.safeParse(json, { jitless: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ClassifierModelError(`model header is invalid: ${issues}`);
  }
  const header = parsed.data;
  if (header.tokenizer !== expectedTokenizer) {
    throw new ClassifierModelError(
      `model was trained with tokenizer "${header.tokenizer}", this code has "${expectedTokenizer}"`,
    );
  }
  const classes = header.classes.length;
  const expectedBytes = weightsByteLength(header.terms, header.hidden, classes, header.termBits);
  if (header.weights.bytes !== expectedBytes) {
    throw new ClassifierModelError(
      `model header declares ${header.weights.bytes} weight bytes, its shape needs ${expectedBytes}`,
    );
  }
  checkData('weights', weightsBytes, header.weights);
  checkData('vocab', vocabBytes, header.vocab);

  // Typed-array views need 4-byte alignment; copy once if the buffer is not aligned.
  const bytes = weightsBytes.byteOffset % 4 === 0 ? weightsBytes : weightsBytes.slice();
  let offset = bytes.byteOffset;
  const floats: Record<string, Float32Array> = {};
  for (const [name, length] of arrayLayout(header.terms, header.hidden, classes)) {
    floats[name] = new Float32Array(bytes.buffer, offset, length);
    offset += 4 * length;
  }
  const termHashes = new Int32Array(bytes.buffer, offset, header.terms);
  offset += 4 * header.terms;
  const termStarts = new Int32Array(bytes.buffer, offset, header.terms + 1);
  offset += 4 * (header.terms + 1);

  const text = new TextDecoder('utf-8', { fatal: true }).decode(vocabBytes);
  let index: TermIndex;
  try {
    index = new TermIndex(vocabularyOf(text, termStarts, termHashes));
  } catch (error) {
    if (error instanceof VocabularyError) throw new ClassifierModelError(error.message);
    throw error;
  }

  const float = (name: string) => floats[name] as Float32Array;
  return {
    header,
    version: `${header.name}-${sha256Hex(headerText).slice(0, 12)}`,
    index,
    // Built when first read: inference reads single terms through the index.
    get terms() {
      return index.terms;
    },
    idf: float('idf'),
    scale: float('scale'),
    hiddenBias: float('hiddenBias'),
    primaryWeights: float('primaryWeights'),
    primaryBias: float('primaryBias'),
    listedWeights: float('listedWeights'),
    listedBias: float('listedBias'),
    termWeights:
      header.termBits === 8
        ? new Int8Array(bytes.buffer, offset, header.terms * header.hidden)
        : new Uint8Array(bytes.buffer, offset, Math.ceil((header.terms * header.hidden) / 2)),
  };
}

const NEWLINE = 0x0a;

/**
 * The vocabulary's lines as the weights file's table places them, checked against the text: every
 * term ends at a newline, the last at the text's end. (A term with a newline inside cannot be
 * encoded, and both files are pinned by the header's hashes, so the table is the text's lines; the
 * table of slots checks for empty and repeated terms.)
 */
function vocabularyOf(text: string, starts: Int32Array, hashes: Int32Array): VocabularyLines {
  const count = hashes.length;
  let fits = starts[0] === 0 && starts[count] === text.length;
  for (let id = 1; fits && id <= count; id++) fits = text.charCodeAt((starts[id] as number) - 1) === NEWLINE;
  if (fits) return { text, starts, count, hashes };
  // Only files encodeModel did not write together get here: say what is wrong.
  const lines = vocabularyLines(text);
  if (lines.count !== count) {
    throw new ClassifierModelError(`vocabulary has ${lines.count} terms, the header declares ${count}`);
  }
  throw new ClassifierModelError(`vocabulary does not match the term table of ${MODEL_FILES.weights}`);
}

function checkData(label: string, bytes: Uint8Array, declared: z.infer<typeof DataFileSchema>): void {
  if (bytes.byteLength !== declared.bytes) {
    throw new ClassifierModelError(
      `model ${label} file ${declared.path} has ${bytes.byteLength} bytes, the header declares ${declared.bytes}`,
    );
  }
  if (sha256Hex(bytes) !== declared.sha256) {
    throw new ClassifierModelError(
      `model ${label} file ${declared.path} does not match its SHA-256 (corrupt?)`,
    );
  }
}

/** What the training script hands over to be written. */
export type ModelParts = Pick<
  ModelHeader,
  | 'name'
  | 'tokenizer'
  | 'classes'
  | 'listedWeight'
  | 'calibration'
  | 'assignThreshold'
  | 'topK'
  | 'explain'
  | 'training'
  | 'termBits'
  | 'titleRepeat'
> &
  Pick<
    ClassifierModel,
    | 'terms'
    | 'idf'
    | 'scale'
    | 'hiddenBias'
    | 'primaryWeights'
    | 'primaryBias'
    | 'listedWeights'
    | 'listedBias'
  > & {
    /** T×H, one a byte (within -8..7 when `termBits` is 4): packed here, not by the caller. */
    termWeights: Int8Array;
  };

/**
 * Encodes a model into the bytes of its files (the header pins the others'
 * hashes). Deterministic: the same parts give the same bytes.
 */
export function encodeModel(parts: ModelParts): { header: string; weights: Uint8Array; vocab: Uint8Array } {
  assertLittleEndian();
  const T = parts.terms.length;
  const C = parts.classes.length;
  const H = parts.hiddenBias.length;
  const arrays = arrayLayout(T, H, C).map(([name, length]) => {
    const array = parts[name];
    if (array.length !== length)
      throw new ClassifierModelError(`model part ${name} has length ${array.length}, not ${length}`);
    return array;
  });
  if (parts.termWeights.length !== T * H) throw new ClassifierModelError('term weights have the wrong size');
  const newline = parts.terms.findIndex((term) => term.includes('\n'));
  if (newline >= 0) throw new ClassifierModelError(`term ${newline + 1} holds a newline`);
  const { hashes, starts } = termTable(parts.terms);
  const weights = new Uint8Array(weightsByteLength(T, H, C, parts.termBits));
  const termWeights = parts.termBits === 8 ? parts.termWeights : packInt4(parts.termWeights);
  let offset = 0;
  for (const part of [...arrays, hashes, starts, termWeights]) {
    weights.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += part.byteLength;
  }
  const vocab = new TextEncoder().encode(`${parts.terms.join('\n')}\n`);
  const header: ModelHeader = {
    format: MODEL_FORMAT,
    name: parts.name,
    tokenizer: parts.tokenizer,
    classes: [...parts.classes],
    terms: T,
    hidden: H,
    termBits: parts.termBits,
    titleRepeat: parts.titleRepeat,
    layout: WEIGHTS_LAYOUT,
    weights: { path: MODEL_FILES.weights, bytes: weights.byteLength, sha256: sha256Hex(weights) },
    vocab: { path: MODEL_FILES.vocab, bytes: vocab.byteLength, sha256: sha256Hex(vocab) },
    listedWeight: parts.listedWeight,
    calibration: parts.calibration,
    assignThreshold: parts.assignThreshold,
    topK: parts.topK,
    explain: parts.explain,
    training: parts.training,
  };
  return { header: `${JSON.stringify(ModelHeaderSchema.parse(header), null, 2)}\n`, weights, vocab };
}

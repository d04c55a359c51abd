import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { termTable } from '../../shared/classify/features';
import { loadModel, modelDirectory } from '../../shared/classify/load-model';
import {
  ClassifierModelError,
  decodeModel,
  encodeModel,
  MODEL_FILES,
  ModelHeaderSchema,
  ModelMetricsSchema,
  sha256Hex,
  unpackedTermWeights,
  weightsByteLength,
} from '../../shared/classify/model-format';
import { TOKENIZER_VERSION } from '../../shared/classify/tokenize';
import { tinyParts } from './tiny-model';

const committed = modelDirectory({});
const read = (name: string) => readFileSync(join(committed, name));

function writeModel(files: { header: string; weights: Uint8Array; vocab: Uint8Array }): string {
  const dir = mkdtempSync(join(tmpdir(), 'classifier-model-'));
  writeFileSync(join(dir, MODEL_FILES.header), files.header);
  writeFileSync(join(dir, MODEL_FILES.weights), files.weights);
  writeFileSync(join(dir, MODEL_FILES.vocab), files.vocab);
  return dir;
}

describe('the committed model', () => {
  it('has a header that matches the schema the training script writes', () => {
    const header = ModelHeaderSchema.parse(JSON.parse(read(MODEL_FILES.header).toString('utf8')));

    expect(header.tokenizer).toBe(TOKENIZER_VERSION);
    expect(header.topK).toBe(5);
    expect(new Set(header.classes).size).toBe(header.classes.length);
  });

  it('has a weights file whose length is the declared shape and whose hash is the declared one', () => {
    const header = ModelHeaderSchema.parse(JSON.parse(read(MODEL_FILES.header).toString('utf8')));
    const weights = read(MODEL_FILES.weights);

    expect(weights.byteLength).toBe(
      weightsByteLength(header.terms, header.hidden, header.classes.length, header.termBits),
    );
    expect(weights.byteLength).toBe(header.weights.bytes);
    expect(sha256Hex(weights)).toBe(header.weights.sha256);
  });

  it('has one vocabulary line per declared term, none repeated', () => {
    const header = ModelHeaderSchema.parse(JSON.parse(read(MODEL_FILES.header).toString('utf8')));
    const lines = read(MODEL_FILES.vocab).toString('utf8').split('\n');

    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(header.terms);
    expect(new Set(lines).size).toBe(header.terms);
    expect(sha256Hex(read(MODEL_FILES.vocab))).toBe(header.vocab.sha256);
  });

  it("stores the term table a load would otherwise compute: each term's start in vocab.txt and its hash", () => {
    const header = ModelHeaderSchema.parse(JSON.parse(read(MODEL_FILES.header).toString('utf8')));
    const weights = read(MODEL_FILES.weights);
    const T = header.terms;
    const termWeightBytes = Math.ceil((T * header.hidden) / 2);
    const tableOffset = weights.byteLength - termWeightBytes - 4 * (2 * T + 1);
    const table = new Int32Array(weights.buffer.slice(weights.byteOffset + tableOffset), 0, 2 * T + 1);
    const terms = read(MODEL_FILES.vocab).toString('utf8').split('\n').slice(0, -1);

    const expected = termTable(terms);

    expect(header.termBits).toBe(4);
    expect(
      Buffer.from(table.subarray(0, T).buffer, 0, 4 * T).equals(Buffer.from(expected.hashes.buffer)),
    ).toBe(true);
    expect([...table.subarray(T)]).toEqual([...expected.starts]);
  });

  it('is byte for byte what encodeModel writes for its own decoded parts', () => {
    const model = loadModel(committed);
    const { header } = model;

    const reencoded = encodeModel({ ...header, ...model, termWeights: unpackedTermWeights(model) });

    expect(reencoded.header).toBe(read(MODEL_FILES.header).toString('utf8'));
    expect(Buffer.from(reencoded.weights).equals(read(MODEL_FILES.weights))).toBe(true);
    expect(Buffer.from(reencoded.vocab).equals(read(MODEL_FILES.vocab))).toBe(true);
  });

  it('records validation figures that are of this model', () => {
    const metrics = ModelMetricsSchema.parse(JSON.parse(read(MODEL_FILES.metrics).toString('utf8')));

    expect(metrics.model).toBe(loadModel(committed).version);
    expect(metrics.validation.papers).toBe(metrics.split.validation);
    expect(metrics.validation.papers).toBeGreaterThan(1000);
  });
});

describe('encodeModel / decodeModel', () => {
  it('round-trips a model', () => {
    const parts = tinyParts();
    const files = encodeModel(parts);

    const model = decodeModel(files.header, files.weights, files.vocab, TOKENIZER_VERSION);

    expect(model.terms).toEqual(parts.terms);
    expect(model.index.idOf('error correction')).toBe(2);
    expect([...unpackedTermWeights(model)]).toEqual([...parts.termWeights]);
    expect([...model.listedWeights]).toEqual([...parts.listedWeights]);
    expect([...model.idf]).toEqual([...parts.idf]);
    expect(model.version).toBe(`tiny-${sha256Hex(files.header).slice(0, 12)}`);
  });

  it('round-trips 4-bit term weights, two a byte', () => {
    const parts = { ...tinyParts(), termBits: 4 as const, termWeights: Int8Array.from([7, -8, -1, 6, 0, 3]) };
    const files = encodeModel(parts);

    const model = decodeModel(files.header, files.weights, files.vocab, TOKENIZER_VERSION);

    expect(files.weights.byteLength).toBe(weightsByteLength(3, 2, 2, 4));
    expect(files.weights.byteLength).toBe(weightsByteLength(3, 2, 2, 8) - 3);
    expect([...unpackedTermWeights(model)]).toEqual([7, -8, -1, 6, 0, 3]);
  });

  it('refuses to store a term weight that does not fit its bits', () => {
    expect(() => encodeModel({ ...tinyParts(), termBits: 4 })).toThrow(/does not fit in 4 bits/);
  });

  it('gives the same bytes for the same parts', () => {
    expect(encodeModel(tinyParts())).toEqual(encodeModel(tinyParts()));
  });

  it('rejects a weights file that does not match its declared hash', () => {
    const files = encodeModel(tinyParts());
    const corrupt = Uint8Array.from(files.weights);
    corrupt[10] = (corrupt[10] as number) ^ 0xff;

    expect(() => decodeModel(files.header, corrupt, files.vocab, TOKENIZER_VERSION)).toThrow(
      ClassifierModelError,
    );
  });

  it('rejects a truncated weights file, naming the lengths', () => {
    const files = encodeModel(tinyParts());

    expect(() => decodeModel(files.header, files.weights.slice(1), files.vocab, TOKENIZER_VERSION)).toThrow(
      /has \d+ bytes, the header declares \d+/,
    );
  });

  it('rejects a header that is not JSON or breaks the schema', () => {
    const files = encodeModel(tinyParts());

    expect(() => decodeModel('{', files.weights, files.vocab, TOKENIZER_VERSION)).toThrow(
      ClassifierModelError,
    );
    const header = { ...JSON.parse(files.header), topK: 0 };
    expect(() => decodeModel(JSON.stringify(header), files.weights, files.vocab, TOKENIZER_VERSION)).toThrow(
      /topK/,
    );
  });

  it('rejects a vocabulary with a repeated or an empty line, naming the line', () => {
    const repeated = encodeModel({ ...tinyParts(), terms: ['image', 'qubit', 'image'] });
    const empty = encodeModel({ ...tinyParts(), terms: ['image', '', 'qubit'] });

    expect(() => decodeModel(repeated.header, repeated.weights, repeated.vocab, TOKENIZER_VERSION)).toThrow(
      new ClassifierModelError('vocabulary line 3 is empty or repeated'),
    );
    expect(() => decodeModel(empty.header, empty.weights, empty.vocab, TOKENIZER_VERSION)).toThrow(
      new ClassifierModelError('vocabulary line 2 is empty or repeated'),
    );
  });

  /** The tiny model decoded with `text` as its vocabulary, the header's hash of it updated to match. */
  const decodeWithVocabulary = (text: string) => {
    const files = encodeModel(tinyParts());
    const vocab = new TextEncoder().encode(text);
    const header = {
      ...JSON.parse(files.header),
      vocab: { path: MODEL_FILES.vocab, bytes: vocab.byteLength, sha256: sha256Hex(vocab) },
    };
    return () => decodeModel(JSON.stringify(header), files.weights, vocab, TOKENIZER_VERSION);
  };

  it('rejects a vocabulary with more lines than the header declares terms', () => {
    expect(decodeWithVocabulary('image\nqubit\nerror correction\nextra\n')).toThrow(
      new ClassifierModelError('vocabulary has 4 terms, the header declares 3'),
    );
  });

  it("rejects a vocabulary whose lines are not where the weights file's term table puts them", () => {
    // As many bytes and lines as 'image\nqubit\nerror correction\n', the lines of other lengths.
    expect(decodeWithVocabulary('images\nqubit\nerror correctio\n')).toThrow(
      new ClassifierModelError('vocabulary does not match the term table of weights.bin'),
    );
  });

  it('refuses to encode a term that holds a newline: vocab.txt is one term a line', () => {
    expect(() => encodeModel({ ...tinyParts(), terms: ['image', 'qubit\nerror', 'correction'] })).toThrow(
      new ClassifierModelError('term 2 holds a newline'),
    );
  });

  it('rejects a model trained with another tokeniser', () => {
    const files = encodeModel({ ...tinyParts(), tokenizer: 'other-v0' });

    expect(() => decodeModel(files.header, files.weights, files.vocab, TOKENIZER_VERSION)).toThrow(
      /tokenizer/,
    );
  });
});

describe('loadModel', () => {
  it('loads a model from a directory it is given', () => {
    const dir = writeModel(encodeModel(tinyParts()));

    expect(loadModel(dir).header.classes).toEqual(['cs.CV', 'quant-ph']);
  });

  it('throws ClassifierModelError naming the file when the model is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'classifier-empty-'));

    expect(() => loadModel(empty)).toThrow(ClassifierModelError);
    expect(() => loadModel(empty)).toThrow(/model\.json/);
  });

  it('reads the directory from CLASSIFIER_MODEL_DIR when set, else model/ beside the module', () => {
    expect(modelDirectory({ CLASSIFIER_MODEL_DIR: '/opt/model' })).toBe('/opt/model');
    expect(modelDirectory({})).toMatch(/shared\/classify\/model\/$/);
  });
});

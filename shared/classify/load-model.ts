import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from '../zod';
import { type ClassifierModel, ClassifierModelError, decodeModel, MODEL_FILES } from './model-format';
import { TOKENIZER_VERSION } from './tokenize';

const ModelEnvSchema = z.object({
  /** Directory holding the model files; defaults to `model/` beside this module (or beside the bundle). */
  CLASSIFIER_MODEL_DIR: z.optional(z.string().check(z.minLength(1))),
});

/**
 * Where the model lives: `CLASSIFIER_MODEL_DIR` when set, else `./model/`
 * resolved against this module's URL. From source that is
 * `shared/classify/model/`; in a Lambda bundle (one `index.mjs` with the model
 * directory copied next to it) it is `model/` beside the bundle.
 */
export function modelDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = ModelEnvSchema.safeParse(env);
  if (!parsed.success) throw new ClassifierModelError('CLASSIFIER_MODEL_DIR must be a non-empty path');
  return parsed.data.CLASSIFIER_MODEL_DIR ?? fileURLToPath(new URL('./model/', import.meta.url));
}

function readModelFile(dir: string, name: string): Buffer {
  const path = `${dir.replace(/\/+$/, '')}/${name}`;
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ClassifierModelError(`cannot read classifier model file ${path}: ${reason}`, { cause: error });
  }
}

/**
 * Reads and checks the model in `dir` (default {@link modelDirectory}).
 * Throws {@link ClassifierModelError} when a file is missing or unreadable, the
 * header is invalid, or a data file does not match the header's length and hash.
 */
export function loadModel(dir: string = modelDirectory()): ClassifierModel {
  const header = readModelFile(dir, MODEL_FILES.header).toString('utf8');
  const weights = readModelFile(dir, MODEL_FILES.weights);
  const vocab = readModelFile(dir, MODEL_FILES.vocab);
  return decodeModel(header, weights, vocab, TOKENIZER_VERSION);
}

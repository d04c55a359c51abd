/**
 * The arXiv-category classifier: `classifyPaper` gives a paper its categories,
 * from the source when it has them, else from the trained model in `model/`
 * (see `scripts/train-classifier.ts`), loaded once on first use.
 */
import type { Classification } from '../classification';
import { type ClassifyInput, fromSourceCategories, predictWithModel } from './classifier';
import { loadModel } from './load-model';
import type { ClassifierModel } from './model-format';

export type { ClassifyInput } from './classifier';
export { modelDirectory } from './load-model';
export { type ClassifierModel, ClassifierModelError } from './model-format';
export { type CategoryInfo, canonicalCategory, describeCategory } from './taxonomy';

let model: ClassifierModel | undefined;

/**
 * Loads the model once (from `CLASSIFIER_MODEL_DIR` or `model/` beside this
 * module) and keeps it. Call it at module scope in a handler to pay the load
 * during the cold start. Throws `ClassifierModelError` when the model is
 * missing or corrupt; a later call tries again.
 */
export function loadClassifier(): ClassifierModel {
  model ??= loadModel();
  return model;
}

/** Identifies the model (`<name>-<hash>`), so stored results can be recomputed when it changes. Loads the model. */
export function classifierVersion(): string {
  return loadClassifier().version;
}

/**
 * Classifies one paper.
 *
 * - With non-empty `sourceCategories`: those, as given (order kept, primary
 *   first, blanks and repeats dropped), each scored 1 and assigned, named from
 *   the taxonomy (an unknown code is named by itself); `categorySource: 'source'`.
 * - Otherwise: the model's five most likely categories, ranked, with calibrated
 *   scores (the chance the category is one of the paper's arXiv categories),
 *   `assigned` when the score passes the calibrated threshold (the first
 *   always is), and the terms of the paper that pushed each one up;
 *   `categorySource: 'model'`.
 *
 * Pure apart from the one-time model load; the same input always gives the same
 * output. Throws `ClassifierModelError` only when the model cannot be loaded.
 */
export function classifyPaper(input: ClassifyInput): Classification {
  const loaded = loadClassifier();
  if (input.sourceCategories?.length) {
    const fromSource = fromSourceCategories(input.sourceCategories, loaded.version);
    if (fromSource) return fromSource;
  }
  return predictWithModel(loaded, input.title, input.abstract);
}

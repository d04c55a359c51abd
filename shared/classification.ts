import { NonEmptyStringSchema } from './common-schemas';
import * as z from './zod';

/**
 * The classifier's output for one paper, as stored with it and returned by the
 * query API. Defined apart from the model so the store and the API depend on the
 * shape, not on the inference code.
 */
export const CategoryScoreSchema = z.object({
  /** arXiv category code, e.g. `cs.CV`. */
  code: NonEmptyStringSchema,
  /** Human name, e.g. "Computer Vision and Pattern Recognition". */
  name: NonEmptyStringSchema,
  /** arXiv group, e.g. "Computer Science", "Physics". */
  group: NonEmptyStringSchema,
  /** Behaves like a probability: calibrated on held-out papers. 1 for categories the source gave. */
  score: z.number().check(z.minimum(0), z.maximum(1)),
  /** Passes the calibrated threshold (the top category always does). */
  assigned: z.boolean(),
  /** The terms of the paper that pushed this category up most, strongest first. */
  terms: z.array(z.string()),
});
export type CategoryScore = z.infer<typeof CategoryScoreSchema>;

export const ClassificationSchema = z.object({
  /** Ranked, most likely first: the model's top five, or the source's own list. */
  categories: z.array(CategoryScoreSchema).check(z.minLength(1)),
  primaryCategory: NonEmptyStringSchema,
  /** Identifies the model, so results can be recomputed when it changes. */
  classifierVersion: NonEmptyStringSchema,
  /**
   * `source` when the feed gave the categories (arXiv feeds), `arxiv` when the arXiv API did
   * (an enriched paper), `model` when predicted.
   */
  categorySource: z.enum(['source', 'model', 'arxiv']),
});
export type Classification = z.infer<typeof ClassificationSchema>;

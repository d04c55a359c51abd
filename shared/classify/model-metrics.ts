import * as z from 'zod';

/** The schema of a model's `metrics.json` (see `model-format.ts`, which re-exports it). */

const RateSchema = z.number().min(0).max(1);

const FiguresSchema = z.object({
  papers: z.number().int().positive(),
  top1IsPrimary: RateSchema,
  top1InCategories: RateSchema,
  primaryInTop3: RateSchema,
  assignedMicroF1: RateSchema,
  assignedPrecision: RateSchema,
  assignedRecall: RateSchema,
  meanAssigned: z.number().nonnegative(),
  /** Mean calibrated score minus observed rate, per score decile: near zero when calibrated. */
  calibrationError: z.number().nonnegative(),
});

/** Validation figures of a trained model, as the training script printed them. */
export const ModelMetricsSchema = z.object({
  /** The version of the model these figures are of. */
  model: z.string().min(1),
  split: z.object({ train: z.number().int(), calibration: z.number().int(), validation: z.number().int() }),
  /** The whole validation split. */
  validation: FiguresSchema,
  /**
   * The evaluation sample committed for the tests (a subset of the validation
   * split, written by the training script with the model): its path from the
   * repository root and the model's figures on it.
   */
  sample: z.object({ path: z.string().min(1), figures: FiguresSchema }),
});
export type ModelMetrics = z.infer<typeof ModelMetricsSchema>;

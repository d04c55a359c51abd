import metrics from '../classify/model/metrics.json' with { type: 'json' };
import type { ModelMetrics } from '../classify/model-metrics';
import { percentage, type ValidationFigures } from './live-quality';

/**
 * The committed model's `metrics.json`, bundled into whatever imports it (a few hundred bytes of
 * JSON). It is code, not input: fixed when the bundle is built, so it is checked where it changes,
 * not at run time. The type checker holds it to {@link ModelMetrics} here, and
 * `test/classify/model-format.test.ts` parses it with `ModelMetricsSchema` (ranges included).
 * That keeps the schema, and the zod objects it is built of, out of the query function's cold start.
 */
const shippedMetrics: ModelMetrics = metrics;

/**
 * The shipped model's validation figures, read from the committed model's `metrics.json` (what the
 * training script measured on its validation split), so the live figures, the query API and the
 * drift alarm's threshold compare against one source and nothing is written down twice.
 */
export function shippedValidationFigures(): ValidationFigures {
  const { model, validation } = shippedMetrics;
  return {
    model,
    papers: validation.papers,
    percent: {
      top1IsPrimary: percentage(validation.top1IsPrimary, 1),
      top1InCategories: percentage(validation.top1InCategories, 1),
      primaryInTop3: percentage(validation.primaryInTop3, 1),
    },
  };
}

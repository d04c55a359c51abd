import metrics from '../classify/model/metrics.json' with { type: 'json' };
import { ModelMetricsSchema } from '../classify/model-metrics';
import { percentage, type ValidationFigures } from './live-quality';

/**
 * The shipped model's validation figures, read from the committed model's `metrics.json` (what the
 * training script measured on its validation split), so the live figures, the query API and the
 * drift alarm's threshold compare against one source and nothing is written down twice. Bundled
 * into whatever imports it (a few hundred bytes of JSON), checked when first read.
 */
export function shippedValidationFigures(): ValidationFigures {
  const { model, validation } = ModelMetricsSchema.parse(metrics);
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

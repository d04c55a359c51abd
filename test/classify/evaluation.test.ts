/**
 * The committed model, evaluated for real: on the evaluation sample the
 * training script draws from the validation split (papers the model never
 * trained on) and commits beside the tests, and, where the labelled data set
 * is present, on the whole validation split.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  evaluateModel,
  type LabelledPaper,
  parseLabelledPaper,
  splitOf,
} from '../../shared/classify/evaluate';
import { loadModel, modelDirectory } from '../../shared/classify/load-model';
import { MODEL_FILES, ModelMetricsSchema } from '../../shared/classify/model-format';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/data/arxiv-labeled/train.jsonl.gz', import.meta.url));

const model = loadModel(modelDirectory({}));
const metrics = ModelMetricsSchema.parse(
  JSON.parse(readFileSync(`${modelDirectory({})}/${MODEL_FILES.metrics}`, 'utf8')),
);

function readJsonlGz(path: string): LabelledPaper[] {
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .flatMap((line, i) => (line.trim() ? [parseLabelledPaper(line, `${path}:${i + 1}`)] : []));
}

const sample = readJsonlGz(`${REPO_ROOT}${metrics.sample.path}`);

describe('the committed model on the evaluation sample', () => {
  it('is a sample of validation papers only, none seen in training', () => {
    expect(sample.length).toBe(1500);
    expect(new Set(sample.map((p) => p.id)).size).toBe(sample.length);
    expect(sample.filter((p) => splitOf(p.id) !== 'validation')).toEqual([]);
  });

  it('beats the issue’s reference baselines (naive Bayes, logistic regression), with a sampling margin', () => {
    const figures = evaluateModel(model, sample);

    // Issue 3's references: multinomial NB ≈ 67/80/87, L2 logistic regression ≈ 69/81/90 (top-1 == primary,
    // top-1 in categories, primary in top 3). With 1,500 papers one standard error is about 1.2 points.
    expect(figures.top1IsPrimary).toBeGreaterThanOrEqual(0.68);
    expect(figures.top1InCategories).toBeGreaterThanOrEqual(0.81);
    expect(figures.primaryInTop3).toBeGreaterThanOrEqual(0.89);
    expect(figures.assignedMicroF1).toBeGreaterThanOrEqual(0.55);
  });

  it('is a check a broken model fails (classes shifted by one)', () => {
    const classes = [...model.header.classes.slice(1), model.header.classes[0] as string];
    const broken = { ...model, header: { ...model.header, classes } };

    const figures = evaluateModel(broken, sample);

    expect(figures.top1IsPrimary).toBeLessThan(0.68);
    expect(figures.top1InCategories).toBeLessThan(0.81);
    expect(figures.primaryInTop3).toBeLessThan(0.89);
  });

  it('gives exactly the figures the training script recorded for it', () => {
    expect(evaluateModel(model, sample)).toEqual(metrics.sample.figures);
  });
});

describe.skipIf(!existsSync(DATA))(
  'the committed model on the whole validation split (needs the data set)',
  () => {
    it('gives exactly the validation figures the training script printed and recorded', () => {
      const validation = readJsonlGz(DATA).filter((p) => splitOf(p.id) === 'validation');

      expect(validation.length).toBe(metrics.split.validation);
      expect(evaluateModel(model, validation)).toEqual(metrics.validation);
    }, 120_000);
  },
);

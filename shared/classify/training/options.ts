/** What a training run is asked to do: its options, checked, and the defaults that build the committed model. */
import * as z from '../../zod';

/** `--extra none`: train on the first data file alone. */
export const NO_EXTRA = 'none';

/** A number written as text. Unlike `z.coerce.number()`, `--seed=` is an error, not seed 0. */
const numberText = z.pipe(
  z.string().check(z.trim(), z.regex(/^-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?$/i, { error: 'must be a number' })),
  z.transform(Number),
);

export const TrainingOptionsSchema = z.object({
  data: z.string().check(z.minLength(1)),
  /** More labelled papers, all for training (`none`: train on `data` alone). */
  extra: z.string().check(z.minLength(1)),
  rebalance: z.pipe(numberText, z.number().check(z.minimum(0), z.maximum(1))),
  out: z.string().check(z.minLength(1)),
  vocab: z.pipe(numberText, z.number().check(z.int(), z.positive())),
  select: z.enum(['df', 'mi']),
  hidden: z.pipe(numberText, z.number().check(z.int(), z.positive())),
  members: z.pipe(numberText, z.number().check(z.int(), z.positive())),
  termBits: z.union([z.literal(4), z.literal(8)], { error: 'must be 4 or 8' }),
  titleRepeat: z.pipe(numberText, z.number().check(z.int(), z.minimum(1), z.maximum(10))),
  listedWeight: z.union([z.literal('auto'), z.pipe(numberText, z.number().check(z.minimum(0)))], {
    error: 'must be auto or a number from 0',
  }),
  epochs: z.pipe(numberText, z.number().check(z.int(), z.positive())),
  averageFrom: z.pipe(numberText, z.number().check(z.int(), z.positive())),
  seed: z.pipe(numberText, z.number().check(z.int())),
  sample: z.string().check(z.minLength(1)),
  dryRun: z.boolean(),
  check: z.boolean(),
  refit: z.boolean(),
  teacher: z.pipe(numberText, z.number().check(z.int(), z.minimum(0))),
  teacherEpochs: z.pipe(numberText, z.number().check(z.int(), z.positive())),
  distill: z.pipe(numberText, z.number().check(z.minimum(0), z.maximum(1))),
  temperature: z.pipe(numberText, z.number().check(z.positive())),
});
export type TrainingOptions = z.infer<typeof TrainingOptionsSchema>;

/**
 * The committed model is the defaults: 33,000 terms chosen by informativeness
 * (`--select mi`), three networks of 128 hidden units side by side, 4-bit term
 * weights, title terms counted once, 8 epochs averaged from epoch 5, the
 * listed head's weight chosen on the calibration split (0.25 this time).
 * Every other setting tried, with its figures and why it was not kept, is in
 * shared/classify/EXPERIMENTS.md: record new trials there.
 */
export const TRAINING_DEFAULTS = {
  vocab: 33000,
  select: 'mi',
  /** With --extra: the best of 0, 0.5 and 1 on the check papers (EXPERIMENTS.md). */
  rebalance: 0.5,
  hidden: 128,
  members: 3,
  termBits: 4,
  titleRepeat: 1,
  listedWeight: 'auto',
  epochs: 8,
  averageFrom: 5,
  teacher: 0,
  teacherEpochs: 8,
  distill: 0.5,
  temperature: 1,
} as const;

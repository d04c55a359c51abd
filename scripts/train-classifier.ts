/**
 * `npm run train:classifier [-- options]`: trains the arXiv-category classifier
 * on the labelled papers and writes the model to `shared/classify/model/`.
 *
 * Deterministic: the same data and options give the same model bytes (seeded
 * initialisation, dropout and shuffles, a split by hash of the paper id, no
 * clock or other randomness).
 *
 * This file only reads and checks the command line; the training is
 * `trainClassifier` in `shared/classify/training/` (data and class weights,
 * vocabulary, networks, calibration, each in its own module), steps:
 *
 * 1. Split by SHA-256 of the id: 10% validation, 5% calibration, 85% training.
 *    The `--extra` papers (none by default, so the defaults rebuild the
 *    committed model) all join the training split, weighted by class with
 *    `--rebalance`.
 * 2. Features: uni- and bigrams (the shared tokeniser), title terms counted
 *    `--title-repeat` times, vocabulary the `--vocab` terms of the training split most
 *    informative of the categories (`--select mi`, the default) or of highest document
 *    frequency (`--select df`), sublinear tf-idf, L2-normalised.
 * 3. Model: one hidden ReLU layer over the terms, feeding two heads: a softmax
 *    for the primary category and a sigmoid per category for "is listed"
 *    (every category of the paper). The listed head is what lets the model
 *    learn from cross-lists: it shapes the shared hidden layer, and its
 *    log-probability joins the primary one in the ranking. Trained with
 *    dropout on the terms and the hidden units, Adagrad (term weights) and
 *    Adam (heads); the weights are averaged over the last epochs.
 *    `--members` such networks (seeds seed, seed+1, …) are trained on the same
 *    features and shipped as one network: hidden layers side by side, heads
 *    divided by the number of members, so the model's logits are the members'
 *    mean (an ensemble at the cost of a wider hidden layer).
 * 4. Primary-head weights centred across classes (the softmax does not
 *    change, and a term's contribution then reads as "for this class rather
 *    than the average one"); term weights quantised to `--term-bits` (4 or 8)
 *    signed integers, one scale per term.
 * 5. Calibration on the calibration split, with the quantised model: the
 *    weight of the listed head in the ranking (unless `--listed-weight` fixes it),
 *    Platt scaling of the ranking score to the chance the category is among
 *    the paper's, and the global threshold for `assigned` that maximises
 *    micro-F1 there.
 * 6. Written, read back through the loader, and evaluated on the validation split.
 * 7. The evaluation sample for the tests (1,500 validation papers, chosen by
 *    hash of the id) written to test/fixtures/classify/, its figures recorded
 *    in metrics.json beside the validation ones.
 *
 * Options: --data <train.jsonl.gz> --out <dir> --sample <jsonl.gz> --vocab <terms> --select <df|mi>
 * --hidden <units per member> --members <n> --term-bits <4|8> --title-repeat <n>
 * --listed-weight <w|auto> --epochs <n> --average-from <epoch>
 * --seed <n> --dry-run (no files written)
 * --teacher <n> --teacher-epochs <n> --distill <w> --temperature <t>: distillation,
 *   off by default (teacher 0): n teacher networks trained first on the same
 *   papers, the student's targets mixed from the labels and their outputs.
 * --check: choose settings without the validation split: train on 90% of the
 *   training split (a tenth held out by hash of the id), calibrate as usual, and
 *   print the figures on the calibration split plus the held-out tenth for
 *   several listed weights; no validation figures, no files written.
 * --refit: after calibrating, retrain the networks (same vocabulary, classes and
 *   seeds) on the training and calibration splits together and keep the
 *   calibration fitted on the train-only networks.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OverlappingDataError } from '../shared/classify/training/data';
import { log } from '../shared/classify/training/log';
import {
  NO_EXTRA,
  TRAINING_DEFAULTS,
  type TrainingOptions,
  TrainingOptionsSchema,
} from '../shared/classify/training/options';
import { trainClassifier } from '../shared/classify/training/train';
import {
  isHelpRequest,
  type OptionValues,
  readCommandLine,
  resolveUserPath,
  UsageError,
} from '../shared/command-line';

/** The evaluation sample committed for the tests. */
const SAMPLE_PATH = 'test/fixtures/classify/validation-sample.jsonl.gz';

/** The labelled papers are not in the repository: they sit beside it, in the shared data folder. */
const DEFAULT_DATA = fileURLToPath(
  new URL('../../shared/data/arxiv-labeled/train.jsonl.gz', import.meta.url),
);
const DEFAULT_SEED = '20260601';

const COMMAND_LINE = {
  data: { type: 'string', default: DEFAULT_DATA },
  extra: { type: 'string', default: NO_EXTRA },
  rebalance: { type: 'string', default: String(TRAINING_DEFAULTS.rebalance) },
  out: { type: 'string', default: fileURLToPath(new URL('../shared/classify/model/', import.meta.url)) },
  vocab: { type: 'string', default: String(TRAINING_DEFAULTS.vocab) },
  select: { type: 'string', default: TRAINING_DEFAULTS.select },
  hidden: { type: 'string', default: String(TRAINING_DEFAULTS.hidden) },
  members: { type: 'string', default: String(TRAINING_DEFAULTS.members) },
  'term-bits': { type: 'string', default: String(TRAINING_DEFAULTS.termBits) },
  'title-repeat': { type: 'string', default: String(TRAINING_DEFAULTS.titleRepeat) },
  'listed-weight': { type: 'string', default: TRAINING_DEFAULTS.listedWeight },
  epochs: { type: 'string', default: String(TRAINING_DEFAULTS.epochs) },
  'average-from': { type: 'string', default: String(TRAINING_DEFAULTS.averageFrom) },
  seed: { type: 'string', default: DEFAULT_SEED },
  sample: { type: 'string', default: fileURLToPath(new URL(`../${SAMPLE_PATH}`, import.meta.url)) },
  'dry-run': { type: 'boolean', default: false },
  check: { type: 'boolean', default: false },
  refit: { type: 'boolean', default: false },
  teacher: { type: 'string', default: String(TRAINING_DEFAULTS.teacher) },
  'teacher-epochs': { type: 'string', default: String(TRAINING_DEFAULTS.teacherEpochs) },
  distill: { type: 'string', default: String(TRAINING_DEFAULTS.distill) },
  temperature: { type: 'string', default: String(TRAINING_DEFAULTS.temperature) },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const HELP = `usage: npm run train:classifier [-- options]

Trains the arXiv-category classifier on labelled papers and writes the model
(the header of scripts/train-classifier.ts describes each step).

  --data <file.jsonl.gz>    the labelled papers (default ../shared/data/arxiv-labeled/train.jsonl.gz,
                            beside the repository: the data set is not part of it)
  --extra <file.jsonl.gz>   more labelled papers, all for training (such as ../shared/data/arxiv-labeled/
                            extra.jsonl.gz); the calibration, check and validation papers stay drawn from
                            --data (default none: --data alone, which rebuilds the committed model)
  --rebalance <0..1>        weight papers by class towards the class mix of --data's training papers:
                            1 fully, 0 not at all (default ${TRAINING_DEFAULTS.rebalance})
  --out <dir>               where the model goes (default shared/classify/model/)
  --sample <file.jsonl.gz>  where the evaluation sample for the tests goes (default ${SAMPLE_PATH})
  --dry-run                 train and evaluate, write no files
  --check                   choose settings without the validation split: train on 90% of the training
                            split, print figures on the held-out tenth and the calibration split for
                            several listed weights; writes nothing
  --refit                   after calibrating, retrain on the training and calibration splits together
  --vocab <terms>           vocabulary size (default ${TRAINING_DEFAULTS.vocab})
  --select <df|mi>          vocabulary by mutual information with the categories, or by document
                            frequency (default ${TRAINING_DEFAULTS.select})
  --title-repeat <n>        times a title term is counted (default ${TRAINING_DEFAULTS.titleRepeat})
  --hidden <units>          hidden units per member (default ${TRAINING_DEFAULTS.hidden})
  --members <n>             networks trained with seeds seed, seed+1, ... and shipped as one (default ${TRAINING_DEFAULTS.members})
  --term-bits <4|8>         bits per quantised term weight (default ${TRAINING_DEFAULTS.termBits})
  --listed-weight <w|auto>  weight of the listed head in the ranking (default ${TRAINING_DEFAULTS.listedWeight}: calibrated)
  --epochs <n>              training epochs (default ${TRAINING_DEFAULTS.epochs})
  --average-from <epoch>    average the weights from this epoch on (default ${TRAINING_DEFAULTS.averageFrom})
  --seed <n>                seed of initialisation, dropout and shuffles (default ${DEFAULT_SEED})
  --teacher <n>             distillation: teacher networks trained first (default ${TRAINING_DEFAULTS.teacher}: off)
  --teacher-epochs <n>      epochs of each teacher (default ${TRAINING_DEFAULTS.teacherEpochs})
  --distill <w>             share of the teachers' outputs in the targets (default ${TRAINING_DEFAULTS.distill})
  --temperature <t>         distillation temperature (default ${TRAINING_DEFAULTS.temperature})
  --help, -h                this text
`;

/** What the command line asks for: the help, a run with these options, or nothing (with why and the exit code). */
type TrainingRequest =
  | { kind: 'help' }
  | { kind: 'train'; options: TrainingOptions }
  | { kind: 'refused'; problem: string; exitCode: number };

/**
 * Reads and checks the command line, and that the data file is there, before
 * any work: a mistake costs one line on stderr, not a stack trace after the
 * first read.
 */
function trainingRequest(args: readonly string[]): TrainingRequest {
  // Help wins over any other mistake on the line, as in the papers CLI.
  if (isHelpRequest(args)) return { kind: 'help' };
  let values: OptionValues<typeof COMMAND_LINE>;
  try {
    values = readCommandLine(args, COMMAND_LINE).values;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { kind: 'refused', problem: `${error.message} (--help lists the options)`, exitCode: 2 };
  }
  if (values.help) return { kind: 'help' };
  const parsed = TrainingOptionsSchema.safeParse({
    ...values,
    // Paths the user typed: from the folder they ran npm in, not the project root npm runs us from.
    // An empty one stays empty, for the schema to refuse.
    data: values.data && resolveUserPath(values.data),
    out: values.out && resolveUserPath(values.out),
    sample: values.sample && resolveUserPath(values.sample),
    extra: values.extra && values.extra !== NO_EXTRA ? resolveUserPath(values.extra) : values.extra,
    averageFrom: values['average-from'],
    termBits: Number(values['term-bits']),
    listedWeight: values['listed-weight'],
    titleRepeat: values['title-repeat'],
    dryRun: values['dry-run'] || values.check,
    check: values.check,
    refit: values.refit,
    teacherEpochs: values['teacher-epochs'],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0]).replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    const given = Object.hasOwn(values, name) ? `, got "${values[name as keyof typeof values]}"` : '';
    return {
      kind: 'refused',
      problem: `--${name}: ${issue?.message}${given} (--help lists the options)`,
      exitCode: 2,
    };
  }
  const options = parsed.data;
  for (const [option, path] of [
    ['data', options.data],
    ['extra', options.extra],
  ] as const) {
    if (option === 'extra' && path === NO_EXTRA) continue;
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
      return {
        kind: 'refused',
        problem:
          `no labelled data at ${path}: the labelled data set is not part of the repository ` +
          `(it lives beside it, in ../shared/data/arxiv-labeled/); pass --${option} <file.jsonl.gz> to train on another file` +
          (option === 'extra' ? ', or --extra none' : ''),
        exitCode: 1,
      };
    }
  }
  return { kind: 'train', options };
}

async function main(): Promise<void> {
  const request = trainingRequest(process.argv.slice(2));
  if (request.kind === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (request.kind === 'refused') {
    log(request.problem);
    process.exitCode = request.exitCode;
    return;
  }
  process.stdout.write(await trainClassifier(request.options));
}

main().catch((error: unknown) => {
  // A data mistake is one line; anything else is a bug, with its stack.
  if (error instanceof OverlappingDataError) {
    log(`${error.name}: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  process.stderr.write(
    `train-classifier: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});

/**
 * The training script end to end, on a small synthetic labelled set (the real
 * data set is not in the repository): it must write a model the loader reads,
 * byte for byte the same on a second run, and `--check` must write nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictWithModel } from '../../shared/classify/classifier';
import { loadModel } from '../../shared/classify/load-model';
import { MODEL_FILES } from '../../shared/classify/model-format';
import { runProjectScript } from '../support/papers-cli';

/** Four fields, each with words of its own; papers mix in words every field uses. */
const FIELDS: Record<string, string[]> = {
  'quant-ph': [
    'qubit',
    'entanglement',
    'decoherence',
    'hamiltonian',
    'superconducting',
    'photon',
    'fidelity',
  ],
  'cs.CV': ['image', 'segmentation', 'pixel', 'camera', 'detection', 'video', 'convolutional'],
  'math.PR': ['martingale', 'brownian', 'stochastic', 'probability', 'random', 'walk', 'measure'],
  'astro-ph.GA': ['galaxy', 'stellar', 'redshift', 'halo', 'telescope', 'spectroscopic', 'cluster'],
};
const COMMON = ['method', 'results', 'approach', 'novel', 'analysis', 'study', 'framework', 'propose'];

/**
 * A deterministic labelled data set: `perField` papers per field, some cross-listed to the next field, ids
 * `<prefix>.NNNNN`; `only` keeps the papers of one field.
 */
function syntheticPapers(
  perField: number,
  { prefix = '2601', only }: { prefix?: string; only?: string } = {},
): string {
  const codes = Object.keys(FIELDS);
  const lines: string[] = [];
  let seed = 1;
  const next = () => {
    seed = (seed * 48271) % 2147483647;
    return seed;
  };
  const pick = (words: string[], n: number) => Array.from({ length: n }, () => words[next() % words.length]);
  codes.forEach((code, f) => {
    const words = FIELDS[code] as string[];
    for (let i = 0; i < perField; i++) {
      const other = codes[(f + 1) % codes.length] as string;
      if (only && code !== only) continue;
      const crossListed = i % 3 === 0;
      const abstract = [
        ...pick(words, 12),
        ...pick(COMMON, 6),
        ...(crossListed ? pick(FIELDS[other] as string[], 3) : []),
      ].join(' ');
      lines.push(
        JSON.stringify({
          id: `${prefix}.${String(f * 1000 + i).padStart(5, '0')}`,
          title: pick(words, 4).join(' '),
          abstract,
          categories: crossListed ? [code, other] : [code],
          primary: code,
        }),
      );
    }
  });
  return `${lines.join('\n')}\n`;
}

const train = (args: readonly string[]) => runProjectScript('scripts/train-classifier.ts', args);

const work = mkdtempSync(join(tmpdir(), 'train-classifier-'));
const data = join(work, 'train.jsonl.gz');
const small = ['--data', data, '--vocab', '200', '--hidden', '8', '--epochs', '3', '--average-from', '2'];
const run = (name: string, extra: readonly string[] = []) =>
  train([...small, '--out', join(work, name), '--sample', join(work, `${name}-sample.jsonl.gz`), ...extra]);

describe('npm run train:classifier', () => {
  beforeAll(() => {
    writeFileSync(data, gzipSync(syntheticPapers(120)));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('writes a model the loader reads, and the same bytes again from the same data', async () => {
    const [first, second] = await Promise.all([run('a', ['--select', 'mi']), run('b', ['--select', 'mi'])]);
    expect(first.stderr).toMatch(/kept \d+ by mi/);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    for (const file of Object.values(MODEL_FILES)) {
      if (file === MODEL_FILES.metrics) continue; // names its own sample path
      expect(readFileSync(join(work, 'a', file)).equals(readFileSync(join(work, 'b', file))), file).toBe(
        true,
      );
    }
    const model = loadModel(join(work, 'a'));
    expect(model.header.training.vocabularyChoice).toMatch(/--select mi/);
    expect(model.header.terms).toBeLessThanOrEqual(200);
    const prediction = predictWithModel(
      model,
      'qubit entanglement fidelity',
      'superconducting qubit hamiltonian decoherence photon method',
    );
    expect(prediction.primaryCategory).toBe('quant-ph');
    expect(first.stdout).toMatch(/top-1 == primary\s+\d+\.\d+%/);
  }, 60_000);

  it('--select mi puts the words that tell the fields apart before the words every field uses; df does not', async () => {
    const [mi, df] = await Promise.all([run('mi', ['--select', 'mi']), run('df', ['--select', 'df'])]);
    expect(mi.code).toBe(0);
    expect(df.code).toBe(0);
    const vocabulary = (name: string) =>
      readFileSync(join(work, name, MODEL_FILES.vocab), 'utf8')
        .trimEnd()
        .split('\n');
    const fieldWords = Object.values(FIELDS).flat();
    // vocab.txt lists the terms in the order they were chosen, best first.
    const lastRank = (terms: string[], words: string[]) => Math.max(...words.map((w) => terms.indexOf(w)));
    const firstRank = (terms: string[], words: string[]) =>
      Math.min(...words.map((w) => terms.indexOf(w)).map((i) => (i < 0 ? Number.POSITIVE_INFINITY : i)));

    const byInformation = vocabulary('mi');
    expect(fieldWords.filter((w) => !byInformation.includes(w))).toEqual([]);
    expect(lastRank(byInformation, fieldWords)).toBeLessThan(firstRank(byInformation, COMMON));

    const byFrequency = vocabulary('df');
    expect(COMMON.filter((w) => !byFrequency.includes(w))).toEqual([]);
    expect(lastRank(byFrequency, COMMON)).toBeLessThan(firstRank(byFrequency, fieldWords));
  }, 60_000);

  it('--check prints held-out figures and writes nothing', async () => {
    const outcome = await run('checked', ['--check']);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toMatch(/check train held-out \(\d+\): w 0: /);
    expect(existsSync(join(work, 'checked'))).toBe(false);
  }, 60_000);

  it('--extra trains on the extra papers too, while calibration, validation and the sample stay those of --data', async () => {
    const extra = join(work, 'extra.jsonl.gz');
    writeFileSync(extra, gzipSync(syntheticPapers(90, { prefix: '2602', only: 'quant-ph' })));

    const [alone, both] = await Promise.all([run('alone'), run('both', ['--extra', extra])]);

    expect(alone.code).toBe(0);
    expect(both.code).toBe(0);
    expect(both.stderr).toMatch(/; 90 extra, for training\n/);
    const metrics = (name: string) => JSON.parse(readFileSync(join(work, name, MODEL_FILES.metrics), 'utf8'));
    const [without, withExtra] = [metrics('alone'), metrics('both')];
    expect(withExtra.split.train - without.split.train).toBe(90);
    expect(withExtra.split.calibration).toBe(without.split.calibration);
    expect(withExtra.split.validation).toBe(without.split.validation);
    expect(
      readFileSync(join(work, 'both-sample.jsonl.gz')).equals(
        readFileSync(join(work, 'alone-sample.jsonl.gz')),
      ),
    ).toBe(true);
    const model = loadModel(join(work, 'both'));
    expect(model.header.training.extraPapers).toBe(90);
    expect(model.header.training.trainPapers).toBe(withExtra.split.train);
    // A new model is a new classifier version, so papers the old one classified read as stale.
    expect(model.version).not.toBe(loadModel(join(work, 'alone')).version);
  }, 60_000);

  it('--rebalance weighs down the class the extra papers grew, and only then changes the model', async () => {
    const extra = join(work, 'extra-rebalance.jsonl.gz');
    writeFileSync(extra, gzipSync(syntheticPapers(90, { prefix: '2603', only: 'quant-ph' })));

    const [plain, rebalanced] = await Promise.all([
      run('plain', ['--extra', extra, '--rebalance', '0']),
      run('rebalanced', ['--extra', extra, '--rebalance', '1']),
    ]);

    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/rebalance/);
    expect(rebalanced.code).toBe(0);
    // quant-ph went from a quarter of the training papers to two fifths: weighed down (0.65), the others up (1.2).
    const weights = /class weights from (\d+\.\d+) \((\S+)\) to (\d+\.\d+) \((\S+)\)/.exec(rebalanced.stderr);
    expect(weights?.[2]).toBe('quant-ph');
    expect(Number(weights?.[1])).toBeLessThan(0.7);
    expect(Number(weights?.[3])).toBeGreaterThan(1.15);
    expect(loadModel(join(work, 'rebalanced')).header.training.rebalance).toMatch(/\^1, mean 1$/);
    expect(
      readFileSync(join(work, 'plain', MODEL_FILES.weights)).equals(
        readFileSync(join(work, 'rebalanced', MODEL_FILES.weights)),
      ),
    ).toBe(false);
  }, 60_000);

  it('refuses an extra file that shares a paper with --data, before writing anything', async () => {
    const overlapping = join(work, 'overlapping.jsonl.gz');
    writeFileSync(overlapping, gzipSync(syntheticPapers(2, { only: 'cs.CV' })));

    const outcome = await run('overlap', ['--extra', overlapping]);

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe(
      'train-classifier: OverlappingDataError: extra paper 2601.01000 is also in the labelled data\n',
    );
    expect(existsSync(join(work, 'overlap'))).toBe(false);
  }, 60_000);

  it('refuses an unknown vocabulary choice', async () => {
    const outcome = await run('bad', ['--select', 'tfidf']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      /^train-classifier: --select: .*"mi".*, got "tfidf" \(--help lists the options\)\n$/,
    );
    expect(existsSync(join(work, 'bad'))).toBe(false);
  }, 60_000);
});

describe('npm run train:classifier, before any training', () => {
  // Should a case ever get past the checks, it trains on nothing and writes nowhere near the committed model.
  const missing = join(work, 'missing.jsonl.gz');
  const nowhere = ['--data', missing, '--out', join(work, 'never'), '--sample', join(work, 'never.jsonl.gz')];

  it('--help lists the options on stdout and exits 0', async () => {
    const [long, short] = await Promise.all([train(['--help', ...nowhere]), train(['-h'])]);

    expect(long.code).toBe(0);
    expect(long.stderr).toBe('');
    expect(long.stdout).toMatch(/^usage: npm run train:classifier/);
    for (const option of [
      '--data',
      '--extra',
      '--rebalance',
      '--out',
      '--check',
      '--refit',
      '--select',
      '--members',
      '--teacher',
    ]) {
      expect(long.stdout).toContain(`  ${option} `);
    }
    expect(short.code).toBe(0);
    expect(short.stdout).toBe(long.stdout);
  });

  it('refuses an unknown option or an empty number in one line that points to --help, exit 2', async () => {
    const [unknown, empty, helpToo] = await Promise.all([
      train(['--verbose', ...nowhere]),
      train(['--seed=', ...nowhere]),
      train(['--verbose', '--help', ...nowhere]),
    ]);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('train-classifier: unknown option "--verbose" (--help lists the options)\n');
    // An empty value is a mistake, not seed 0.
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      'train-classifier: --seed: must be a number, got "" (--help lists the options)\n',
    );
    // Asking for help wins over the other mistake.
    expect(helpToo.code).toBe(0);
    expect(helpToo.stdout).toMatch(/^usage: npm run train:classifier/);
  });

  it('says in one line which data file is missing, where the data set lives and how to name another, exit 1', async () => {
    const outcome = await train(nowhere);

    expect(outcome.code).toBe(1);
    expect(outcome.stderr.split('\n')).toEqual([
      `train-classifier: no labelled data at ${missing}: the labelled data set is not part of the repository ` +
        '(it lives beside it, in ../shared/data/arxiv-labeled/); pass --data <file.jsonl.gz> to train on another file',
      '',
    ]);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('looks for a relative --data in the folder the user ran npm in (INIT_CWD), and names the path it tried', async () => {
    const outcome = await runProjectScript(
      'scripts/train-classifier.ts',
      ['--data', 'missing.jsonl.gz', '--out', 'never', '--sample', 'never.jsonl.gz'],
      { env: { ...process.env, INIT_CWD: work } },
    );

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(
      new RegExp(`^train-classifier: no labelled data at ${missing.replaceAll('.', '\\.')}: `),
    );
    expect(existsSync(join(work, 'never'))).toBe(false);
  });
});

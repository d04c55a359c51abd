/**
 * The training modules' pure parts, on hand-made inputs: which papers train
 * and with what class weights, the Platt fit, the quantisation and the
 * centring the shipped weights go through. The whole run is tested end to end
 * in train-script.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { LabelledPaper } from '../../shared/classify/evaluate';
import { fitPlatt } from '../../shared/classify/training/calibration';
import {
  OverlappingDataError,
  rebalancingWeights,
  withExtraPapers,
} from '../../shared/classify/training/data';
import { centreAcrossClasses, quantiseRows, rng } from '../../shared/classify/training/network';

const paper = (id: string, ...categories: string[]): LabelledPaper => ({
  id,
  title: 'a title',
  abstract: 'an abstract',
  categories,
});
const papers = (prefix: string, n: number, ...categories: string[]) =>
  Array.from({ length: n }, (_, i) => paper(`${prefix}.${i}`, ...categories));

describe('withExtraPapers', () => {
  it('puts the extra papers after the original ones', () => {
    const original = papers('2601', 2, 'cs.CV');
    const extra = papers('2602', 3, 'quant-ph');

    expect(withExtraPapers(original, extra, []).map((p) => p.id)).toEqual([
      '2601.0',
      '2601.1',
      '2602.0',
      '2602.1',
      '2602.2',
    ]);
  });

  it('refuses an extra paper that is a held-out paper, a training paper or repeated', () => {
    const original = papers('2601', 2, 'cs.CV');
    const heldOut = [paper('2609.1', 'math.PR')];

    expect(() => withExtraPapers(original, [paper('2609.1', 'cs.CV')], heldOut)).toThrow(
      new OverlappingDataError('extra paper 2609.1 is also in the labelled data'),
    );
    expect(() => withExtraPapers(original, [paper('2601.1', 'cs.CV')], heldOut)).toThrow(
      OverlappingDataError,
    );
    expect(() =>
      withExtraPapers(original, papers('2602', 1, 'x').concat(papers('2602', 1, 'y')), []),
    ).toThrow(/extra paper 2602\.0 /);
  });
});

describe('rebalancingWeights', () => {
  const classIndex = new Map([
    ['cs.CV', 0],
    ['math.PR', 1],
    ['quant-ph', 2],
  ]);
  // Originally an even mix; the extra papers triple cs.CV and add a little quant-ph.
  const original = [
    ...papers('o-cv', 40, 'cs.CV'),
    ...papers('o-pr', 40, 'math.PR'),
    ...papers('o-q', 40, 'quant-ph'),
  ];
  const train = [...original, ...papers('x-cv', 80, 'cs.CV', 'math.PR'), ...papers('x-q', 10, 'quant-ph')];
  const weightedShares = (weights: Float32Array) => {
    const mass = [0, 0, 0];
    train.forEach((p, i) => {
      const c = classIndex.get(p.categories[0] as string) as number;
      mass[c] = (mass[c] as number) + (weights[i] as number);
    });
    return mass.map((m) => m / train.length);
  };

  it('at strength 1 trains, by weight, on the original class mix, at mean weight 1', () => {
    const reported: string[] = [];
    const weights = rebalancingWeights(original, train, classIndex, 1, (line) => reported.push(line));

    expect(weights).toHaveLength(train.length);
    expect(weights.reduce((s, w) => s + w, 0) / weights.length).toBeCloseTo(1, 5);
    for (const share of weightedShares(weights)) expect(share).toBeCloseTo(1 / 3, 2);
    // The class is what counts (the primary), not the cross-list nor which file the paper came from.
    expect(weights[0]).toBe(weights[120]);
    expect(weights[0] as number).toBeLessThan(weights[40] as number);
    expect(reported).toEqual([
      expect.stringMatching(/^rebalance 1: class weights from \S+ \(cs\.CV\) to \S+ \((math\.PR|quant-ph)\)/),
    ]);
  });

  const quiet = () => {};

  it('at strength 0.5 goes half way (in log weight), and at 0 leaves every paper at 1', () => {
    const full = rebalancingWeights(original, train, classIndex, 1, quiet);
    const half = rebalancingWeights(original, train, classIndex, 0.5, quiet);
    const none = rebalancingWeights(original, train, classIndex, 0, quiet);

    expect([...none]).toEqual(train.map(() => 1));
    const ratio = (w: Float32Array) => (w[0] as number) / (w[40] as number);
    expect(ratio(half)).toBeCloseTo(Math.sqrt(ratio(full)), 5);
  });
});

describe('fitPlatt', () => {
  it('recovers the slope and intercept of outcomes drawn from a known sigmoid', () => {
    const random = rng(7);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = random() * 8 - 6;
      xs.push(x);
      ys.push(random() < 1 / (1 + Math.exp(-(0.7 * x + 1.5))) ? 1 : 0);
    }

    const { slope, intercept } = fitPlatt(xs, ys);

    // 20,000 outcomes: the sampling error is a few hundredths.
    expect(Math.abs(slope - 0.7)).toBeLessThan(0.05);
    expect(Math.abs(intercept - 1.5)).toBeLessThan(0.1);
  });
});

describe('quantiseRows', () => {
  it('maps each row to signed integers on its own scale, the largest weight to the top level', () => {
    const W = Float32Array.from([0.5, -0.25, 0.1, 0, -4, 2, 1, 0.3, 0, 0, 0, 0]);

    for (const [bits, levels] of [
      [4, 7],
      [8, 127],
    ] as const) {
      const { scale, weights } = quantiseRows(W, 3, 4, bits);

      expect(weights[0]).toBe(levels);
      expect(weights[4]).toBe(-levels);
      expect([...weights.subarray(8)]).toEqual([0, 0, 0, 0]);
      expect(scale[2]).toBe(1);
      for (let i = 0; i < 8; i++) {
        const s = scale[Math.floor(i / 4)] as number;
        expect(Math.abs((weights[i] as number) * s - (W[i] as number))).toBeLessThanOrEqual(s / 2 + 1e-7);
      }
    }
  });
});

describe('centreAcrossClasses', () => {
  it('makes every row and the bias sum to zero across classes without changing any softmax', () => {
    const W = Float64Array.from([1, 2, 6, -1, 0, 4]);
    const bias = Float64Array.from([0.5, 0, 2]);
    const [centred, centredBias] = centreAcrossClasses(W, bias, 2, 3) as [Float32Array, Float32Array];

    for (const row of [centred.subarray(0, 3), centred.subarray(3, 6), centredBias])
      expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(0, 6);
    const softmax = (logits: number[]) => {
      const e = logits.map((l) => Math.exp(l));
      const sum = e.reduce((s, x) => s + x, 0);
      return e.map((x) => x / sum);
    };
    const logits = (w: ArrayLike<number>, b: ArrayLike<number>, hidden: number[]) =>
      [0, 1, 2].map(
        (c) => (b[c] as number) + hidden.reduce((s, a, h) => s + a * (w[h * 3 + c] as number), 0),
      );
    const hidden = [0.3, 1.2];
    const before = softmax(logits(W, bias, hidden));
    const after = softmax(logits(centred, centredBias, hidden));
    for (const [c, p] of after.entries()) expect(p).toBeCloseTo(before[c] as number, 6);
  });
});

/** Fitting the ranking score to the chance that a category is one of the paper's. */

/** Platt scaling: fits σ(a·x + b) to 0/1 outcomes by Newton's method with step halving. */
export function fitPlatt(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const nll = (a: number, b: number) => {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) {
      const m = a * (xs[i] as number) + b;
      // -log σ(m) for y=1, -log(1-σ(m)) for y=0, computed stably.
      const s = ys[i] ? -m : m;
      sum += s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
    }
    return sum;
  };
  let a = 1;
  let b = 0;
  let current = nll(a, b);
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      const p = 1 / (1 + Math.exp(-(a * x + b)));
      const r = p - (ys[i] as number);
      const w = p * (1 - p);
      ga += r * x;
      gb += r;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    let da = det > 0 ? (hbb * ga - hab * gb) / det : ga * 1e-3;
    let db = det > 0 ? (haa * gb - hab * ga) / det : gb * 1e-3;
    let step = 1;
    let next = nll(a - da, b - db);
    while (next > current && step > 1e-6) {
      step /= 2;
      da /= 2;
      db /= 2;
      next = nll(a - da, b - db);
    }
    if (next > current) break;
    a -= da;
    b -= db;
    const improvement = current - next;
    current = next;
    if (improvement < 1e-9 * xs.length) break;
  }
  return { slope: a, intercept: b };
}

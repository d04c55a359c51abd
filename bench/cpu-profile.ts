/**
 * Splits a V8 CPU profile (the inspector's `Profiler.stop`, or a `--cpu-prof` file) between the
 * local stand-ins and the rest: a sample counts for the stand-ins when any frame of its stack runs
 * a script of theirs, so the SDK code dynalite's answer wakes up counts as ours, and dynalite's
 * work under our event loop as theirs.
 */

export interface ProfileNode {
  id: number;
  callFrame: { url: string };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  /** Microseconds since each sample's predecessor; the first one's, since `startTime`. */
  timeDeltas?: number[];
  /** Microseconds on the monotonic clock `process.hrtime` reads, the same in every process. */
  startTime: number;
}

/** Scripts of the stand-ins: dynalite, fauxqs and the modules they run on, and our own front and journal. */
export const STAND_IN_SCRIPTS: readonly RegExp[] = [
  /node_modules\/(dynalite|fauxqs|fastify|@fastify|avvio|find-my-way|light-my-request|toad-cache|valibot|level|memory-level|classic-level|abstract-level|level-[a-z-]+|lazy|big\.js|buffer-crc32|lock|async|once)\//,
  /local\/(dynamo-transactions|durable-fauxqs)\.ts/,
  /local\/dynalite-worker\.mjs/,
];

/**
 * The share of `profile`'s samples (those running a script, not idle or the collector) whose
 * stack holds a frame of `scripts`; only samples taken within `window` (hrtime microseconds,
 * inclusive) when given. NaN when no sample counts.
 */
export function standInShare(
  profile: CpuProfile,
  scripts: readonly RegExp[] = STAND_IN_SCRIPTS,
  window?: { fromUs: number; toUs: number },
): number {
  const { standIn, total } = standInSamples(profile, scripts, window);
  return total === 0 ? Number.NaN : standIn / total;
}

/**
 * The samples {@link standInShare} counts, and how many of them are the stand-ins': to add up the
 * profiles of several threads (`--cpu-prof` writes one per thread; the local DynamoDB runs on a
 * thread of its own, `local/dynalite-thread.ts`).
 */
export function standInSamples(
  profile: CpuProfile,
  scripts: readonly RegExp[] = STAND_IN_SCRIPTS,
  window?: { fromUs: number; toUs: number },
): { standIn: number; total: number } {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const isStandIn = new Map<number, boolean>();
  const standIn = (id: number): boolean => {
    const known = isStandIn.get(id);
    if (known !== undefined) return known;
    const url = byId.get(id)?.callFrame.url ?? '';
    const up = parent.get(id);
    const answer = scripts.some((pattern) => pattern.test(url)) || (up !== undefined && standIn(up));
    isStandIn.set(id, answer);
    return answer;
  };
  let at = profile.startTime;
  const samples = (profile.samples ?? []).filter((id, i) => {
    at += profile.timeDeltas?.[i] ?? 0;
    const inWindow = !window || (at >= window.fromUs && at <= window.toUs);
    return inWindow && byId.get(id)?.callFrame.url !== '';
  });
  const ours = samples.filter((id) => !standIn(id)).length;
  return { standIn: samples.length - ours, total: samples.length };
}

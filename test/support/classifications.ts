import type { Classification } from '../../shared/classification';

/** The categories a {@link modelClassification} ranks, in its order. */
export const RANKED_CODES = ['cs.CL', 'cs.LG', 'cs.AI'] as const;

/**
 * A model classification for store tests: the three {@link RANKED_CODES} ranked with falling
 * scores, `assigned` the ones given (the first of them primary; `cs.CL` when none is).
 */
export function modelClassification(...assigned: string[]): Classification {
  return {
    categories: RANKED_CODES.map((code, i) => ({
      code,
      name: code,
      group: 'Computer Science',
      score: 0.9 - i * 0.2,
      assigned: assigned.includes(code),
      terms: [],
    })),
    primaryCategory: assigned[0] ?? 'cs.CL',
    classifierVersion: 'test-1',
    categorySource: 'model',
  };
}

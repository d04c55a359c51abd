import * as z from './zod';

/**
 * Field schemas that many boundaries share (papers, classifications, enrichments, table items,
 * messages, environments), built once. A zod schema is immutable, so one instance serves every
 * object holding such a field; each instance built is work at every cold start of every function
 * that loads it (a check is an instance too: `z.string().check(z.minLength(1))` builds three),
 * and these two were built some fifty times over.
 */

export const NonEmptyStringSchema = z.string().check(z.minLength(1));

export const NonNegativeIntSchema = z.number().check(z.int(), z.nonnegative());

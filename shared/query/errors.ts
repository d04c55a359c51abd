/**
 * A query parameter (or the paper id in the path) that fails validation. The
 * query API answers it with a 400 whose body names {@link BadParameterError.parameter}.
 */
export class BadParameterError extends Error {
  override name = 'BadParameterError';

  constructor(
    /** The parameter's name as the client wrote it: `date`, `limit`, `cursor`, `id`… */
    readonly parameter: string,
    /** What is wrong with it, phrased for the client: "must be a real date YYYY-MM-DD". */
    readonly problem: string,
    /** Values the client may have meant (a category code's nearest known spellings). */
    readonly suggestions?: readonly string[],
  ) {
    super(`${parameter}: ${problem}`);
  }
}

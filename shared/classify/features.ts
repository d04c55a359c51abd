/**
 * A paper's feature vector, shared by training and inference: sublinear tf-idf
 * over the model's vocabulary, L2-normalised, so long and short abstracts weigh
 * alike.
 */

/** Sparse vector: `values[i]` is the weight of vocabulary term `ids[i]`; ids in first-occurrence order. */
export interface FeatureVector {
  ids: Int32Array;
  values: Float32Array;
}

/**
 * Maps a paper's terms (see `paperTerms`) to its feature vector: for each term
 * in `vocab`, `(1 + ln tf) × idf[term]`, then the vector is scaled to unit
 * length. Terms outside the vocabulary are ignored; no known term gives the
 * empty vector.
 */
export function vectorize(
  terms: readonly string[],
  vocab: ReadonlyMap<string, number>,
  idf: ArrayLike<number>,
): FeatureVector {
  const counts = new Map<number, number>();
  for (const term of terms) {
    const id = vocab.get(term);
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const ids = new Int32Array(counts.size);
  const raw = new Float64Array(counts.size);
  let i = 0;
  let norm = 0;
  for (const [id, tf] of counts) {
    const value = (1 + Math.log(tf)) * (idf[id] as number);
    ids[i] = id;
    raw[i] = value;
    norm += value * value;
    i++;
  }
  const values = new Float32Array(counts.size);
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let k = 0; k < raw.length; k++) values[k] = (raw[k] as number) * scale;
  return { ids, values };
}

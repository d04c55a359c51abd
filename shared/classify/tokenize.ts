/**
 * The one tokeniser the classifier's training script and its inference share:
 * a model is only valid with the tokeniser it was trained with, so there is no
 * second implementation anywhere. Changing anything here changes the features,
 * so bump {@link TOKENIZER_VERSION} and retrain.
 */

/** Recorded in the model header; the loader refuses a model trained with another tokeniser. */
export const TOKENIZER_VERSION = 'words-uni-bi-v1';

const WORD = /[\p{L}\p{N}]+/gu;
const DIGITS_ONLY = /^\p{N}+$/u;

/**
 * English function words that carry no topic. Dropped before bigrams are
 * formed, so "learning of representations" yields "learning representations".
 */
const STOP_WORDS: ReadonlySet<string> = new Set(
  `a about above after again against all also am an and any are as at be because been before being below
  between both but by can could did do does doing down during each either et few for from further had has have
  having he her here hers herself him himself his how however i if in into is it its itself just may me might
  more most must my myself no nor not now of off on once only or other our ours ourselves out over own same
  shall she should so some such than that the their theirs them themselves then there these they this those
  through thus to too under until up upon us very via was we were what when where whether which while who whom
  why will with within without would yet you your yours yourself yourselves al eg ie vs`
    .split(/\s+/)
    .filter(Boolean),
);

/**
 * Splits text into lower-case word tokens: runs of letters and digits after
 * NFKC normalisation, at least two characters long, not all digits, not a stop
 * word. LaTeX commands keep their name (`\mathcal` gives `mathcal`), which is
 * itself a signal for mathematics.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    const token = match[0];
    if (token.length < 2 || DIGITS_ONLY.test(token) || STOP_WORDS.has(token)) continue;
    tokens.push(token);
  }
  return tokens;
}

/** Unigrams and the bigrams of adjacent tokens (joined by one space), in text order. */
export function termsOfTokens(tokens: readonly string[]): string[] {
  const terms: string[] = [...tokens];
  for (let i = 1; i < tokens.length; i++) terms.push(`${tokens[i - 1]} ${tokens[i]}`);
  return terms;
}

/**
 * The terms of a paper, the classifier's raw features: the title's and the
 * abstract's uni- and bigrams (no bigram spans the two). Each occurrence is
 * listed, so a term's count is its term frequency.
 */
export function paperTerms(title: string, abstract: string): string[] {
  return [...termsOfTokens(tokenize(title)), ...termsOfTokens(tokenize(abstract))];
}

import { CATEGORY_ALIASES, knownCategoryCodes } from '../classify/taxonomy';

/**
 * Tells a typo in a category code (`cs.CVV`, `cv`) from a category arXiv may add later (`cs.QX`),
 * which a source could already carry: a code the taxonomy does not know is plausible only when
 * its archive is one arXiv has and its subject class is shaped like that archive's others (two
 * capitals in `cs`, `math`, `nlin`…; lower-case words in `physics`, `cond-mat`).
 */

const KNOWN = new Set([...knownCategoryCodes, ...Object.keys(CATEGORY_ALIASES)]);

type SubjectShape = 'capitals' | 'words' | 'other';

function shapeOf(subject: string): SubjectShape {
  if (/^[A-Z]{2}$/.test(subject)) return 'capitals';
  if (/^[a-z]+(?:-[a-z]+)?$/.test(subject)) return 'words';
  return 'other';
}

/** Archive → the shapes of its known subject classes. */
const SHAPES_OF_ARCHIVE = new Map<string, Set<SubjectShape>>();
for (const code of KNOWN) {
  const [archive = code, subject] = code.split('.');
  const shapes = SHAPES_OF_ARCHIVE.get(archive) ?? new Set();
  if (subject !== undefined) shapes.add(shapeOf(subject));
  SHAPES_OF_ARCHIVE.set(archive, shapes);
}

/** Whether `code` is a category the API should accept: known, or plausibly one arXiv adds later. */
export function isPlausibleCategory(code: string): boolean {
  if (KNOWN.has(code)) return true;
  const dot = code.indexOf('.');
  if (dot < 0) return false; // a bare archive code is either known (quant-ph, hep-th) or not a category
  const shapes = SHAPES_OF_ARCHIVE.get(code.slice(0, dot));
  return shapes?.has(shapeOf(code.slice(dot + 1))) === true;
}

/** Up to three known codes nearest to `code` (at most two edits away), or with its subject class in any archive. */
export function suggestCategories(code: string): string[] {
  const lower = code.toLowerCase();
  const scored = [...KNOWN].map((known) => {
    const knownLower = known.toLowerCase();
    const subject = knownLower.split('.')[1];
    const distance = subject === lower ? 0 : editDistance(lower, knownLower);
    return { known, distance };
  });
  const nearest = Math.min(2, ...scored.map(({ distance }) => distance));
  return scored
    .filter(({ distance }) => distance <= nearest)
    .sort((a, b) => a.distance - b.distance || (a.known < b.known ? -1 : 1))
    .slice(0, 3)
    .map(({ known }) => known);
}

/** Levenshtein distance, stopping early past 3 (only small distances matter here). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 4;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 4;
}

import type { Classification } from '../classification';
import { canonicalCategory } from '../classify/taxonomy';
import type { IsoDate, Paper } from '../paper';
import { categoryEntryView, type EnrichmentFields, enrichmentFields, LISTED_PAPER_VIEW } from './items';
import { categoryEntrySk, categoryPk, categorySk, paperPk } from './keys';
import type { CategoryChanges } from './paper-store';

/**
 * What a listing's classification implies for its category entries (`CATEGORY#<code>#<day>`):
 * the entries to put, the ones to remove, and a token that tells classifications apart. Shared
 * by the classify stage's one-transaction write and the store's two-step write.
 */

/** Tells classifications of a listing apart: the fetch they were computed from, the model, the codes assigned. */
export function classificationToken(
  classifiedFrom: string | undefined,
  classification: Classification,
): string {
  return JSON.stringify([
    classifiedFrom ?? null,
    classification.classifierVersion,
    classification.primaryCategory,
    [...assignedCategories(classification).keys()].sort(),
  ]);
}

/**
 * One entry per subject, under the canonical code: arXiv lists one subject under two names
 * (`cs.SY` and `eess.SY`, `math.MP` and `math-ph`), a source may give either or both, and a
 * query for either name reads the canonical one.
 */
export function assignedCategories(classification: Classification): Map<string, { score: number }> {
  const assigned = new Map<string, { score: number }>();
  for (const category of classification.categories) {
    const code = canonicalCategory(category.code);
    if (category.assigned && !assigned.has(code)) assigned.set(code, category);
  }
  return assigned;
}

/**
 * Entries show the paper without its per-day figures: a category entry is written after the
 * listing, from a message that may be older than the listing's latest fetch, so upvotes and
 * comments live on the listing alone (and never roll back).
 */
export function stablePaperOf(paper: Paper): Omit<Paper, 'upvotes' | 'comments'> {
  const { upvotes: _upvotes, comments: _comments, ...stable } = paper;
  return stable;
}

/** The entries a classification implies, and removals of those a previous one wrote that it does not. */
export function categoryChanges(
  listing: { pk: string; sk: string },
  paper: Omit<Paper, 'upvotes' | 'comments'>,
  listedOn: IsoDate,
  classifiedFrom: string | undefined,
  classification: Classification,
  indexedBefore: ReadonlySet<string>,
  enrichment: EnrichmentFields = {},
): CategoryChanges {
  const assigned = assignedCategories(classification);
  return {
    listing,
    classification: classificationToken(classifiedFrom, classification),
    puts: [...assigned].map(([code, category]) => {
      const keys = {
        pk: paperPk(paper.id),
        sk: categoryEntrySk(code, listedOn),
        categoryPk: categoryPk(code),
        categorySk: categorySk(listedOn, paper.id),
        code,
        score: category.score,
        listedOn,
      };
      const whole = { ...keys, paper, classification, ...enrichmentFields(enrichment) };
      const view = categoryEntryView(whole);
      // The view is all a category page reads; the paper and classification it was made from are
      // on the listing (one key away, `LISTED#<day>`), where a page reads them when a view is not
      // readable. Only an entry too large for a view holds them itself.
      return view === undefined ? whole : { ...keys, [LISTED_PAPER_VIEW]: view };
    }),
    deletes: [...indexedBefore]
      // `assigned` holds canonical codes only, so an entry an older version wrote under an alias
      // (`CATEGORY#cs.SY#…`) goes too, as the canonical one replaces it.
      .filter((code) => typeof code === 'string' && !assigned.has(code))
      .map((code) => ({ pk: paperPk(paper.id), sk: categoryEntrySk(String(code), listedOn) })),
  };
}

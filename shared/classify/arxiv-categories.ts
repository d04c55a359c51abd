import type { CategoryScore, Classification } from '../classification';
import { describeCategory } from './taxonomy';

/**
 * arXiv's own categories as a paper's classification, beside the model's prediction: the model
 * still ran (its version is the one recorded), but arXiv is the source of truth. Each of arXiv's
 * codes is scored 1 and assigned, in arXiv's order (primary first), and keeps the terms the model
 * found for it when the model ranked that code (else none).
 * @throws RangeError for an empty list (an enriched paper always has a primary category).
 */
export function arxivClassification(
  arxivCategories: readonly string[],
  predicted: Classification,
): Classification {
  const explained = new Map(predicted.categories.map((category) => [category.code, category.terms]));
  const seen = new Set<string>();
  const categories: CategoryScore[] = [];
  for (const code of arxivCategories) {
    if (seen.has(code)) continue;
    seen.add(code);
    categories.push({
      ...describeCategory(code),
      score: 1,
      assigned: true,
      terms: explained.get(code) ?? [],
    });
  }
  const primary = categories[0];
  if (!primary) throw new RangeError('arXiv gave no category');
  return {
    categories,
    primaryCategory: primary.code,
    classifierVersion: predicted.classifierVersion,
    categorySource: 'arxiv',
  };
}

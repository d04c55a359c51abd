import { QUALITY_FIGURES, type QualityFigure, type QualityFigures, type QualityReport } from './live-quality';

/**
 * A quality report as a table for a terminal (`papers quality`): a row per day, the total, and
 * the shipped model's validation figures to compare with. A day without an enriched paper shows
 * `-` for its figures: it has none (not 0%).
 */

const HEADINGS: Record<QualityFigure, string> = {
  top1IsPrimary: 'top1=primary',
  top1InCategories: 'top1 in arXiv',
  primaryInTop3: 'primary in top3',
};

const percentCell = (figures: Pick<QualityFigures, 'percent'>, figure: QualityFigure) =>
  figures.percent === undefined ? '-' : `${figures.percent[figure].toFixed(2)}%`;

export function qualityTable(report: QualityReport): string {
  const rows: string[][] = [
    ['day', 'listings', 'enriched', ...QUALITY_FIGURES.map((figure) => HEADINGS[figure])],
    ...report.items.map((day) => [
      day.day,
      String(day.listings),
      String(day.enriched),
      ...QUALITY_FIGURES.map((figure) => percentCell(day, figure)),
    ]),
    [
      'total',
      String(report.total.listings),
      String(report.total.enriched),
      ...QUALITY_FIGURES.map((figure) => percentCell(report.total, figure)),
    ],
    [
      'validation',
      '',
      String(report.validation.papers),
      ...QUALITY_FIGURES.map((figure) => percentCell(report.validation, figure)),
    ],
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const [heading, ...body] = rows;
  const ruler = widths.map((width) => '-'.repeat(width)).join('  ');
  const days = body.slice(0, -2);
  const summary = body.slice(-2);
  return `${[line(heading ?? []), ruler, ...days.map(line), ruler, ...summary.map(line)].join(
    '\n',
  )}\nvalidation: ${report.validation.model} on its validation split (${report.validation.papers} papers)\n`;
}

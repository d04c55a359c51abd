import { describe, expect, it } from 'vitest';
import { ClassificationSchema } from '../../shared/classification';
import { type CliOutcome, runPapersCli } from '../support/papers-cli';
import { quantumErrorCorrection, visionTransformer } from './papers';

/** Runs `papers classify` with `stdin`, as a user would. */
function classifyCli(stdin: string): Promise<CliOutcome> {
  return runPapersCli(['classify'], { stdin });
}

const outputLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('papers classify', () => {
  it('adds categories to every line, keeps the other fields and the order, and exits 0', async () => {
    // Prepare
    const links = { arxiv: 'https://arxiv.org/abs/2103.14030' };
    const input = [
      { id: 'a', ...quantumErrorCorrection, upvotes: 3 },
      { id: 'b', ...visionTransformer, links },
      { id: 'c', title: 'Given', abstract: '', sourceCategories: ['hep-th', 'gr-qc'] },
    ];

    // Act
    const { code, stdout, stderr } = await classifyCli(`${input.map((p) => JSON.stringify(p)).join('\n')}\n`);

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = outputLines(stdout);
    expect(lines.map((line) => line.id)).toEqual(['a', 'b', 'c']);
    expect(lines[0]).toMatchObject({ upvotes: 3, primaryCategory: 'quant-ph', categorySource: 'model' });
    expect(lines[1]).toMatchObject({ links, primaryCategory: 'cs.CV' });
    expect(lines[2]).toMatchObject({ primaryCategory: 'hep-th', categorySource: 'source' });
    for (const line of lines) {
      const { categories, primaryCategory, classifierVersion, categorySource } = line;
      ClassificationSchema.parse({ categories, primaryCategory, classifierVersion, categorySource });
    }
  });

  it('reports bad lines on stderr by number, passes the good ones through and exits non-zero', async () => {
    const stdin = [
      JSON.stringify({ id: 'first', ...quantumErrorCorrection }),
      '{not json',
      JSON.stringify({ id: 'untitled', abstract: 'An abstract without its title.' }),
      '',
      JSON.stringify({ id: 'empty-title', title: '   ', abstract: 'x' }),
      '[1, 2]',
      JSON.stringify({ id: 'last', ...visionTransformer }),
    ].join('\n');

    const { code, stdout, stderr } = await classifyCli(stdin);

    expect(code).toBe(1);
    expect(outputLines(stdout).map((line) => line.id)).toEqual(['first', 'last']);
    expect(stderr).toMatch(/line 2: not valid JSON/);
    expect(stderr).toMatch(/line 3: "title" is missing/);
    expect(stderr).toMatch(/line 5: "title" is empty/);
    expect(stderr).toMatch(/line 6: not a JSON object/);
    expect(stderr).not.toMatch(/line [147]:/);
  });

  it('counts blank lines neither among the lines failed nor among the lines read', async () => {
    const stdin = ['', JSON.stringify({ id: 'ok', ...visionTransformer }), '   ', '{not json', '', ''].join(
      '\n',
    );

    const { code, stdout, stderr } = await classifyCli(stdin);

    expect(code).toBe(1);
    expect(outputLines(stdout).map((line) => line.id)).toEqual(['ok']);
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^papers classify: line 4: not valid JSON/),
      'papers classify: 1 of 2 line(s) failed',
    ]);
  });

  it('says whether a field is missing or of the wrong type, and which type it should be', async () => {
    const stdin = [
      JSON.stringify({ title: 'X', abstract: 5 }),
      JSON.stringify({ abstract: 'An abstract without its title.' }),
      JSON.stringify({ title: 42 }),
      JSON.stringify({ title: 'X', abstract: null }),
      JSON.stringify({ title: 'X', sourceCategories: 'cs.CL' }),
      JSON.stringify({ title: 'X', sourceCategories: ['cs.CL', 7] }),
      JSON.stringify({ title: 'Only a title' }),
    ].join('\n');

    const { code, stdout, stderr } = await classifyCli(stdin);

    expect(code).toBe(1);
    expect(outputLines(stdout).map((line) => line.title)).toEqual(['Only a title']);
    expect(stderr.trimEnd().split('\n')).toEqual([
      'papers classify: line 1: "abstract" must be a string, got a number',
      'papers classify: line 2: "title" is missing',
      'papers classify: line 3: "title" must be a string, got a number',
      'papers classify: line 4: "abstract" must be a string, got null',
      'papers classify: line 5: "sourceCategories" must be a list of strings, got a string',
      'papers classify: line 6: "sourceCategories" must be a list of strings, got a list holding a number',
      'papers classify: 6 of 7 line(s) failed',
    ]);
  });
});

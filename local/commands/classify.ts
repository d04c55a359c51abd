/**
 * `npm run -s papers -- classify`: reads JSON lines on stdin (any objects with
 * `title` and `abstract`, such as the output of `papers parse`) and writes each
 * object back, in order, with `categories`, `primaryCategory`,
 * `classifierVersion` and `categorySource` added. An object with
 * `sourceCategories` keeps those (see `classifyPaper`).
 *
 * A line that is not JSON, not an object with a non-empty `title`, or with a
 * field of the wrong type is reported on stderr with its line number and
 * skipped; the others still come through. Blank lines are ignored. Exit code:
 * 0 when every line was classified, 1 when any failed, 2 on a usage error.
 */
import { createInterface } from 'node:readline';
import * as z from 'zod';
import { classifyPaper, loadClassifier } from '../../shared/classify/index';
import { readCommandLine } from '../../shared/command-line';
import { isClosedPipe } from '../closed-pipe';

export const usage = `usage: npm run -s papers -- classify < papers.jsonl > classified.jsonl

Adds categories, primaryCategory, classifierVersion and categorySource to each
JSON line on stdin (objects with "title" and "abstract").
`;

/** "a number", "a list", "null": what a JSON value is, for a message about the wrong type. */
function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * What a line must hold; every other field passes through untouched. Each
 * message follows the field's quoted name: a missing field and a wrong type
 * are different mistakes, and only `title` may not be missing.
 */
const ClassifiableSchema = z.looseObject({
  title: z
    .string({
      error: (issue) =>
        issue.input === undefined ? 'is missing' : `must be a string, got ${describeJsonValue(issue.input)}`,
    })
    .refine((title) => title.trim().length > 0, 'is empty'),
  abstract: z
    .string({ error: (issue) => `must be a string, got ${describeJsonValue(issue.input)}` })
    .optional(),
  sourceCategories: z
    .array(
      z.string({
        error: (issue) => `must be a list of strings, got a list holding ${describeJsonValue(issue.input)}`,
      }),
      { error: (issue) => `must be a list of strings, got ${describeJsonValue(issue.input)}` },
    )
    .optional(),
});

/** Parses one input line into the object to classify, or the reason it cannot be. */
function parseLine(
  line: string,
): { ok: true; value: z.infer<typeof ClassifiableSchema> } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return {
      ok: false,
      reason: `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'not a JSON object with a "title"' };
  }
  const parsed = ClassifiableSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? `"${String(issue.path[0])}" ${issue.message}` : 'invalid' };
  }
  return { ok: true, value: parsed.data };
}

export async function run(args: string[]): Promise<number> {
  readCommandLine(args, {}); // takes no options and no arguments
  loadClassifier(); // fail once, up front, if the model is missing
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  // Blank lines are skipped, not read: they count neither as failed nor in the total.
  let read = 0;
  let failed = 0;
  for await (const line of lines) {
    lineNumber++;
    if (!line.trim()) continue;
    read++;
    const parsed = parseLine(line);
    if (!parsed.ok) {
      failed++;
      process.stderr.write(`papers classify: line ${lineNumber}: ${parsed.reason}\n`);
      continue;
    }
    const paper = parsed.value;
    const classification = classifyPaper({
      title: paper.title,
      abstract: paper.abstract ?? '',
      sourceCategories: paper.sourceCategories,
    });
    if (!process.stdout.write(`${JSON.stringify({ ...paper, ...classification })}\n`)) {
      // The reader closed the pipe (`| head`): nobody wants the rest.
      if (await stdoutClosedBeforeDrain()) break;
    }
  }
  if (failed > 0) process.stderr.write(`papers classify: ${failed} of ${read} line(s) failed\n`);
  return failed > 0 ? 1 : 0;
}

/** Waits for stdout to drain; resolves true instead when the reader has closed the pipe. */
function stdoutClosedBeforeDrain(): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const settle = (closed: boolean, error?: Error) => {
      process.stdout.off('drain', onDrain);
      process.stdout.off('error', onError);
      if (error) reject(error);
      else resolve(closed);
    };
    const onDrain = () => settle(false);
    const onError = (error: Error) => (isClosedPipe(error) ? settle(true) : settle(false, error));
    process.stdout.once('drain', onDrain);
    process.stdout.once('error', onError);
  });
}

/**
 * The command-line reader every command-line entry shares: the papers CLI
 * (`local/cli.ts` and its commands) and the training script
 * (`scripts/train-classifier.ts`), so options, help, usage errors and the
 * paths a user types read and fail the same way in both.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type IsoDate, IsoDateSchema } from './paper';

/**
 * A mistake on the command line (unknown option, missing or bad value). The
 * message names the mistake in one line; `local/cli.ts` prints it with the
 * command's usage and exits 2, so every command reports them the same way
 * (the training script prints it with a pointer to `--help`, also exit 2).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** How an option is written: `--name value` (string) or `--name` (boolean), with an optional one-letter alias. */
export interface OptionDefinition {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
}

export type OptionDefinitions = Record<string, OptionDefinition>;

type OptionValue<D extends OptionDefinition> = D extends { type: 'boolean' } ? boolean : string;

/** The options given (or defaulted), by long name; the ones with neither are undefined. */
export type OptionValues<O extends OptionDefinitions> = {
  [K in keyof O]: O[K] extends { default: string | boolean }
    ? OptionValue<O[K]>
    : OptionValue<O[K]> | undefined;
};

/** True when the user asks for help: `--help` or `-h` before any `--`. */
export function isHelpRequest(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * Reads `args` against `options`. Stricter than `parseArgs` where a mistake
 * would otherwise pass unnoticed (an option given twice, a value option
 * followed by another option), and more lenient where it is safe: a value may
 * start with a dash as long as it is not one of the options.
 *
 * @throws UsageError naming the first mistake: an unknown option, an option
 *   given twice, a missing value, a value given to a flag, or an argument the
 *   command does not take.
 */
export function readCommandLine<const O extends OptionDefinitions>(
  args: readonly string[],
  options: O,
  { positionals: allowPositionals = false }: { positionals?: boolean } = {},
): { values: OptionValues<O>; positionals: string[] } {
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (!allowPositionals) throw new UsageError(`unexpected argument "${token.value}"`);
      positionals.push(token.value);
      continue;
    }
    const definition = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!definition) throw new UsageError(`unknown option "${token.rawName}"`);
    if (token.name in values) throw new UsageError(`${token.rawName} is given more than once`);
    if (definition.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
      values[token.name] = true;
    } else {
      // `--date --source x`: parseArgs would take "--source" as the day.
      if (token.value === undefined || (!token.inlineValue && namesAnOption(token.value, options))) {
        throw new UsageError(`${token.rawName} needs a value`);
      }
      values[token.name] = token.value;
    }
  }
  for (const [name, definition] of Object.entries(options)) {
    if (!(name in values) && definition.default !== undefined) values[name] = definition.default;
  }
  // The loop above gave each option the type its definition declares.
  return { values: values as OptionValues<O>, positionals };
}

function namesAnOption(arg: string, options: OptionDefinitions): boolean {
  if (arg === '--help' || arg === '-h') return true;
  if (arg.startsWith('--')) return Object.hasOwn(options, arg.slice(2).split('=')[0] ?? '');
  return /^-[^-]/.test(arg) && Object.values(options).some((definition) => definition.short === arg[1]);
}

/** The value of a day option (`--date`, `--listed-on`). @throws UsageError unless it is a real YYYY-MM-DD day. */
export function isoDayOption(flag: string, value: string): IsoDate {
  const day = IsoDateSchema.safeParse(value);
  if (!day.success) throw new UsageError(`${flag} must be a real day as YYYY-MM-DD, got "${value}"`);
  return day.data;
}

/**
 * Where a path the user typed points. npm runs a package's scripts from the package's root,
 * whatever folder the user typed `npm start` or `npm run papers` in, and passes that folder on as
 * `INIT_CWD`: a relative path resolves from there, as the user meant it; outside npm, from the
 * working directory. An absolute path stays as it is.
 */
export function resolveUserPath(
  given: string,
  { env = process.env, cwd = process.cwd() }: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): string {
  return path.resolve(env.INIT_CWD || cwd, given);
}

/** `absolute` as the user would type it: relative to the folder they ran the command in when inside it. */
export function displayPath(
  absolute: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): string {
  const from = resolveUserPath('.', options);
  const relative = path.relative(from, absolute);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}

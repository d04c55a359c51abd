/**
 * `npx papers <command> [...]` (or `npm run -s papers -- …`): the command-line tool. Each command
 * lives in `local/commands/<name>.ts` and is loaded only when asked for, so
 * `papers parse` does not start the local stack. Adding a command is one entry in
 * {@link commands}: a summary and a lazy `import()` of its module.
 *
 * Start-up is kept small on purpose: this file imports only Node built-ins and
 * two tiny local modules until a command is chosen. `--version`, the list of commands
 * and an unknown command answer without loading zod or a command module (zod
 * alone costs hundreds of milliseconds through tsx's loader).
 *
 * Every command answers `--help` (or `-h`) with its usage on stdout and exit
 * code 0, and a usage mistake with `papers <command>: <what is wrong>` and its
 * usage on stderr and exit code 2: the commands throw a `UsageError`, this file
 * does the printing, so they cannot drift apart.
 */

import { readFileSync } from 'node:fs';
import { isClosedPipe } from './closed-pipe';
import { installStopHandlers, stopRequested } from './shutdown';

// The SDK warns on every run that its 2027 releases need Node 22; Lambda runs 22+, this machine 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface CommandModule {
  /** The command's usage text, ending in a newline. */
  usage: string;
  /** Runs the command; resolves with the exit code. @throws UsageError for a mistake on the command line. */
  run(args: string[]): Promise<number>;
}

interface Command {
  summary: string;
  load: () => Promise<CommandModule>;
}

const commands: Record<string, Command> = {
  parse: {
    summary: 'parse a listing file or URL into papers (JSON lines)',
    load: () => import('./commands/parse'),
  },
  classify: {
    summary: 'add arXiv categories to JSON lines on stdin',
    load: () => import('./commands/classify'),
  },
  ingest: {
    summary: "run the pipeline once on the local stack for a day's listing",
    load: () => import('./commands/ingest'),
  },
  query: {
    summary: 'query the local table through the query handler',
    load: () => import('./commands/query'),
  },
  export: {
    summary: 'export the papers listed in a date range as JSON lines, CSV or Parquet',
    load: () => import('./commands/export'),
  },
  serve: { summary: 'serve the query API over HTTP', load: () => import('./commands/serve') },
  dlq: {
    summary: 'list what sits in the dead-letter queues and why, or redrive it',
    load: () => import('./commands/dlq'),
  },
  backfill: {
    summary: 'run every day of a range through the pipeline (locally, or on AWS with --aws)',
    load: () => import('./commands/backfill'),
  },
  replay: {
    summary: 'parse and classify a range again from the archived raw listings (no network)',
    load: () => import('./commands/replay'),
  },
  reclassify: {
    summary: 'classify again the stored listings the shipped model did not classify',
    load: () => import('./commands/reclassify'),
  },
  enrich: {
    summary: 'ask arXiv again about the stored papers still pending enrichment',
    load: () => import('./commands/enrich'),
  },
  quality: {
    summary: "the shipped model against arXiv's categories on the enriched papers, per day",
    load: () => import('./commands/quality'),
  },
  start: {
    summary: "ingest today's listing, then serve the query API",
    load: () => import('./commands/start'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`);
  return (
    `usage: npm run -s papers -- <command> [options]\n   or: npx papers <command> [options]\n` +
    `       npx papers --version\n\ncommands:\n${lines.join('\n')}\n\n` +
    "`npx papers <command> --help` shows a command's options.\n\n" +
    'environment:\n' +
    '  PAPERS_DATA_DIR   the local data folder (default .papers-data/ in the project root;\n' +
    '                    a relative path is taken from the folder the command was typed in)\n' +
    "  PAPERS_LOG_LEVEL  the handlers' log level: ERROR (default), WARN, INFO, DEBUG, …\n" +
    '  ARXIV_API_URL     the arXiv export API to enrich papers from (unset: enrichment off,\n' +
    '                    arXiv papers stored pending; e.g. http://export.arxiv.org/api/query)\n' +
    '  LISTING_URL_TEMPLATE          the listing URL fetched, {date} for the day (default: the HF API)\n' +
    '  FETCH_MAX_REQUESTS_PER_5_MIN  requests to that upstream per 5 minutes, retries included (250)\n' +
    "  PAPERS_FETCH_RETRY_DELAY_MS   the step between a failed fetch's local retries (1000: 1 s, then 2 s)\n"
  );
}

/** The project's version, from package.json (read, not imported: no JSON module loading at start-up). */
function version(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const value =
    typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
  return typeof value === 'string' ? value : 'unknown';
}

async function main(argv: string[]): Promise<number> {
  // A closed pipe (`| head`) ends the output, not the command with an error.
  process.stdout.on('error', (error: Error) => {
    if (!isClosedPipe(error)) throw error;
  });
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(`papers: no command given\n${usage()}`);
    return 2;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && args.length === 0)) {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`papers ${version()}\n`);
    return 0;
  }
  // `papers help <command>` is `papers <command> --help`.
  const commandName = name === 'help' ? (args[0] as string) : name;
  // Own keys only: `papers constructor` must not find Object.prototype's.
  const command = Object.hasOwn(commands, commandName) ? commands[commandName] : undefined;
  if (!command) {
    process.stderr.write(`papers: unknown command "${commandName}"\n${usage()}`);
    return 2;
  }
  const [module, { isHelpRequest, UsageError }] = await Promise.all([
    command.load(),
    import('../shared/command-line'),
  ]);
  if (name === 'help' || isHelpRequest(args)) {
    process.stdout.write(module.usage);
    return 0;
  }
  // SIGINT, SIGTERM, SIGHUP or the death of `npm start` close the local stack before the exit.
  installStopHandlers();
  try {
    return await module.run(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`papers ${commandName}: ${error.message}\n${module.usage}`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Stopping by a signal closes the stack under the running command: its failure is expected.
    if (stopRequested()) return;
    process.stderr.write(
      `papers: ${error instanceof Error ? error.message : String(error)}${awsSetupHint(error)}\n`,
    );
    process.exitCode = 1;
  },
);

/** What to set when the SDK found no region or no credentials (only the `--aws` forms ask it for them). */
function awsSetupHint(error: unknown): string {
  if (!(error instanceof Error)) return '';
  if (error.message === 'Region is missing') {
    return '\n  (set AWS_REGION, or AWS_PROFILE to a profile with a region in ~/.aws/config)';
  }
  if (error.name === 'CredentialsProviderError') {
    return (
      '\n  (set AWS_PROFILE to a profile in ~/.aws/config or ~/.aws/credentials, or AWS_ACCESS_KEY_ID and' +
      ' AWS_SECRET_ACCESS_KEY; for an SSO profile, `aws sso login` first)'
    );
  }
  return '';
}

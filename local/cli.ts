/**
 * `npm run -s papers -- <command> [...]`: the command-line tool. Each command
 * lives in `local/commands/<name>.ts` and is loaded only when asked for, so
 * `papers parse` does not start the local stack.
 */

import { isClosedPipe } from './closed-pipe';

// The SDK warns on every run that its 2027 releases need Node 22; Lambda runs 22+, this machine 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface Command {
  summary: string;
  load: () => Promise<{ run(args: string[]): Promise<number> }>;
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
  serve: { summary: 'serve the query API over HTTP', load: () => import('./commands/serve') },
  start: {
    summary: "ingest today's listing, then serve the query API",
    load: () => import('./commands/start'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`);
  return `usage: npm run -s papers -- <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  // A closed pipe (`| head`) ends the output, not the command with an error.
  process.stdout.on('error', (error: Error) => {
    if (!isClosedPipe(error)) throw error;
  });
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`papers: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`papers: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

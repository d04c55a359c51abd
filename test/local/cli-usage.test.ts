/**
 * How every `papers` command answers `--help` and a mistake on its command
 * line: the same way, from the same place (`local/cli.ts`). None of these runs
 * opens the local stack; the data folder is a temporary one all the same, so a
 * regression cannot write into the repository's `.papers-data/`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';

const COMMANDS = ['parse', 'classify', 'ingest', 'query', 'serve', 'start', 'dlq'];

const dataDir = mkdtempSync(join(tmpdir(), 'papers-cli-usage-'));
const papers = (args: string[]) => runPapersCli(args, { env: { ...process.env, PAPERS_DATA_DIR: dataDir } });

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

// Each case is a child process of its own: run them side by side (with the test's own `expect`).
describe.concurrent('papers --help', () => {
  it.for(['--help', '-h', 'help'])(
    '`papers %s` prints the commands on stdout and exits 0',
    async (flag, { expect }) => {
      const { code, stdout, stderr } = await papers([flag]);

      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^usage: npm run -s papers -- <command>/);
      for (const command of COMMANDS) expect(stdout).toContain(`  ${command} `);
    },
  );

  it.for(
    // -h is the same test as --help (test/local/command-line.test.ts): once is enough here.
    [...COMMANDS.map((command) => [command, '--help']), ['query', '-h']],
  )(
    '`papers %s %s` prints the usage of that command on stdout and exits 0',
    async ([command = '', flag = ''], { expect }) => {
      const { code, stdout, stderr } = await papers([command, flag]);

      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^usage: /);
      expect(stdout).toContain(command === 'start' ? 'npm start' : `papers -- ${command}`);
    },
  );

  it('answers `papers help <command>` as `papers <command> --help`', async ({ expect }) => {
    const [viaHelp, viaFlag] = await Promise.all([papers(['help', 'serve']), papers(['serve', '--help'])]);

    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('takes --help anywhere among the options, but not after --', async ({ expect }) => {
    const { code, stdout } = await papers(['ingest', '--date', '2026-06-12', '--help']);
    const afterTerminator = await papers(['classify', '--', '--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npm run -s papers -- ingest/);
    expect(afterTerminator.code).toBe(2);
    expect(afterTerminator.stderr).toMatch(/^papers classify: unexpected argument "--help"\n/);
  });
});

describe.concurrent('papers --version and the environment', () => {
  it.for(['--version', '-V'])(
    '`papers %s` prints the version in package.json and exits 0',
    async (flag, { expect }) => {
      const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };

      const { code, stdout, stderr } = await papers([flag]);

      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toBe(`papers ${version}\n`);
    },
  );

  it('names the environment variables the commands read in its help', async ({ expect }) => {
    const { stdout } = await papers(['--help']);

    expect(stdout).toMatch(/^ {2}PAPERS_DATA_DIR {3}\S/m);
    expect(stdout).toMatch(/^ {2}PAPERS_LOG_LEVEL {2}\S/m);
  });

  it("is declared as the package's `papers` bin, an executable file with a node shebang", async ({
    expect,
  }) => {
    const { bin } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const launcher = join(PROJECT_ROOT, bin.papers ?? 'missing');

    expect(readFileSync(launcher, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(statSync(launcher).mode & 0o111).not.toBe(0);
  });
});

describe.concurrent('papers usage errors', () => {
  it.for<[string, string[], string]>([
    ['parse', ['listing.json', '--verbose'], 'unknown option "--verbose"'],
    ['parse', ['listing.json', '--listed-on', '2026-02-30'], '--listed-on must be a real day as YYYY-MM-DD'],
    ['classify', ['papers.jsonl'], 'unexpected argument "papers.jsonl"'],
    ['ingest', ['--date', '2026-02-30'], '--date must be a real day as YYYY-MM-DD, got "2026-02-30"'],
    ['ingest', ['--date'], '--date needs a value'],
    ['ingest', ['--date', '--source', 'listing.json'], '--date needs a value'],
    ['query', ['--date'], '--date needs a value'],
    ['serve', ['--verbose'], 'unknown option "--verbose"'],
    ['serve', ['--port', '70000'], '--port must be a port number from 0 to 65535, got "70000"'],
    ['start', ['--verbose'], 'unknown option "--verbose"'],
    ['start', ['--date', '2026-02-30'], '--date must be a real day as YYYY-MM-DD, got "2026-02-30"'],
    [
      'ingest',
      ['--source', 'http://[not-a-host/listing.json'],
      '--source "http://[not-a-host/listing.json" is not a valid URL',
    ],
    [
      'ingest',
      ['--source', 'ftp://example.org/listing.json'],
      '--source "ftp://example.org/listing.json" must be a file, a file:// URL or an http(s) URL',
    ],
    [
      'start',
      ['--source', 'file://remote-host/listing.json'],
      '--source "file://remote-host/listing.json": ',
    ],
    ['ingest', ['--date', '2099-01-01'], '--date: the listing day 2099-01-01 is after tomorrow'],
    [
      'ingest',
      ['--date', '2023-04-30'],
      "--date: the listing day 2023-04-30 is before 2023-05-01, the source's first day",
    ],
    ['ingest', ['--fetched-at', '2026-06-12T23:30:00Z'], '--fetched-at needs a --source'],
    ['ingest', ['--source', 'x.json', '--fetched-at', 'yesterday'], '--fetched-at must be an ISO 8601 time'],
  ])(
    '`papers %s %j`: one line naming the problem, the usage, exit 2',
    async ([command, args, problem], { expect }) => {
      const { code, stdout, stderr } = await papers([command, ...args]);

      expect(code).toBe(2);
      expect(stdout).toBe('');
      const [firstLine, ...rest] = stderr.split('\n');
      expect(firstLine).toContain(`papers ${command}: ${problem}`);
      expect(rest.join('\n')).toMatch(/^usage: /);
    },
  );

  it('says so when no command is given or the command is unknown, with the list of commands, exit 2', async ({
    expect,
  }) => {
    const [none, unknown, inherited] = await Promise.all([
      papers([]),
      papers(['frobnicate']),
      papers(['constructor']),
    ]);

    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^papers: no command given\nusage: npm run -s papers -- <command>/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^papers: unknown command "frobnicate"\nusage: /);
    // A name every object inherits is no command either.
    expect(inherited.code).toBe(2);
    expect(inherited.stderr).toMatch(/^papers: unknown command "constructor"\nusage: /);
  });
});

describe.concurrent('papers --aws without an AWS setup', () => {
  /** The caller's environment without anything the SDK's default chain could find credentials or a region in. */
  const bareAws = (extra: NodeJS.ProcessEnv = {}) => {
    const env: NodeJS.ProcessEnv = { PAPERS_DATA_DIR: dataDir, ...extra };
    for (const [name, value] of Object.entries(process.env))
      if (!name.startsWith('AWS_')) env[name] ??= value;
    return {
      ...env,
      AWS_CONFIG_FILE: join(dataDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  };
  const queryAws = ['query', '--aws', '--stack', 'DailyPapersPipeline', '--date', '2026-07-10'];

  it.for([
    ['no region', {}, 'Region is missing', 'AWS_REGION'],
    ['no credentials', { AWS_REGION: 'us-east-1' }, 'Could not load credentials', 'AWS_PROFILE'],
  ] as const)("%s: the SDK's error and what to set, exit 1", async ([, extra, error, hint], { expect }) => {
    const { code, stdout, stderr } = await runPapersCli(queryAws, { env: bareAws(extra) });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(error);
    expect(stderr).toContain(hint);
  });
});

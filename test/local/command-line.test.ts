import { describe, expect, it } from 'vitest';
import {
  displayPath,
  isHelpRequest,
  isoDayOption,
  readCommandLine,
  resolveUserPath,
  UsageError,
} from '../../shared/command-line';

const OPTIONS = {
  date: { type: 'string' },
  port: { type: 'string', short: 'p', default: '8787' },
  all: { type: 'boolean' },
} as const;

describe('readCommandLine', () => {
  it('reads values, inline values, short aliases and flags, and fills in defaults', () => {
    expect(readCommandLine(['--date', '2026-06-12', '--all'], OPTIONS).values).toEqual({
      date: '2026-06-12',
      port: '8787',
      all: true,
    });
    expect(readCommandLine(['--date=2026-06-12', '-p', '0'], OPTIONS).values).toEqual({
      date: '2026-06-12',
      port: '0',
    });
  });

  it('takes a value that starts with a dash when it is not one of the options', () => {
    expect(readCommandLine(['--date', '-1'], OPTIONS).values.date).toBe('-1');
  });

  it('keeps positionals only for a command that takes them, and everything after --', () => {
    expect(readCommandLine(['a', '--all', '--', '--b'], OPTIONS, { positionals: true }).positionals).toEqual([
      'a',
      '--b',
    ]);
    expect(() => readCommandLine(['a'], OPTIONS)).toThrow(new UsageError('unexpected argument "a"'));
  });

  it.each([
    [['--verbose'], 'unknown option "--verbose"'],
    [['-x'], 'unknown option "-x"'],
    [['--date'], '--date needs a value'],
    [['--date', '--all'], '--date needs a value'],
    [['--date', '-p', '80'], '--date needs a value'],
    [['--date', '--help'], '--date needs a value'],
    [['--all=yes'], '--all takes no value'],
    [['--date', 'a', '--date', 'b'], '--date is given more than once'],
    [['-p', '1', '--port', '2'], '--port is given more than once'],
  ])('refuses %j: %s', (args, problem) => {
    expect(() => readCommandLine(args, OPTIONS)).toThrow(new UsageError(problem));
  });
});

describe('isHelpRequest', () => {
  it('finds --help or -h before --, and nothing else', () => {
    expect(isHelpRequest(['--date', 'x', '--help'])).toBe(true);
    expect(isHelpRequest(['-h'])).toBe(true);
    expect(isHelpRequest(['--', '--help'])).toBe(false);
    expect(isHelpRequest(['--helpful', '--date=-h'])).toBe(false);
  });
});

describe('isoDayOption', () => {
  it('takes a real day and refuses an impossible one, naming the option', () => {
    expect(isoDayOption('--date', '2024-02-29')).toBe('2024-02-29');
    expect(() => isoDayOption('--date', '2026-02-30')).toThrow(
      new UsageError('--date must be a real day as YYYY-MM-DD, got "2026-02-30"'),
    );
  });
});

describe('resolveUserPath', () => {
  // npm runs the script from the project root and passes the folder the user was in as INIT_CWD.
  const underNpm = { env: { INIT_CWD: '/home/me/papers' }, cwd: '/work/repo' };

  it('resolves a relative path from the folder npm was run in, not the project root npm runs scripts from', () => {
    expect(resolveUserPath('listings/day.json', underNpm)).toBe('/home/me/papers/listings/day.json');
    expect(resolveUserPath('../day.json', underNpm)).toBe('/home/me/day.json');
  });

  it('resolves from the working directory outside npm, and leaves an absolute path alone', () => {
    expect(resolveUserPath('day.json', { env: {}, cwd: '/work/repo' })).toBe('/work/repo/day.json');
    expect(resolveUserPath('/data/day.json', underNpm)).toBe('/data/day.json');
  });
});

describe('displayPath', () => {
  it('shows a path inside the folder the user is in relative to it, any other as it is', () => {
    const underNpm = { env: { INIT_CWD: '/work/repo' }, cwd: '/work/repo' };

    expect(displayPath('/work/repo/.papers-data/sample', underNpm)).toBe('.papers-data/sample');
    expect(displayPath('/work/repo', underNpm)).toBe('.');
    expect(displayPath('/tmp/data', underNpm)).toBe('/tmp/data');
  });
});

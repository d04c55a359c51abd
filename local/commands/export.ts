import { createWriteStream } from 'node:fs';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { fileWriter } from 'hyparquet-writer';
import { makeCloudFormationClient } from '../../shared/aws/cloudformation';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { makeS3Client } from '../../shared/aws/s3';
import {
  displayPath,
  isoDayOption,
  readCommandLine,
  resolveUserPath,
  UsageError,
} from '../../shared/command-line';
import { EXPORTS_PREFIX, type ExportRow } from '../../shared/export/columns';
import { type ExportRange, exportRows } from '../../shared/export/export-rows';
import { exportToBucket } from '../../shared/export/export-to-bucket';
import {
  csvHeader,
  csvRow,
  EXPORT_FORMATS,
  type ExportFormat,
  jsonLine,
  writeParquet,
} from '../../shared/export/formats';
import { CATEGORY_CODE } from '../../shared/query/parameters';
import { DynamoPaperStore, type StoreLogger } from '../../shared/store/dynamo-paper-store';
import { isClosedPipe } from '../closed-pipe';
import { withLocalStack } from '../stack';

export const usage = `usage: npm run -s papers -- export --from YYYY-MM-DD --to YYYY-MM-DD [--category CODE]
           [--format jsonl|csv|parquet] [--out FILE]
   or: npm run -s papers -- export --aws --stack NAME --from YYYY-MM-DD --to YYYY-MM-DD [--format parquet|jsonl|csv]
Every paper listed from --from to --to (inclusive), one row per (paper, listing day), day by day and
by id within a day; read from the table a page at a time, so memory stays flat whatever the range.
  --category  only the listings this arXiv category is assigned to (e.g. cs.CV)
  --format    jsonl (default), csv or parquet; the columns are in the README ("papers export")
  --out       the file to write (default: stdout; parquet needs a file)
  --aws       export the deployed table to its archive bucket instead, one file per listing day:
              s3://<bucket>/${EXPORTS_PREFIX}listed_on=YYYY-MM-DD/papers.parquet (read by the stack's
              Glue table; jsonl and csv go to exports/papers-jsonl/ and exports/papers-csv/). Default
              format parquet; credentials and region from the environment; needs --stack, the
              CloudFormation stack whose outputs name the table and bucket. Not with --category or --out.
`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  category: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
} as const;

export interface ExportCommand {
  range: ExportRange;
  format: ExportFormat;
  /** An absolute path; stdout when absent. */
  out?: string;
  /** Export the deployed stack of this name to its bucket. */
  stackName?: string;
}

/** @throws UsageError for a mistake on the command line. */
export function parseExportArgs(args: readonly string[]): ExportCommand {
  const { values } = readCommandLine(args, options);
  if (values.from === undefined || values.to === undefined) {
    throw new UsageError('--from and --to are required (the listing days to export, inclusive)');
  }
  const from = isoDayOption('--from', values.from);
  const to = isoDayOption('--to', values.to);
  if (from > to) throw new UsageError(`--to must not be before --from (${from}), got ${to}`);
  const format = values.format ?? (values.aws ? 'parquet' : 'jsonl');
  if (!EXPORT_FORMATS.some((known) => known === format)) {
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}"`);
  }
  if (values.category !== undefined && !CATEGORY_CODE.test(values.category)) {
    throw new UsageError(`--category must be an arXiv category code such as cs.CV, got "${values.category}"`);
  }
  if (values.aws) {
    if (values.stack === undefined) throw new UsageError('--aws needs --stack NAME');
    if (values.out !== undefined)
      throw new UsageError('--out does not go with --aws: the files go to the bucket');
    if (values.category !== undefined) {
      throw new UsageError(
        '--category does not go with --aws: the exports table holds every paper (filter in Athena)',
      );
    }
  } else if (values.stack !== undefined) {
    throw new UsageError('--stack goes with --aws');
  }
  if (format === 'parquet' && !values.aws && values.out === undefined) {
    throw new UsageError(
      '--format parquet needs --out FILE (Parquet is not written to a terminal or a pipe)',
    );
  }
  return {
    range: { from, to, ...(values.category === undefined ? {} : { category: values.category }) },
    format: format as ExportFormat,
    ...(values.out === undefined ? {} : { out: resolveUserPath(values.out) }),
    ...(values.aws ? { stackName: values.stack } : {}),
  };
}

/** Unreadable items the reads skip are reported on stderr: stdout carries the rows. */
const stderrLogger: StoreLogger = {
  warn: (message, details) => process.stderr.write(`papers export: ${message} ${JSON.stringify(details)}\n`),
};

export async function run(args: string[]): Promise<number> {
  const command = parseExportArgs(args);
  if (command.stackName !== undefined) return exportOnAws(command, command.stackName);
  return withLocalStack(async (stack) => {
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    try {
      const store = new DynamoPaperStore(client, stack.env.TABLE_NAME ?? '', undefined, stderrLogger);
      const { rows, closed } = await writeExport(exportRows(store, command.range), command);
      // A reader that went away (`| head`) saw part of the range: the count is not the range's.
      process.stderr.write(
        `papers export: ${closed ? 'stopped after ' : ''}${rows} row(s) listed ${command.range.from}..${command.range.to}` +
          `${command.range.category ? ` in ${command.range.category}` : ''}, ${command.format}` +
          `${command.out ? ` to ${displayPath(command.out)}` : ''}${closed ? ': the output was closed' : ''}\n`,
      );
      return 0;
    } finally {
      client.destroy();
    }
  });
}

/**
 * Writes the rows to the command's file or to stdout, waiting for the stream to drain after
 * each row it buffers (a slow reader slows the export rather than growing memory). A closed
 * stdout (`| head`) ends the export early, without an error.
 * @returns the rows handed to the output, and whether its reader closed it before the last
 */
export async function writeExport(
  rows: AsyncIterable<ExportRow>,
  command: Pick<ExportCommand, 'format' | 'out'>,
): Promise<{ rows: number; closed: boolean }> {
  if (command.format === 'parquet') {
    if (command.out === undefined) throw new UsageError('--format parquet needs --out FILE');
    return { rows: await writeParquet(rows, fileWriter(command.out)), closed: false };
  }
  const stream = command.out === undefined ? process.stdout : createWriteStream(command.out);
  let closed = false;
  const onError = (error: Error) => {
    if (isClosedPipe(error)) closed = true;
  };
  stream.on('error', onError);
  const write = async (text: string) => {
    if (stream.write(text)) return;
    // Until the reader takes more or goes away: a closed pipe's EPIPE ends the wait (and, through
    // `closed`, the export); any other error fails it. Not `once(stream, 'drain')`, which rejects
    // on the EPIPE that `| head` exiting raises while the export waits.
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        stream.off('drain', settle).off('close', settle).off('error', settle);
        if (error && !isClosedPipe(error)) reject(error);
        else resolve();
      };
      stream.once('drain', settle).once('close', settle).once('error', settle);
    });
  };
  let count = 0;
  try {
    if (command.format === 'csv') await write(csvHeader());
    for await (const row of rows) {
      if (closed) break;
      await write(command.format === 'csv' ? csvRow(row) : jsonLine(row));
      count++;
    }
  } finally {
    if (stream !== process.stdout) {
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    }
    stream.off('error', onError);
  }
  return { rows: count, closed };
}

/** The outputs an export on AWS needs, by name. */
const STACK_OUTPUTS = [
  'PapersTableName',
  'ArchiveBucketName',
  'ExportsDatabaseName',
  'ExportsTableName',
] as const;

async function exportOnAws(command: ExportCommand, stackName: string): Promise<number> {
  const cloudFormation = makeCloudFormationClient();
  const client = makeDocumentClient();
  const s3 = makeS3Client();
  try {
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = new Map(
      (described.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
    const missing = STACK_OUTPUTS.filter((name) => !outputs.get(name));
    if (missing.length > 0) {
      process.stderr.write(
        `papers export: stack ${stackName} has no ${missing.join(', ')} output(s): deploy this version of the pipeline (npx cdk deploy) first\n`,
      );
      return 1;
    }
    const output = (name: (typeof STACK_OUTPUTS)[number]) => outputs.get(name) ?? '';
    const store = new DynamoPaperStore(client, output('PapersTableName'), undefined, stderrLogger);
    const bucket = output('ArchiveBucketName');
    const days = await exportToBucket(store, s3, bucket, command.range, command.format, (day) =>
      process.stderr.write(`papers export: ${day.day}: ${day.rows} row(s) to s3://${bucket}/${day.key}\n`),
    );
    const rows = days.reduce((sum, day) => sum + day.rows, 0);
    process.stderr.write(
      `papers export: ${rows} row(s) in ${days.length} day file(s)` +
        (command.format === 'parquet'
          ? `; query them in Athena as "${output('ExportsDatabaseName')}"."${output('ExportsTableName')}"\n`
          : '\n'),
    );
    return 0;
  } finally {
    cloudFormation.destroy();
    client.destroy();
    s3.destroy();
  }
}

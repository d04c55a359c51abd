import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { listingUrlFor } from '../shared/history/day-range';
import type { FetchListingRequest } from '../shared/messages';
import { type IsoDate, IsoDateSchema } from '../shared/paper';
import { StackOutputsError } from './dead-letters';

/**
 * `papers backfill --aws`: the deployed backfill state machine (`infra/backfill-state-machine.ts`),
 * found through the stack's outputs, started with the days of a range, and followed.
 */

export const BACKFILL_OUTPUT = 'BackfillStateMachineArn';

/** The state machine's ARN, from the stack's `BackfillStateMachineArn` output. @throws StackOutputsError */
export async function backfillStateMachineArn(cloudFormation: CloudFormationClient, stackName: string) {
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const output = described.Stacks?.[0]?.Outputs?.find((candidate) => candidate.OutputKey === BACKFILL_OUTPUT);
  const arn = z.string().startsWith('arn:').safeParse(output?.OutputValue);
  if (!arn.success) {
    throw new StackOutputsError(
      `stack ${stackName} has no ${BACKFILL_OUTPUT} output: deploy this version of the pipeline (npx cdk deploy) first`,
    );
  }
  return arn.data;
}

/** The execution's input: one fetch-listing event per day, as the state machine's Map takes them. */
export function backfillInput(
  days: readonly IsoDate[],
  urlTemplate?: string,
): { days: FetchListingRequest[] } {
  return {
    days: days.map((date) => (urlTemplate ? { date, url: listingUrlFor(urlTemplate, date) } : { date })),
  };
}

export async function startBackfill(
  sfn: SFNClient,
  stateMachineArn: string,
  input: { days: FetchListingRequest[] },
): Promise<string> {
  const first = input.days[0]?.date ?? 'none';
  const last = input.days.at(-1)?.date ?? 'none';
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      // Names are unique per state machine for 90 days; the time keeps a rerun of a range apart.
      name: `backfill-${first}-${last}-${Date.now()}`,
      input: JSON.stringify(input),
    }),
  );
  if (!started.executionArn) throw new Error('StartExecution answered without an executionArn');
  return started.executionArn;
}

/** The Step Functions console page of an execution (its region is in its ARN). */
export function executionConsoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** What each day of a finished execution came to (the Map's `results`, see the state machine). */
const ExecutionOutputSchema = z.object({
  results: z.array(
    z.discriminatedUnion('status', [
      z.object({ status: z.literal('landed'), day: IsoDateSchema, papers: z.number().int().nonnegative() }),
      z.object({
        status: z.literal('failed'),
        day: IsoDateSchema,
        error: z.string(),
        cause: z.string().optional(),
      }),
    ]),
  ),
});
export type BackfillDayResult = z.infer<typeof ExecutionOutputSchema>['results'][number];

export interface ExecutionState {
  status: string;
  startedAt?: Date;
  stoppedAt?: Date;
  /** Per day, once the execution succeeded. */
  days?: BackfillDayResult[];
  error?: string;
  cause?: string;
}

export async function describeBackfill(sfn: SFNClient, executionArn: string): Promise<ExecutionState> {
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const state: ExecutionState = {
    status: described.status ?? 'UNKNOWN',
    startedAt: described.startDate,
    stoppedAt: described.stopDate,
    error: described.error,
    cause: described.cause,
  };
  if (described.output) {
    const output = ExecutionOutputSchema.safeParse(JSON.parse(described.output));
    if (output.success) state.days = output.data.results;
  }
  return state;
}

/** Polls the execution every `pollMs` until it is no longer running; tells `onStatus` of each change. */
export async function followBackfill(
  sfn: SFNClient,
  executionArn: string,
  { pollMs, onStatus }: { pollMs: number; onStatus: (state: ExecutionState) => void },
): Promise<ExecutionState> {
  let last: string | undefined;
  for (;;) {
    const state = await describeBackfill(sfn, executionArn);
    if (state.status !== last) onStatus(state);
    last = state.status;
    if (state.status !== 'RUNNING' && state.status !== 'PENDING_REDRIVE') return state;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

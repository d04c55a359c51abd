import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CfnResource, resourceByPrefix, synthTemplate } from './helpers';

/**
 * The backfill state machine as synthesized: its definition (Map, maxConcurrency, Retry, Wait)
 * and its role, read from the template.
 */

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: Record<string, unknown>;
  Seconds?: number;
  MaxConcurrency?: number;
  ItemsPath?: string;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
}

/** The definition, with each intrinsic written as `<LogicalId>` (the resource it points at). */
function definitionOf(resource: CfnResource): { StartAt: string; States: Record<string, State> } {
  const join = (resource.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const attribute = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      return attribute ? `<${attribute[0]}>` : '<ref>';
    })
    .join('');
  return JSON.parse(text);
}

let template: Template;
let definition: ReturnType<typeof definitionOf>;
let fetchFunctionId: string;

beforeAll(() => {
  template = synthTemplate();
  definition = definitionOf(
    resourceByPrefix(template, 'AWS::StepFunctions::StateMachine', 'BackfillStateMachine')[1],
  );
  [fetchFunctionId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
}, 120_000);

describe('the backfill state machine', () => {
  it('maps over the days of its input, at most 2 at once', () => {
    const map = definition.States[definition.StartAt];
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.days', MaxConcurrency: 2 });
  });

  it('invokes fetch-listing with each day as its event, retrying a failed run with backoff', () => {
    const days = definition.States[definition.StartAt]?.ItemProcessor;
    const fetch = days?.States[days.StartAt];
    expect(fetch?.Type).toBe('Task');
    expect(fetch?.Parameters).toEqual({ FunctionName: `<${fetchFunctionId}>`, 'Payload.$': '$' });
    const runRetry = fetch?.Retry?.find((retry) => retry.ErrorEquals.includes('States.TaskFailed'));
    expect(runRetry).toMatchObject({ IntervalSeconds: 60, MaxAttempts: 2, BackoffRate: 2 });
  });

  it('waits after every day, landed or failed, before the next one takes its slot', () => {
    const days = definition.States[definition.StartAt]?.ItemProcessor;
    const fetch = days?.States[days.StartAt] as State;
    const wait = days?.States[fetch.Next as string];
    expect(wait).toMatchObject({ Type: 'Wait', Seconds: 6, End: true });
    // A day that still fails is caught (reported in the output), then waits too.
    const caught = days?.States[fetch.Catch?.[0]?.Next as string];
    expect(fetch.Catch?.[0]?.ErrorEquals).toEqual(['States.ALL']);
    expect(caught).toMatchObject({ Type: 'Pass', Next: fetch.Next });
  });

  it('gives its role lambda:InvokeFunction on fetch-listing (and its versions) and on nothing else', () => {
    const [roleId] = resourceByPrefix(template, 'AWS::IAM::Role', 'BackfillStateMachineRole');
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy') as Record<string, CfnResource>,
    ).filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId));
    const statements = policies.flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    const invoking = statements.filter((statement) => JSON.stringify(statement.Action).includes('lambda:'));
    expect(invoking).toHaveLength(1);
    expect(invoking[0]?.Action).toBe('lambda:InvokeFunction');
    expect(invoking[0]?.Resource).toEqual([
      { 'Fn::GetAtt': [fetchFunctionId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fetchFunctionId, 'Arn'] }, ':*']] },
    ]);
    // The wildcard statement is logging and tracing only.
    const wildcard = statements.filter((statement) => statement.Resource === '*');
    for (const statement of wildcard) {
      for (const action of [statement.Action].flat() as string[]) expect(action).toMatch(/^(logs|xray):/);
    }
  });

  it('is named in the stack outputs for papers backfill --aws', () => {
    const outputs = template.findOutputs('BackfillStateMachineArn');
    expect(Object.keys(outputs)).toEqual(['BackfillStateMachineArn']);
  });
});

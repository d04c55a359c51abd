import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { backfillRun } from '../shared/resources';

export interface BackfillStateMachineProps {
  /** fetch-listing: invoked once per day, with the day's fetch request as its event. */
  readonly fetchListing: lambda.IFunction;
}

/**
 * The backfill on AWS, without a laptop attached: a Step Functions state machine that runs
 * fetch-listing once per day of its input, `{"days": [{"date": "2026-06-12"}, …]}` (each item
 * is fetch-listing's event, so it may carry a `url`), the way the daily schedule runs it.
 *
 * - A Map over the days, at most `backfillRun.maxConcurrency` at once.
 * - The fetch task is retried with backoff (fetch-listing already retries within a run; these
 *   retries are the ones Lambda would make for the schedule's asynchronous invocation).
 * - Each day ends with a Wait before its slot goes to the next day, so the run stays within the
 *   upstream's limit however fast the fetches are (see `backfillRun`).
 * - A day that still fails is caught and reported in the output with its error; the others go on.
 *
 * Its role may invoke that one function and nothing else (plus what logging and tracing need).
 */
export class BackfillStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: BackfillStateMachineProps) {
    super(scope, id);

    const fetchDay = new tasks.LambdaInvoke(this, 'FetchDay', {
      lambdaFunction: props.fetchListing,
      // The item is the day's fetch request, as the schedule would send it.
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      resultSelector: {
        'day.$': '$.Payload.day',
        'papers.$': '$.Payload.papers',
        status: 'landed',
      },
    });
    fetchDay.addRetry({
      errors: [sfn.Errors.TASKS_FAILED, 'Lambda.TooManyRequestsException'],
      interval: Duration.seconds(backfillRun.retryIntervalSeconds),
      backoffRate: 2,
      maxAttempts: backfillRun.retryAttempts,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const dayFailed = new sfn.Pass(this, 'DayFailed', {
      parameters: {
        'day.$': '$.date',
        status: 'failed',
        'error.$': '$.failure.Error',
        'cause.$': '$.failure.Cause',
      },
    });
    fetchDay.addCatch(dayFailed, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const pause = new sfn.Wait(this, 'WaitBetweenDays', {
      time: sfn.WaitTime.duration(Duration.seconds(backfillRun.waitBetweenDaysSeconds)),
    });
    fetchDay.next(pause);
    dayFailed.next(pause);

    const eachDay = new sfn.Map(this, 'EachDay', {
      itemsPath: sfn.JsonPath.stringAt('$.days'),
      maxConcurrency: backfillRun.maxConcurrency,
      resultPath: '$.results',
    });
    eachDay.itemProcessor(fetchDay);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment:
        'Backfill: fetch-listing once per day of the input, a few days at a time, within the upstream limit',
      definitionBody: sfn.DefinitionBody.fromChainable(eachDay),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    const role = this.stateMachine.role;
    const stack = Stack.of(this);
    const functionLogicalId = stack.getLogicalId(props.fetchListing.node.defaultChild as lambda.CfnFunction);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on fetch-listing's own versions and aliases (ARN:*), as CDK's LambdaInvoke grants it; no other function.",
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs log delivery (logs:CreateLogDelivery and its kin) and X-Ray (PutTraceSegments) take no resource-level permissions; the role may invoke nothing but fetch-listing.',
    });
  }
}

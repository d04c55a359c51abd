import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPipelineContext } from '../../infra/pipeline-app';
import { parseFetchRequest, requestedDay } from '../../shared/messages';
import { type CfnResource, resourceByPrefix, synthTemplate } from './helpers';

/**
 * The daily run re-fetches the past days whose upvotes still move: one EventBridge Scheduler
 * schedule per day back, each invoking fetch-listing on its own (each run gets the whole timeout
 * its fetch budget was checked against), with the day's fetch request plus `daysAgo`.
 */

type ScheduleTarget = { Arn: unknown; Input: string; DeadLetterConfig: unknown; RoleArn: unknown };

function schedules(template: Template): Record<string, ScheduleTarget & { cron: unknown }> {
  const found = template.findResources('AWS::Scheduler::Schedule') as Record<string, CfnResource>;
  return Object.fromEntries(
    Object.entries(found).map(([id, resource]) => [
      id.replace(/[0-9A-F]{8}$/, ''),
      { ...(resource.Properties.Target as ScheduleTarget), cron: resource.Properties.ScheduleExpression },
    ]),
  );
}

/** The day each schedule's run fetches when it fires at `scheduledTime`, as fetch-listing reads its input. */
function daysFetched(template: Template, scheduledTime: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(schedules(template)).map(([id, target]) => [
      id,
      requestedDay(
        parseFetchRequest(
          JSON.parse(target.Input.replace('<aws.scheduler.scheduled-time>', scheduledTime)) as unknown,
        ),
      ),
    ]),
  );
}

let template: Template;
beforeAll(() => {
  template = synthTemplate();
});

describe('the revisit schedules', () => {
  it('re-fetch each of the 7 days before the day by default, on the daily cron', () => {
    expect(daysFetched(template, '2026-06-12T23:30:00Z')).toEqual({
      DailyFetch: '2026-06-12',
      RevisitFetch1: '2026-06-11',
      RevisitFetch2: '2026-06-10',
      RevisitFetch3: '2026-06-09',
      RevisitFetch4: '2026-06-08',
      RevisitFetch5: '2026-06-07',
      RevisitFetch6: '2026-06-06',
      RevisitFetch7: '2026-06-05',
    });
    expect(JSON.parse(schedules(template).RevisitFetch3?.Input ?? '{}')).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
      daysAgo: 3,
    });
  });

  it('invoke the same function with the daily schedule’s role and dead-letter queue', () => {
    const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    const all = Object.values(schedules(template));
    const daily = schedules(template).DailyFetch;

    for (const target of all) {
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
      expect(target.RoleArn).toEqual(daily?.RoleArn);
      expect(target.DeadLetterConfig).toEqual(daily?.DeadLetterConfig);
      expect(target.cron).toEqual(daily?.cron);
    }
  });

  it('take their number from the revisitDays context key, 0 turning them off', () => {
    expect(Object.keys(daysFetched(synthTemplate({ revisitDays: '2' }), '2026-06-12T23:30:00Z'))).toEqual([
      'DailyFetch',
      'RevisitFetch1',
      'RevisitFetch2',
    ]);
    expect(Object.keys(schedules(synthTemplate({ revisitDays: 0 })))).toEqual(['DailyFetch']);
  });

  it.each(['-1', '31', '2.5', 'seven'])('refuse revisitDays=%j at synth, naming the key', (value) => {
    expect(readPipelineContext(new App({ context: { revisitDays: value } })).problems).toEqual([
      `context "revisitDays" must be a whole number of days from 0 to 30; got ${JSON.stringify(value)}`,
    ]);
  });
});

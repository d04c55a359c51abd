import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CfnResource, resourceByPrefix, synthTemplate } from './helpers';

/**
 * The model drift alarms in the synthesized template: each live quality figure over 7 days against
 * the committed model's validation figure (read here from metrics.json itself) minus 5 points.
 */

let template: Template;
const metrics = JSON.parse(
  readFileSync(new URL('../../shared/classify/model/metrics.json', import.meta.url), 'utf8'),
) as { validation: Record<string, number> };

beforeAll(() => {
  template = synthTemplate();
});

interface MetricDataQuery {
  Id: string;
  Expression?: string;
  ReturnData?: boolean;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
}

describe.each([
  ['ModelDriftTop1IsPrimaryAlarm', 'ModelTop1IsPrimary', 'top1IsPrimary'],
  ['ModelDriftTop1InCategoriesAlarm', 'ModelTop1InCategories', 'top1InCategories'],
  ['ModelDriftPrimaryInTop3Alarm', 'ModelPrimaryInTop3', 'primaryInTop3'],
])('%s', (alarmId, metricName, figure) => {
  let alarm: CfnResource;
  beforeAll(() => {
    [, alarm] = resourceByPrefix(template, 'AWS::CloudWatch::Alarm', alarmId);
  });

  it(`fires when the 7-day ${metricName} is 5 points below the validation figure in metrics.json`, () => {
    const validationPercent = (metrics.validation[figure] as number) * 100;
    expect(alarm.Properties.Threshold).toBeCloseTo(validationPercent - 5, 1);
    expect(alarm.Properties).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it("averages classify-paper's per-paper values over one 7-day period, and only with 50 papers or more", () => {
    const queries = alarm.Properties.Metrics as MetricDataQuery[];
    const returned = queries.filter((query) => query.ReturnData !== false);
    expect(returned).toHaveLength(1);
    expect(returned[0]?.Expression).toBe('IF(papers >= 50, live)');
    const byId = new Map(queries.map((query) => [query.Id, query.MetricStat]));
    for (const [id, stat] of [
      ['live', 'Average'],
      ['papers', 'SampleCount'],
    ]) {
      expect(byId.get(id as string)).toEqual({
        Metric: {
          Namespace: 'DailyPapers',
          MetricName: metricName,
          Dimensions: [{ Name: 'service', Value: 'classify-paper' }],
        },
        Period: 7 * 24 * 60 * 60,
        Stat: stat,
      });
    }
  });

  it('notifies the alarm topic', () => {
    const [topicId] = resourceByPrefix(template, 'AWS::SNS::Topic', 'AlarmTopic');
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});

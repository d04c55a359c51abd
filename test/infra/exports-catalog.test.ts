import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, resourceByPrefix, validationFailures } from './helpers';

/**
 * The Glue database and table over the Parquet exports: Athena reads `exports/papers/` of the
 * archive bucket, partitioned by listing day through partition projection, with the export's columns.
 */

let template: Template;
let nagFailures: string[];
beforeAll(() => {
  const { app, stack } = buildApp();
  template = Template.fromStack(stack);
  nagFailures = validationFailures(app);
});

type TableInput = {
  Name: string;
  PartitionKeys: { Name: string; Type: string }[];
  Parameters: Record<string, unknown>;
  StorageDescriptor: {
    Location: unknown;
    Columns: { Name: string; Type: string }[];
    SerdeInfo: unknown;
    InputFormat: string;
  };
};

function tableInput(): TableInput {
  const [, table] = resourceByPrefix(template, 'AWS::Glue::Table', 'ExportsTable');
  return table.Properties.TableInput as TableInput;
}

describe('the exports table', () => {
  it('reads Parquet under exports/papers/ of the archive bucket', () => {
    const [bucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    const input = tableInput();

    expect(input.StorageDescriptor.Location).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/exports/papers/']],
    });
    expect(input.StorageDescriptor.InputFormat).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    );
    expect(input.StorageDescriptor.SerdeInfo).toEqual({
      SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    });
  });

  it('projects the listed_on partitions, one a day from 2023-05-01 to today, onto their folders', () => {
    const [bucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    const input = tableInput();

    expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'listed_on', Type: 'string' })]);
    expect(input.Parameters).toEqual(
      expect.objectContaining({
        'projection.enabled': 'true',
        'projection.listed_on.type': 'date',
        'projection.listed_on.format': 'yyyy-MM-dd',
        'projection.listed_on.range': '2023-05-01,NOW',
        'projection.listed_on.interval': '1',
        'projection.listed_on.interval.unit': 'DAYS',
        'storage.location.template': {
          // Athena's own placeholder, kept as text in the template.
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholder, not ours
          'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/exports/papers/listed_on=${listed_on}/']],
        },
      }),
    );
  });

  it('has the columns of an export row, typed as Athena reads the Parquet file', () => {
    const columns = Object.fromEntries(tableInput().StorageDescriptor.Columns.map((c) => [c.Name, c.Type]));

    expect(columns).toEqual({
      id: 'string',
      title: 'string',
      authors: 'array<string>',
      organization: 'string',
      organization_fullname: 'string',
      published_on: 'string',
      upvotes: 'int',
      comments: 'int',
      arxiv_url: 'string',
      huggingface_url: 'string',
      github_url: 'string',
      project_page_url: 'string',
      primary_category: 'string',
      categories: 'array<struct<code:string,score:double,assigned:boolean>>',
      category_source: 'string',
      classifier_version: 'string',
      fetched_at: 'string',
    });
  });

  it('lives in a database of its own, named in the outputs for papers export --aws', () => {
    template.hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: 'dailypaperspipeline_exports' },
    });
    template.hasResourceProperties('AWS::Glue::Table', { DatabaseName: 'dailypaperspipeline_exports' });
    template.hasOutput('ExportsDatabaseName', { Value: 'dailypaperspipeline_exports' });
    template.hasOutput('ExportsTableName', { Value: 'papers' });
    template.hasOutput('ArchiveBucketName', { Value: Match.anyValue() });
  });

  it('keeps the stack cdk-nag clean', () => {
    expect(nagFailures).toEqual([]);
  });
});

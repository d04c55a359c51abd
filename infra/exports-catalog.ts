import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  EXPORT_COLUMNS,
  EXPORT_PARTITION,
  EXPORTS_FIRST_DAY,
  EXPORTS_PREFIX,
  hiveType,
} from '../shared/export/columns';

export interface ExportsCatalogProps {
  /** The bucket `papers export --aws` writes to (the archive bucket). */
  readonly bucket: s3.IBucket;
}

/**
 * A Glue database and table over the Parquet exports (`exports/papers/listed_on=YYYY-MM-DD/`), so
 * a team can query the whole history with Athena without touching DynamoDB. The table's columns
 * are the export's own (`shared/export/columns.ts`), so the two cannot drift. Partition projection
 * on `listed_on` (a date, a day apart, from HF Daily Papers' first day to today) spares a crawler
 * or `MSCK REPAIR`: a day exported is queryable at once, a day not exported reads as empty.
 */
export class ExportsCatalog extends Construct {
  readonly databaseName: string;
  readonly tableName = 'papers';

  constructor(scope: Construct, id: string, props: ExportsCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Glue names are lower-case letters, digits and underscores.
    this.databaseName = `${stack.stackName.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_exports`;
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'Exports of the daily papers table (papers export --aws), for Athena',
      },
    });
    const location = `s3://${props.bucket.bucketName}/${EXPORTS_PREFIX}`;
    const table = new glue.CfnTable(this, 'Table', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'One row per (paper, listing day); the columns are described in the README ("Exports")',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: EXPORT_PARTITION, type: 'string', comment: 'the listing day, YYYY-MM-DD' }],
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          [`projection.${EXPORT_PARTITION}.type`]: 'date',
          [`projection.${EXPORT_PARTITION}.format`]: 'yyyy-MM-dd',
          [`projection.${EXPORT_PARTITION}.range`]: `${EXPORTS_FIRST_DAY},NOW`,
          [`projection.${EXPORT_PARTITION}.interval`]: '1',
          [`projection.${EXPORT_PARTITION}.interval.unit`]: 'DAYS',
          'storage.location.template': `${location}${EXPORT_PARTITION}=\${${EXPORT_PARTITION}}/`,
        },
        storageDescriptor: {
          location,
          columns: EXPORT_COLUMNS.filter((column) => column.name !== EXPORT_PARTITION).map((column) => ({
            name: column.name,
            type: hiveType(column.kind),
            comment: column.description,
          })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
    table.addResourceDependency(database);
  }
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The one place that knows how to build SDK clients. On AWS they use the
 * function's role and region. Locally an endpoint (from `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, see `shared/config.ts`)
 * points them at the in-process stand-ins, with dummy credentials and
 * path-style S3 addressing.
 *
 * Each function imports only the factories it uses, so a bundle carries only
 * its own clients; call them once, at module scope.
 */

function localOptions(endpoint: string | undefined) {
  if (!endpoint) return {};
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

export function makeS3Client(endpoint?: string): S3Client {
  return new S3Client({ ...localOptions(endpoint), forcePathStyle: Boolean(endpoint) });
}

export function makeSqsClient(endpoint?: string): SQSClient {
  return new SQSClient(localOptions(endpoint));
}

export function makeDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(localOptions(endpoint)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

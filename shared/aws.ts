import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The one place that knows how to build SDK clients. On AWS they use the
 * function's role and region. Locally `AWS_ENDPOINT_URL` points them at the
 * in-process stand-ins, with dummy credentials and path-style S3 addressing.
 *
 * Each function imports only the factories it uses, so a bundle carries only
 * its own clients; call them once, at module scope.
 */

interface ClientOptions {
  endpoint?: string;
}

function commonOptions({ endpoint }: ClientOptions) {
  if (!endpoint) return {};
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

export function makeS3Client(options: ClientOptions = {}): S3Client {
  return new S3Client({ ...commonOptions(options), forcePathStyle: Boolean(options.endpoint) });
}

export function makeSqsClient(options: ClientOptions = {}): SQSClient {
  return new SQSClient(commonOptions(options));
}

export function makeDocumentClient(options: ClientOptions = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(commonOptions(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

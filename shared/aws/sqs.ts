import { SQSClient } from '@aws-sdk/client-sqs';
import { localOptions } from './local-options';

export function makeSqsClient(endpoint?: string): SQSClient {
  return new SQSClient(localOptions(endpoint));
}

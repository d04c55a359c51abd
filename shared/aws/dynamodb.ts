import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localOptions } from './local-options';

/** A document client: items in and out as plain objects; undefined attributes are dropped, not stored. */
export function makeDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(localOptions(endpoint)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

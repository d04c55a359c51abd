import { CloudFormationClient } from '@aws-sdk/client-cloudformation';

/**
 * For tools that read a deployed stack (the dead-letter tool's `--aws --stack`), never
 * for a function: the caller's credentials and region, and `AWS_ENDPOINT_URL_CLOUDFORMATION`
 * if set (the SDK reads it itself).
 */
export function makeCloudFormationClient(): CloudFormationClient {
  return new CloudFormationClient({});
}

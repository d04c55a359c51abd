import { SFNClient } from '@aws-sdk/client-sfn';

/**
 * For tools that drive the deployed backfill (`papers backfill --aws`), never for a function:
 * the caller's credentials and region, and `AWS_ENDPOINT_URL_SFN` if set (the SDK reads it itself).
 */
export function makeStepFunctionsClient(): SFNClient {
  return new SFNClient({});
}

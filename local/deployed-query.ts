import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { makeCloudFormationClient } from '../shared/aws/cloudformation';
import { makeFunctionUrlClient } from '../shared/aws/function-url-client';
import { StackOutputsError } from './dead-letters';
import type { FunctionUrlHandler } from './http-adapter';

/**
 * `papers query --aws --stack NAME`: the deployed query API in the shape of the local handler, so
 * `runQuery` pages, prints and fails the same way for both. The Function URL comes from the
 * stack's `QueryFunctionUrl` output; credentials and region from the SDK's default chain (as the
 * CloudFormation client resolves them), and every request is SigV4-signed for `lambda`.
 */

const QUERY_URL_OUTPUT = 'QueryFunctionUrl';

const AwsErrorSchema = z.object({ Message: z.string() });

/** @throws StackOutputsError when the stack has no `QueryFunctionUrl` output. */
export async function deployedQueryHandler(stackName: string): Promise<FunctionUrlHandler> {
  const cloudFormation = makeCloudFormationClient();
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const output = described.Stacks?.[0]?.Outputs?.find(
    (candidate) => candidate.OutputKey === QUERY_URL_OUTPUT,
  );
  const url = z.url().safeParse(output?.OutputValue);
  if (!url.success) {
    throw new StackOutputsError(
      `stack ${stackName} has no ${QUERY_URL_OUTPUT} output: deploy the pipeline (npx cdk deploy) first`,
    );
  }
  const client = makeFunctionUrlClient(url.data, {
    credentials: cloudFormation.config.credentials,
    region: await cloudFormation.config.region(),
  });
  return async (event): Promise<APIGatewayProxyStructuredResultV2> => {
    const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
    const response = await client.get(`${event.rawPath}${query}`);
    if (response.statusCode === 403) {
      // AWS's own refusal (`{"Message": …}`), not the API's: say what usually fixes it.
      const refusal = AwsErrorSchema.safeParse(safeJson(response.body));
      const reason = refusal.success ? refusal.data.Message : response.body.slice(0, 200);
      return {
        statusCode: 403,
        body: JSON.stringify({
          message: `the query API refused the signed request (403: ${reason}); attach the stack's QueryApiInvokePolicyArn policy to your role or user, and check the region`,
        }),
      };
    }
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

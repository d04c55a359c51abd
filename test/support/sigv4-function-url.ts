import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionUrlSigner, unsignedRequest } from '../../shared/aws/function-url-client';

/**
 * A Function URL with `AWS_IAM` auth on 127.0.0.1, checking each request's SigV4 signature the
 * way the service does: it knows the secret of each access key, rebuilds the canonical request
 * from what arrived (method, host, path, query, the headers the request says it signed), signs
 * it again with the SDK's signer at the request's own `x-amz-date`, and compares. A missing or
 * wrong signature, an unknown key, a date more than 5 minutes off its clock, or a credential
 * scope for another region or service is a 403, as from AWS.
 */

export interface VerifyingFunctionUrl {
  /** `http://127.0.0.1:<port>/`, as a Function URL's output ends in `/`. */
  url: string;
  /** Every request that reached it, with whether its signature held. */
  requests: { path: string; verified: boolean; reason?: string }[];
  close(): Promise<void>;
}

export interface VerifyingFunctionUrlOptions {
  /** Secret access key by access key id: the keys the service knows. */
  keys: Record<string, string>;
  region: string;
  /** The service's clock. @default the system clock */
  now?: () => Date;
  /** Answers a verified request (path with query string). */
  answer: (pathAndQuery: string) => { statusCode: number; body: unknown };
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60 * 1000;

export async function startVerifyingFunctionUrl(
  options: VerifyingFunctionUrlOptions,
): Promise<VerifyingFunctionUrl> {
  const requests: VerifyingFunctionUrl['requests'] = [];
  const server: Server = createServer((request, response) => {
    verify(request, options).then(
      (refusal) => {
        const path = request.url ?? '/';
        requests.push({ path, verified: refusal === undefined, reason: refusal });
        if (refusal !== undefined) {
          response
            .writeHead(403, { 'content-type': 'application/json' })
            .end(JSON.stringify({ Message: refusal }));
          return;
        }
        const { statusCode, body } = options.answer(path);
        response.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      (error: unknown) => {
        response.writeHead(500).end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Why the request is refused, or undefined when its signature holds. */
async function verify(
  request: IncomingMessage,
  options: VerifyingFunctionUrlOptions,
): Promise<string | undefined> {
  const match = AUTHORIZATION.exec(String(request.headers.authorization ?? ''));
  if (!match) return 'Missing Authentication Token';
  const [, accessKeyId = '', day, region, service, signedHeaders = ''] = match;
  const secretAccessKey = options.keys[accessKeyId];
  if (secretAccessKey === undefined) return 'The security token included in the request is invalid.';
  if (region !== options.region || service !== 'lambda')
    return 'Credential should be scoped to a valid region/service.';
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== day) return 'Invalid x-amz-date';
  if (Math.abs((options.now?.() ?? new Date()).getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    return 'Signature expired';
  }
  const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
  const rebuilt = unsignedRequest(request.method ?? 'GET', url);
  for (const name of signedHeaders.split(';')) {
    const value = request.headers[name];
    if (value === undefined) return `Signed header ${name} is missing`;
    rebuilt.headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const sessionToken = request.headers['x-amz-security-token'];
  const signer = functionUrlSigner(
    { accessKeyId, secretAccessKey, ...(typeof sessionToken === 'string' ? { sessionToken } : {}) },
    options.region,
  );
  const expected = await signer.sign(rebuilt, { signingDate });
  return expected.headers.authorization === request.headers.authorization
    ? undefined
    : 'The request signature we calculated does not match the signature you provided.';
}

function parseAmzDate(value: string): Date | undefined {
  const parts = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!parts) return undefined;
  const [, y, mo, d, h, mi, s] = parts;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';

/**
 * Calls a Lambda Function URL with `AWS_IAM` auth from a tool (never from a function): each
 * request SigV4-signed for the service `lambda` by the SDK's own signer (`@smithy/signature-v4`
 * with the SDK's `Sha256`, the versions the SDK clients use), as the Function URL checks it.
 */

/** The signing name of Lambda Function URLs. */
export const FUNCTION_URL_SIGNING_SERVICE = 'lambda';

export interface FunctionUrlClientOptions {
  /** The caller's credentials, or the SDK provider that resolves them (the default chain). */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The region of the function (the stack's). */
  region: string;
  /** The signing clock; injectable so a test can pin the signature. @default the system clock */
  now?: () => Date;
}

export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The signer a Function URL request needs; the verifying side of a test uses the same one. */
export function functionUrlSigner(
  credentials: FunctionUrlClientOptions['credentials'],
  region: string,
): SignatureV4 {
  return new SignatureV4({ service: FUNCTION_URL_SIGNING_SERVICE, region, credentials, sha256: Sha256 });
}

/** `url` as the unsigned request the signer takes: host header, path, and the query as name → value(s). */
export function unsignedRequest(method: string, url: URL): HttpRequest {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { host: url.host },
  };
}

/**
 * A client for one Function URL: `get('/papers?date=…')` resolves the path against the URL,
 * signs the request and answers with the status, headers and body as text. Any status is an
 * answer (a 403 for a refused signature included); only a network failure rejects.
 */
export function makeFunctionUrlClient(functionUrl: string, options: FunctionUrlClientOptions) {
  const signer = functionUrlSigner(options.credentials, options.region);
  const now = options.now ?? (() => new Date());
  return {
    async get(pathAndQuery: string): Promise<FunctionUrlResponse> {
      // The Function URL ends in `/`; the API's paths start with one.
      const url = new URL(pathAndQuery.replace(/^\/+/, ''), functionUrl);
      const signed = await signer.sign(unsignedRequest('GET', url), { signingDate: now() });
      return send(url, signed.headers);
    },
  };
}

function send(url: URL, headers: Record<string, string>): Promise<FunctionUrlResponse> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'GET', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const received: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) received[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({
          statusCode: response.statusCode ?? 0,
          headers: received,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

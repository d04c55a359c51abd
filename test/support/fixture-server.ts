import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where the real listings copied from ../shared live in the project. */
export const LISTINGS_DIR = new URL('../fixtures/listings/', import.meta.url);

export async function readListing(name: string): Promise<Buffer> {
  return readFile(new URL(name, LISTINGS_DIR));
}

export type Route = (url: URL, request: IncomingMessage) => FixtureResponse | Promise<FixtureResponse>;

export interface FixtureResponse {
  status?: number;
  body: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface FixtureServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every request URL the server saw, in order, with its User-Agent. */
  requests: { url: URL; userAgent?: string }[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (ephemeral port) answering from `route`, so fetch code runs for real. */
export async function startFixtureServer(route: Route): Promise<FixtureServer> {
  const requests: FixtureServer['requests'] = [];
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push({ url, userAgent: request.headers['user-agent'] });
    try {
      const answer = await route(url, request);
      response.writeHead(answer.status ?? 200, {
        'content-type': answer.contentType ?? 'application/json',
        ...answer.headers,
      });
      response.end(answer.body);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // A route that never answers leaves its connection open: end it rather than wait for it.
        server.closeAllConnections();
      }),
  };
}

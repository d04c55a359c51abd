import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the arXiv export API on 127.0.0.1: answers `?id_list=a,b&max_results=n` with an
 * Atom feed in the API's format, one `<entry>` per known id. Each entry is one of the real
 * entries of `arxiv-export-api-2026-06-14.atom.xml` (chosen by the id, so the same id always gets
 * the same one), under the id asked for: its categories, comment, DOI and dates are arXiv's own.
 * A test can give an id other categories, make ids unknown, answer with a status first, or hang.
 */

const FIXTURE = new URL('../fixtures/listings/arxiv-export-api-2026-06-14.atom.xml', import.meta.url);

export interface ArxivRequest {
  ids: string[];
  maxResults: number;
  userAgent?: string;
  /** When the request arrived and when its answer was finished (epoch ms). */
  startedAt: number;
  endedAt?: number;
}

export interface ArxivServer {
  /** `http://127.0.0.1:<port>/api/query` */
  url: string;
  requests: ArxivRequest[];
  /** arXiv's categories for `id`, primary first, as this server answers them. */
  categoriesOf(id: string): string[];
  /** Answers `id` with these categories (primary first) from now on. */
  setCategories(id: string, categories: string[]): void;
  /** ids answered as if arXiv did not have them. */
  unknown: Set<string>;
  /** Statuses to answer the next requests with, in turn, before answering normally (e.g. [503]). */
  failNext: number[];
  /** While true, requests get no answer at all (arXiv hanging). */
  hang: boolean;
  close(): Promise<void>;
}

const text = readFileSync(FIXTURE, 'utf8');
const header = text.slice(0, text.indexOf('<entry>'));
const templates = [...text.matchAll(/<entry>[\s\S]*?<\/entry>/g)].map((match) => match[0]);

function templateFor(id: string): string {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return templates[hash % templates.length] as string;
}

function templateCategories(entry: string): string[] {
  const primary = /<arxiv:primary_category term="([^"]+)"/.exec(entry)?.[1];
  const all = [...entry.matchAll(/<category term="([^"]+)"/g)].map((match) => match[1] as string);
  return [...new Set([primary, ...all].filter((code): code is string => !!code))];
}

function entryFor(id: string, categories: string[] | undefined): string {
  let entry = templateFor(id).replace(/<id>[^<]*<\/id>/, `<id>http://arxiv.org/abs/${id}v2</id>`);
  if (categories) {
    entry = entry
      .replace(/\s*<category [^>]*\/>/g, '')
      .replace(/\s*<arxiv:primary_category [^>]*\/>/, '')
      .replace(
        '</entry>',
        `${categories.map((code) => `  <category term="${code}" scheme="http://arxiv.org/schemas/atom"/>\n`).join('')}` +
          `    <arxiv:primary_category term="${categories[0]}"/>\n  </entry>`,
      );
  }
  return entry;
}

export async function startArxivServer(): Promise<ArxivServer> {
  const overrides = new Map<string, string[]>();
  const hanging = new Set<ServerResponse>();
  const state: Omit<ArxivServer, 'url' | 'close' | 'categoriesOf' | 'setCategories'> = {
    requests: [],
    unknown: new Set(),
    failNext: [],
    hang: false,
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const ids = (url.searchParams.get('id_list') ?? '').split(',').filter(Boolean);
    const record: ArxivRequest = {
      ids,
      maxResults: Number(url.searchParams.get('max_results')),
      userAgent: request.headers['user-agent'],
      startedAt: Date.now(),
    };
    state.requests.push(record);
    response.on('close', () => {
      record.endedAt = Date.now();
    });
    if (state.hang) {
      hanging.add(response);
      return;
    }
    const status = state.failNext.shift();
    if (status !== undefined) {
      response.writeHead(status, { 'content-type': 'text/plain', 'retry-after': '0' });
      response.end('arXiv is busy');
      return;
    }
    const entries = ids
      .filter((id) => !state.unknown.has(id))
      .map((id) => `  ${entryFor(id, overrides.get(id))}\n`);
    response.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' });
    response.end(`${header}${entries.join('')}</feed>\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/api/query`,
    categoriesOf: (id: string) => overrides.get(id) ?? templateCategories(templateFor(id)),
    setCategories: (id: string, categories: string[]) => {
      overrides.set(id, categories);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  });
}

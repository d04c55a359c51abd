import { describe, expect, it } from 'vitest';
import { webAsset } from '../../shared/query/web-page';

const get = (path: string) => webAsset({ method: 'GET', path, headers: {} }, '*');

describe('webAsset', () => {
  it('serves the page at / as HTML that loads only its own files, under a CSP of self only', () => {
    const page = get('/');

    expect(page?.statusCode).toBe(200);
    expect(page?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page?.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self';/);
    const references = [...(page?.body ?? '').matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(references).toContain('web/page.js');
    expect(references).toContain('web/page.css');
    expect(references.filter((reference) => /^(?:[a-z]+:)?\/\//i.test(reference ?? ''))).toEqual([]);
  });

  it('serves the script and the style sheet with their content types', () => {
    expect(get('/web/page.js')?.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(get('/web/page.js')?.body).toContain("fetch(path, { headers: { accept: 'application/json' } })");
    expect(get('/web/page.css')?.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers every method on its paths: HEAD without the body, OPTIONS with allow, others 405', () => {
    const head = webAsset({ method: 'HEAD', path: '/web/page.css', headers: {} }, '*');
    const options = webAsset({ method: 'OPTIONS', path: '/', headers: {} }, '*');
    const post = webAsset({ method: 'POST', path: '/', headers: {} }, '*');

    expect(head?.statusCode).toBe(200);
    expect(head?.body).toBe('');
    expect(head?.headers['content-length']).toBe(String(Buffer.byteLength(get('/web/page.css')?.body ?? '')));
    expect(options).toEqual({
      statusCode: 204,
      // Any origin may read: the CORS headers are on every answer, asked for or not.
      headers: {
        allow: 'GET, HEAD, OPTIONS',
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'etag, link, content-length',
      },
      body: '',
    });
    expect(post?.statusCode).toBe(405);
    expect(post?.headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('leaves every other path to the JSON API: other files, directories, inherited names', () => {
    expect(get('/web/other.js')).toBeUndefined();
    expect(get('/web/')).toBeUndefined();
    expect(get('constructor')).toBeUndefined();
    expect(get('/papers')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { webAsset } from '../../shared/query/web-page';

describe('webAsset', () => {
  it('serves the page at / as HTML that loads only its own files, under a CSP of self only', () => {
    const page = webAsset('GET', '/');

    expect(page?.statusCode).toBe(200);
    expect(page?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page?.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self';/);
    const references = [...(page?.body ?? '').matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(references).toContain('web/page.js');
    expect(references).toContain('web/page.css');
    expect(references.filter((reference) => /^(?:[a-z]+:)?\/\//i.test(reference ?? ''))).toEqual([]);
  });

  it('serves the script and the style sheet with their content types', () => {
    expect(webAsset('GET', '/web/page.js')?.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(webAsset('GET', '/web/page.js')?.body).toContain(
      "fetch(path, { headers: { accept: 'application/json' } })",
    );
    expect(webAsset('GET', '/web/page.css')?.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('leaves every other request to the JSON API: other methods, other paths, inherited names', () => {
    expect(webAsset('POST', '/')).toBeUndefined();
    expect(webAsset('GET', '/web/other.js')).toBeUndefined();
    expect(webAsset('GET', '/web/')).toBeUndefined();
    expect(webAsset('GET', 'constructor')).toBeUndefined();
    expect(webAsset('GET', '/papers')).toBeUndefined();
  });
});

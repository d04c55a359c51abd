/**
 * `npm run openapi`: writes the query API's OpenAPI document (`shared/query/openapi.ts`) to
 * `shared/query/web/openapi.json`, the file `GET /openapi.json` serves. Run it after changing a
 * route, a parameter or a response schema; `test/query/openapi.test.ts` fails until the committed
 * file says what the code describes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../shared/query/openapi';
import { OPENAPI_DOCUMENT_FILE } from '../shared/query/web-page';

const file = fileURLToPath(OPENAPI_DOCUMENT_FILE);
// Indented for a readable diff; the handler serves it compact, as `JSON.stringify` gives it.
writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${file}`);

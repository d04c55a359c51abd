/**
 * zod for everything the Lambda bundles load: `zod/mini`, the tree-shakable build of the same
 * zod 4 (functions such as `z.optional(s)` and `s.check(z.minLength(1))` instead of methods).
 * Classic `zod` is loaded whole, whichever parts are used (every classic schema carries its
 * JSON Schema conversion): ~63 KB more in each bundle (41 KB in query's, which converts for
 * `/openapi.json`). One classic import anywhere a bundle reaches brings all of it back, so
 * everything under `shared/` and `functions/` imports zod from here (biome.json enforces it).
 *
 * Unlike classic, mini loads no locale: without one every issue reads "Invalid input". The
 * English one is configured here, once, so messages (which the API returns and tests assert on)
 * are the ones classic gives.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';

#!/usr/bin/env node
/**
 * `papers` (package.json "bin"; `npx papers …` from the project folder): the launcher of
 * `local/cli.ts`. Plain JavaScript so Node runs it without a build step; it registers tsx's
 * loader in this process rather than spawning the `tsx` binary, which would start a second
 * Node process (its CLI re-executes Node with the loader) before any of our code runs.
 */
import { register } from 'tsx/esm/api';

register();
await import('../local/cli.ts');

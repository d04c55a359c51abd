/**
 * The exporting process of `history.exportPeakRssMb` (bench/suites/history-export.ts): connects to
 * the stack its parent owns, as `papers export` does when another process owns the stack, exports
 * the range to JSON lines and prints its own figures as JSON on the last line. Run with
 * `--expose-gc`, so the baseline is taken after a full collection.
 */
import { performance } from 'node:perf_hooks';
import { writeExport } from '../../local/commands/export';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { exportRows } from '../../shared/export/export-rows';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';

const [endpoint, table, from, to, out] = process.argv.slice(2);
if (!endpoint || !table || !from || !to || !out) throw new Error('usage: ENDPOINT TABLE FROM TO OUT');

const client = makeDocumentClient(endpoint);
const store = new DynamoPaperStore(client, table);
globalThis.gc?.();
await new Promise((resolve) => setTimeout(resolve, 200));
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10);
const start = performance.now();
const { rows } = await writeExport(exportRows(store, { from, to }), { format: 'jsonl', out });
const seconds = (performance.now() - start) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
client.destroy();
process.stdout.write(
  `\n${JSON.stringify({ rows, seconds, baseline, peak, gc: globalThis.gc !== undefined })}\n`,
);

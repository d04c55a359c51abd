/**
 * Builds `test/fixtures/listings/hf-papers-page-2026-07-10.html`, a realistic
 * Hugging Face papers listing page (`huggingface.co/papers/date/2026-07-10`),
 * from real material: the 2026-07-10 items of the saved API response
 * `hf-daily-papers-2026-07-10+13.json`, wrapped in the head, header and footer
 * of the saved paper page `hf-paper-page-2509.24002.html`. As on the live site,
 * the papers travel in the `data-props` of a `SVELTE_HYDRATER` element with
 * `data-target="DailyPapers"`, HTML-escaped in a double-quoted attribute.
 *
 * Deterministic: running it again gives the same bytes.
 * `node_modules/.bin/tsx scripts/make-hf-html-fixture.ts`
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LISTING_DAY = '2026-07-10';
const fixtures = fileURLToPath(new URL('../test/fixtures/listings/', import.meta.url));
const apiResponse: unknown = JSON.parse(
  readFileSync(`${fixtures}hf-daily-papers-2026-07-10+13.json`, 'utf8'),
);
const paperPage = readFileSync(`${fixtures}hf-paper-page-2509.24002.html`, 'utf8');

interface ApiItem {
  paper: { id: string; title: string; upvotes?: number; submittedOnDailyAt?: string };
  numComments?: number;
}

function isApiItem(value: unknown): value is ApiItem {
  if (typeof value !== 'object' || value === null || !('paper' in value)) return false;
  const paper: unknown = value.paper;
  return typeof paper === 'object' && paper !== null && 'id' in paper && 'title' in paper;
}

if (!Array.isArray(apiResponse) || !apiResponse.every(isApiItem)) {
  throw new Error('hf-daily-papers-2026-07-10+13.json is not an array of API items');
}
const dailyPapers = apiResponse.filter((item) => item.paper.submittedOnDailyAt?.startsWith(LISTING_DAY));

/** Escapes text for a double-quoted attribute or element content, the way the site's renderer does. */
function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

const props = {
  dailyPapers,
  dateString: LISTING_DAY,
  periodType: 'day',
  prevDate: '2026-07-09',
  nextDate: '2026-07-13',
  isLoggedIn: false,
  lastDailyPapersUpdate: '2026-07-10T16:02:11.000Z',
};

const [head, afterHead] = splitOnce(paperPage, '   <main class="flex flex-1 flex-col">\n');
const [, footer] = splitOnce(afterHead, '   </main>\n');
const listingHead = head
  .replaceAll('https://huggingface.co/papers/2509.24002', `https://huggingface.co/papers/date/${LISTING_DAY}`)
  .replace(
    /Paper page - MCPMark: A Benchmark for Stress-Testing Realistic and Comprehensive MCP\n\s*Use/g,
    'Daily Papers - Hugging Face',
  )
  .replace('Join the discussion on this paper page', 'Your daily dose of AI research from AK')
  .replaceAll('papers/2509.24002/gradient.png', 'papers/daily-papers.png')
  .replace('PaperPage">', 'DailyPapersPage">');

const cards = dailyPapers
  .map(
    (item) => `        <article class="relative flex flex-col overflow-hidden rounded-xl border">
         <a class="block" href="/papers/${item.paper.id}">
          <img alt="" class="aspect-video w-full object-cover" loading="lazy" src="https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/${item.paper.id}.png"/>
         </a>
         <div class="px-2.5 py-2">
          <h3 class="line-clamp-2 text-lg font-semibold leading-tight">
           <a class="line-clamp-3 cursor-pointer text-balance" href="/papers/${item.paper.id}">${escapeHtml(item.paper.title)}</a>
          </h3>
          <div class="flex items-center">
           <div class="leading-none">${item.paper.upvotes ?? 0}</div>
           <a class="ml-2 text-sm" href="/papers/${item.paper.id}#community">${item.numComments ?? 0}</a>
          </div>
         </div>
        </article>`,
  )
  .join('\n');

const main = `   <main class="flex flex-1 flex-col">
    <div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="${escapeHtml(JSON.stringify(props))}">
     <section class="container relative mb-20 mt-8 md:mt-14">
      <div class="mb-12 flex flex-wrap items-center gap-3">
       <h1 class="text-3xl font-bold md:text-4xl">Daily Papers</h1>
       <div class="text-gray-500">by <a href="/akhaliq">AK</a> and the research community</div>
       <time class="font-semibold" datetime="${LISTING_DAY}">Jul 10</time>
      </div>
      <div class="grid grid-cols-1 gap-5 lg:grid-cols-2 xl:grid-cols-3">
${cards}
      </div>
     </section>
    </div>
   </main>
`;

const out = `${fixtures}hf-papers-page-${LISTING_DAY}.html`;
writeFileSync(out, `${listingHead}${main}${footer}`);
process.stdout.write(`wrote ${out}: ${dailyPapers.length} papers\n`);

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  if (at < 0) throw new Error(`the paper page no longer contains ${JSON.stringify(separator)}`);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

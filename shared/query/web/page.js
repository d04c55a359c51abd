// The query API's web page: plain DOM code over the JSON API it is served with (no framework, no
// request anywhere else). The form's state lives in the URL's hash, so a view can be bookmarked.
// Text from the API is only ever set as textContent, never parsed as HTML.

/** The most days the page reads for a range (one request per day for the chart). */
const MAX_RANGE_DAYS = 31;
/** Pages of 100 followed per request: enough for any real listing day. */
const MAX_PAGES = 5;
/** Categories drawn in the chart; the rest are summed as "other". */
const CHART_CATEGORIES = 8;
/** Okabe-Ito, distinguishable with the common colour-vision deficiencies; grey for "other". */
const COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];
const OTHER_COLOUR = '#9e9e9e';
const SVG = 'http://www.w3.org/2000/svg';

const form = document.getElementById('controls');
const daySelect = document.getElementById('day');
const fromSelect = document.getElementById('from');
const toSelect = document.getElementById('to');
const categoryInput = document.getElementById('category');
const searchInput = document.getElementById('q');
const status = document.getElementById('status');
const list = document.getElementById('papers');
const chart = document.getElementById('chart');

/** A refused request: the API's own message, for the status line. */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GETs an API path (relative to the page, so the page works under any prefix) and parses its JSON. */
async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const message = body && typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

/** Every item of a paged list, following cursors up to MAX_PAGES pages. */
async function allItems(path, parameters) {
  const items = [];
  let cursor;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams(parameters);
    query.set('limit', '100');
    if (cursor) query.set('cursor', cursor);
    const body = await api(`${path}?${query}`);
    items.push(...(Array.isArray(body?.items) ? body.items : []));
    cursor = body?.cursor;
    if (!cursor) break;
  }
  return items;
}

function setStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === 'text') node.textContent = value;
    else if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** A colour square; set through the CSSOM, which the page's CSP allows (a style attribute it does not). */
function swatch(colour) {
  const node = element('span', { className: 'swatch' });
  node.style.backgroundColor = colour;
  return node;
}

function svgElement(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function mode() {
  return form.elements.mode.value;
}

/** The days the form asks for, oldest first, or an error message. */
function chosenDays(ingestedDays) {
  if (mode() === 'day') return daySelect.value ? [daySelect.value] : [];
  const from = fromSelect.value;
  const to = toSelect.value;
  if (from > to) return 'the range starts after it ends: pick a "From" day before the "To" day';
  const days = ingestedDays.filter((day) => day >= from && day <= to).sort();
  if (days.length > MAX_RANGE_DAYS) return `pick at most ${MAX_RANGE_DAYS} ingested days`;
  return days;
}

/** One entry per paper: the day-by-day listings of a range merged, its days kept, its best upvotes. */
function mergeListings(listings) {
  const byId = new Map();
  for (const listing of listings) {
    const seen = byId.get(listing.id);
    const days = Array.isArray(listing.days) ? listing.days : [listing.listedOn];
    if (!seen) {
      byId.set(listing.id, { ...listing, days: [...days] });
      continue;
    }
    for (const day of days) if (!seen.days.includes(day)) seen.days.push(day);
    if ((listing.upvotes ?? 0) > (seen.upvotes ?? 0)) seen.upvotes = listing.upvotes;
  }
  for (const paper of byId.values()) paper.days.sort();
  return [...byId.values()];
}

function byUpvotes(papers) {
  return papers
    .map((paper, index) => ({ paper, index }))
    .sort((a, b) => (b.paper.upvotes ?? 0) - (a.paper.upvotes ?? 0) || a.index - b.index)
    .map(({ paper }) => paper);
}

function assignedCategories(paper) {
  const categories = Array.isArray(paper.categories) ? paper.categories : [];
  return categories.filter((category) => category.assigned || category.code === paper.primaryCategory);
}

function renderPaper(paper) {
  const links = paper.links ?? {};
  const mainLink = links.huggingface ?? links.arxiv;
  const title = mainLink
    ? element('a', { href: mainLink, text: paper.title })
    : element('span', { text: paper.title });
  const meta = element(
    'p',
    { className: 'meta' },
    element('span', { className: 'upvotes', text: `${paper.upvotes ?? 0} upvotes` }),
    ` · listed ${(paper.days ?? [paper.listedOn]).join(', ')}`,
  );
  for (const [name, label] of [
    ['arxiv', 'arXiv'],
    ['huggingface', 'Hugging Face'],
    ['github', 'GitHub'],
    ['projectPage', 'project page'],
  ]) {
    if (links[name]) meta.append(' · ', element('a', { href: links[name], text: label }));
  }
  const authors = Array.isArray(paper.authors) ? paper.authors : [];
  const categories = element('ul', { className: 'cats', 'aria-label': 'categories' });
  for (const category of assignedCategories(paper)) {
    const terms = Array.isArray(category.terms) ? category.terms.join(', ') : '';
    const badge = element('span', {
      className: category.code === paper.primaryCategory ? 'cat primary' : 'cat',
      tabindex: '0',
      title: terms ? `${category.name}: ${terms}` : category.name,
      'aria-label': `${category.code}, ${category.name}${terms ? `; terms: ${terms}` : ''}`,
      text: category.code,
    });
    if (terms) badge.dataset.terms = terms;
    categories.append(element('li', {}, badge));
  }
  return element(
    'li',
    { className: 'paper', 'data-id': paper.id },
    element('h3', {}, title),
    meta,
    element('p', { className: 'authors', text: authors.join(', ') }),
    categories,
  );
}

function renderPapers(papers) {
  list.replaceChildren(...papers.map(renderPaper));
}

/**
 * A stacked bar per day: papers by primary category, the CHART_CATEGORIES most frequent drawn
 * apart, the others summed. Below it the same figures as a table, for screen readers.
 */
function renderChart(days, listingsByDay) {
  const totals = new Map();
  const counts = days.map((day) => {
    const perCategory = new Map();
    for (const paper of listingsByDay.get(day) ?? []) {
      const code = paper.primaryCategory ?? 'unclassified';
      perCategory.set(code, (perCategory.get(code) ?? 0) + 1);
      totals.set(code, (totals.get(code) ?? 0) + 1);
    }
    return perCategory;
  });
  const ranked = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code]) => code);
  const shown = ranked.slice(0, CHART_CATEGORIES);
  const series = ranked.length > shown.length ? [...shown, 'other'] : shown;
  const colour = (code) => (code === 'other' ? OTHER_COLOUR : COLOURS[shown.indexOf(code)]);
  const value = (perCategory, code) =>
    code === 'other'
      ? [...perCategory].filter(([c]) => !shown.includes(c)).reduce((sum, [, n]) => sum + n, 0)
      : (perCategory.get(code) ?? 0);

  const width = 720;
  const height = 240;
  const left = 36;
  const bottom = 40;
  const top = 10;
  const plotHeight = height - bottom - top;
  const max = Math.max(
    1,
    ...counts.map((perCategory) => [...perCategory.values()].reduce((a, b) => a + b, 0)),
  );
  const slot = (width - left) / Math.max(1, days.length);
  const barWidth = Math.max(4, Math.min(48, slot * 0.7));
  const svg = svgElement('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': 'chart-title',
  });
  const title = svgElement('title', { id: 'chart-title' });
  title.textContent = `Papers per primary category for ${days.length} day(s), ${days[0] ?? ''} to ${days.at(-1) ?? ''}`;
  svg.append(title);
  for (const tick of [0, Math.ceil(max / 2), max]) {
    const y = top + plotHeight - (tick / max) * plotHeight;
    svg.append(svgElement('line', { x1: left, x2: width, y1: y, y2: y, stroke: '#d0d0d0' }));
    const label = svgElement('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' });
    label.textContent = String(tick);
    svg.append(label);
  }
  days.forEach((day, index) => {
    const x = left + index * slot + (slot - barWidth) / 2;
    let y = top + plotHeight;
    const bar = svgElement('g', { class: 'bar', 'data-day': day });
    for (const code of series) {
      const n = value(counts[index], code);
      if (n === 0) continue;
      const h = (n / max) * plotHeight;
      y -= h;
      const rect = svgElement('rect', {
        x,
        y,
        width: barWidth,
        height: h,
        fill: colour(code),
        'data-category': code,
      });
      const tip = svgElement('title');
      tip.textContent = `${day} · ${code}: ${n}`;
      rect.append(tip);
      bar.append(rect);
    }
    svg.append(bar);
    if (days.length <= 16 || index % Math.ceil(days.length / 16) === 0) {
      const label = svgElement('text', {
        x: x + barWidth / 2,
        y: height - bottom + 16,
        'text-anchor': 'middle',
      });
      label.textContent = day.slice(5);
      svg.append(label);
    }
  });
  const legend = element('ul', { className: 'legend' });
  for (const code of series) {
    legend.append(element('li', {}, swatch(colour(code)), code));
  }
  const table = element('table');
  table.append(
    element('tr', {}, element('th', { text: 'day' }), ...series.map((code) => element('th', { text: code }))),
  );
  days.forEach((day, index) => {
    table.append(
      element(
        'tr',
        {},
        element('td', { text: day }),
        ...series.map((code) => element('td', { text: String(value(counts[index], code)) })),
      ),
    );
  });
  const details = element('details', {}, element('summary', { text: 'The chart as a table' }), table);
  chart.replaceChildren(svg, legend, details);
}

/** Category codes for the input's suggestions, with their paper counts when `/categories` answers. */
async function suggestCategories(days, listingsByDay) {
  const datalist = document.getElementById('category-codes');
  let counts;
  try {
    const body = await api(`categories?${new URLSearchParams({ from: days[0], to: days.at(-1) })}`);
    counts = (Array.isArray(body?.items) ? body.items : Array.isArray(body) ? body : []).map((item) => ({
      code: item.code,
      label: `${item.name ?? item.code} (${item.papers ?? '?'})`,
    }));
  } catch {
    // The counts route may be missing on an older deployment: suggest the codes the papers hold.
    const codes = new Set();
    for (const listings of listingsByDay.values()) {
      for (const paper of listings)
        for (const category of assignedCategories(paper)) codes.add(category.code);
    }
    counts = [...codes].sort().map((code) => ({ code, label: code }));
  }
  datalist.replaceChildren(...counts.map(({ code, label }) => element('option', { value: code, label })));
}

function showCategoryFeed(category) {
  const item = document.getElementById('category-feed');
  item.hidden = !category;
  if (!category) return;
  const link = item.querySelector('a');
  link.href = `feeds/categories/${encodeURIComponent(category)}.xml`;
  link.textContent = `${category} over the last 14 days (Atom)`;
}

function saveState() {
  const state = new URLSearchParams();
  if (mode() === 'range') {
    state.set('from', fromSelect.value);
    state.set('to', toSelect.value);
  } else if (daySelect.value) state.set('date', daySelect.value);
  if (categoryInput.value.trim()) state.set('category', categoryInput.value.trim());
  if (searchInput.value.trim()) state.set('q', searchInput.value.trim());
  history.replaceState(null, '', `#${state}`);
}

function restoreState(ingestedDays) {
  const state = new URLSearchParams(location.hash.slice(1));
  const has = (day) => ingestedDays.includes(day);
  if (has(state.get('from')) && has(state.get('to'))) {
    form.elements.mode.value = 'range';
    fromSelect.value = state.get('from');
    toSelect.value = state.get('to');
  } else if (has(state.get('date'))) {
    form.elements.mode.value = 'day';
    daySelect.value = state.get('date');
  }
  categoryInput.value = state.get('category') ?? '';
  searchInput.value = state.get('q') ?? '';
}

function showMode() {
  const range = mode() === 'range';
  document.getElementById('day-field').hidden = range;
  document.getElementById('range-field').hidden = !range;
}

let ingestedDays = [];
let generation = 0;

async function show() {
  const current = ++generation;
  const days = chosenDays(ingestedDays);
  if (typeof days === 'string') return setStatus(days, true);
  if (days.length === 0) return setStatus('No day ingested yet: run papers ingest first.', true);
  const category = categoryInput.value.trim();
  const words = searchInput.value.trim();
  saveState();
  showCategoryFeed(category);
  setStatus('Loading…');
  try {
    // The chart and the day's papers: one request (or a few pages) per day of the range.
    const perDay = await Promise.all(days.map((day) => allItems('papers', { date: day })));
    if (current !== generation) return;
    const listingsByDay = new Map(days.map((day, index) => [day, perDay[index]]));
    renderChart(days, listingsByDay);
    suggestCategories(days, listingsByDay);
    let papers;
    if (words) {
      const parameters = { q: words };
      if (days.length === 1) parameters.date = days[0];
      else Object.assign(parameters, { from: days[0], to: days.at(-1) });
      if (category) parameters.category = category;
      papers = mergeListings(await allItems('papers', parameters));
    } else if (category) {
      // The ranked range (sort=upvotes): each paper once with its best upvotes in the range. The
      // plain category route streams listings without upvotes, which left every paper at 0.
      const parameters = { from: days[0], to: days.at(-1), category, sort: 'upvotes' };
      papers = mergeListings(await allItems('papers', parameters)).filter((paper) =>
        paper.days.some((day) => days.includes(day)),
      );
    } else {
      papers = mergeListings(perDay.flat());
    }
    if (current !== generation) return;
    papers = byUpvotes(papers);
    renderPapers(papers);
    const where = days.length === 1 ? days[0] : `${days[0]} to ${days.at(-1)}`;
    const what = [category && `in ${category}`, words && `matching “${words}”`].filter(Boolean).join(' ');
    setStatus(`${papers.length} paper(s) ${what ? `${what} ` : ''}on ${where}, most upvoted first.`);
  } catch (error) {
    if (current !== generation) return;
    list.replaceChildren();
    const message = error instanceof ApiError ? error.message : 'the API could not be reached';
    setStatus(`Could not load the papers: ${message}`, true);
  }
}

async function start() {
  try {
    const days = (await allItems('days', {})).map((item) => item.day).sort();
    ingestedDays = days;
    const options = () => [...days].reverse().map((day) => element('option', { value: day, text: day }));
    daySelect.replaceChildren(...options());
    fromSelect.replaceChildren(...options());
    toSelect.replaceChildren(...options());
    fromSelect.value = days[Math.max(0, days.length - 7)] ?? '';
    toSelect.value = days.at(-1) ?? '';
  } catch (error) {
    const message = error instanceof ApiError ? error.message : 'the API could not be reached';
    return setStatus(`Could not list the ingested days: ${message}`, true);
  }
  restoreState(ingestedDays);
  showMode();
  await show();
}

form.addEventListener('change', (event) => {
  if (event.target.name === 'mode') showMode();
});
// A fragment changed by hand, a bookmark or the history is shown without a reload. The page's own
// writes (saveState) use replaceState, which fires no hashchange.
window.addEventListener('hashchange', () => {
  // Before the days are listed, start() has yet to read the fragment itself.
  if (ingestedDays.length === 0) return;
  restoreState(ingestedDays);
  showMode();
  show();
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  show();
});
start();

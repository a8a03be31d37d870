// Metrics ("All metrics"): browse namespace → metric name → dimension sets, tick rows to graph
// them with GetMetricData, add metric math, pick range/period/statistic, auto-refresh.
//
// The URL is the state. Browsing: ns, metric, q (search). Graph: sel (the ticked metrics),
// math (expressions), stat (default statistic), period, range/start/end, refresh. A reload or
// a shared link therefore redraws the same graph. Browse steps push history entries (the back
// button goes up a step); graph edits replace the current entry.

import {
  BASE, call, callAll, route, link, setQuery, currentQuery, h, pageHeader, button, errorBox,
  fill, empty, rangePicker, rangeFromQuery, title, currentAccount, currentRegion,
} from '../core.js';
import { lineChart, PALETTE } from '../chart.js';

const STATS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount', 'p50', 'p90', 'p99'];
const PERIODS = [[60, '1 min'], [300, '5 min'], [900, '15 min'], [3600, '1 h'], [21600, '6 h'], [86400, '1 d']];
const REFRESH = [['', 'Off'], ['10', '10 s'], ['60', '1 min']];
// Auto period: the shortest one that keeps a series at or under this many points.
const AUTO_MAX_POINTS = 1440;
// GetMetricData's largest page; the rest comes through NextToken.
const MAX_DATAPOINTS = 100800;
const MAX_PAGES = 100;
// ListMetrics is paged by 500: the listing stops here and says so.
const MAX_LISTED = 20000;
// Browse tables show this many rows; a search narrows them.
const MAX_ROWS = 500;
const DEFAULT_RANGE = '3h';

route('/metrics', render);

// Back and forward move between browse steps while the graph stays as the user left it: graph
// edits replace the current history entry only, so an older entry's graph keys are swapped for
// the latest ones before the router draws it. (Registered at import, so before the router's
// own popstate listener.)
const GRAPH_KEYS = ['sel', 'math', 'stat', 'period', 'range', 'start', 'end', 'refresh'];
let latestGraph = null;

function rememberGraph() {
  const q = currentQuery();
  latestGraph = Object.fromEntries(GRAPH_KEYS.map((k) => [k, q[k] ?? null]));
}

window.addEventListener('popstate', () => {
  const path = location.pathname.replace(/\/$/, '');
  if (latestGraph && ['', BASE, BASE + '/metrics'].includes(path)) setQuery(latestGraph);
});

// ---------------------------------------------------------------------------------------------
// URL state
// ---------------------------------------------------------------------------------------------

function jsonList(text) {
  try {
    const value = JSON.parse(text || '[]');
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

/** Ids not given (a hand-written link) get the first free m1, m2, … or e1, e2, …. */
function withIds(entries, prefix) {
  const used = new Set(entries.map((e) => e.i).filter(Boolean));
  return entries.map((e) => (e.i ? e : { ...e, i: freeId(prefix, used) }));
}

function freeId(prefix, used) {
  let n = 1;
  while (used.has(prefix + n)) n++;
  used.add(prefix + n);
  return prefix + n;
}

/** The ticked metrics: [{i: id, n: namespace, m: metric name, d: [[name, value]], s: stat, l?: label}]. */
function readSelection() {
  const valid = jsonList(currentQuery().sel).filter((e) => e && typeof e.n === 'string' && typeof e.m === 'string');
  return withIds(valid.map((e) => ({
    ...e,
    d: Array.isArray(e.d) ? e.d.filter((p) => Array.isArray(p) && p.length === 2).map(([n, v]) => [String(n), String(v)]) : [],
    s: e.s || defaultStat(),
  })), 'm');
}

/** The math expressions: [{i: id, e: expression, l?: label}]. */
function readMath() {
  return withIds(jsonList(currentQuery().math).filter((e) => e && typeof e.e === 'string'), 'e');
}

function writeSelection(sel) {
  setQuery({ sel: sel.length ? JSON.stringify(sel) : null });
}

function writeMath(math) {
  setQuery({ math: math.length ? JSON.stringify(math) : null });
}

function defaultStat() {
  const stat = currentQuery().stat;
  return STATS.includes(stat) ? stat : 'Average';
}

/** The identity of a metric, whatever its statistic or label. */
const metricKey = (namespace, name, dims) => JSON.stringify([namespace, name, dims]);
const selectedKey = (entry) => metricKey(entry.n, entry.m, entry.d);
const listedKey = (metric) => metricKey(metric.Namespace, metric.MetricName, pairs(metric));
const pairs = (metric) => (metric.Dimensions || []).map((d) => [d.Name, d.Value]);

// ---------------------------------------------------------------------------------------------
// Listing (ListMetrics, all pages, cached for the view's life; Refresh forgets it)
// ---------------------------------------------------------------------------------------------

function lister() {
  const cache = new Map();
  return {
    list(filter) {
      const key = JSON.stringify(filter);
      if (!cache.has(key)) {
        const pending = callAll('cloudwatch', 'ListMetrics', filter, 'Metrics', { max: MAX_LISTED });
        pending.catch(() => cache.delete(key)); // a failure is retried on the next visit
        cache.set(key, pending);
      }
      return cache.get(key);
    },
    clear: () => cache.clear(),
  };
}

/** Every search word must appear in the metric name, a dimension name or value, or the namespace. */
function matches(metric, words) {
  const hay = [metric.Namespace, metric.MetricName, ...pairs(metric).flat()].join('\u0000').toLowerCase();
  return words.every((w) => hay.includes(w));
}

const searchWords = (text) => String(text || '').toLowerCase().split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// Queries (GetMetricData)
// ---------------------------------------------------------------------------------------------

function autoPeriod(range) {
  const span = (range.end - range.start) / 1000;
  const fit = PERIODS.find(([p]) => span / p <= AUTO_MAX_POINTS);
  return fit ? fit[0] : PERIODS[PERIODS.length - 1][0];
}

function chosenPeriod(range) {
  const period = Number(currentQuery().period);
  return PERIODS.some(([p]) => p === period) ? period : autoPeriod(range);
}

function buildQueries(sel, math, period) {
  const metrics = sel.map((e) => ({
    Id: e.i,
    MetricStat: {
      Metric: { Namespace: e.n, MetricName: e.m, Dimensions: e.d.map(([Name, Value]) => ({ Name, Value })) },
      Period: period,
      Stat: e.s,
    },
    Label: e.l || undefined, // without one the server answers AWS's default label
    ReturnData: true,
  }));
  const expressions = math.map((e) => ({ Id: e.i, Expression: e.e, Label: e.l || undefined, Period: period, ReturnData: true }));
  return [...metrics, ...expressions];
}

/**
 * All pages of GetMetricData, each result's datapoints joined across pages (a page cuts the
 * concatenated datapoints at MaxDatapoints and repeats every result).
 */
async function getMetricData(queries, range) {
  const merged = new Map();
  let token;
  let pages = 0;
  do {
    const page = await call('cloudwatch', 'GetMetricData', {
      MetricDataQueries: queries,
      StartTime: range.start / 1000,
      EndTime: range.end / 1000,
      ScanBy: 'TimestampAscending',
      MaxDatapoints: MAX_DATAPOINTS,
      NextToken: token,
    });
    for (const r of page.MetricDataResults || []) {
      const key = r.Id + '\u0000' + r.Label;
      const into = merged.get(key) || { id: r.Id, label: r.Label, timestamps: [], values: [] };
      into.timestamps = into.timestamps.concat(r.Timestamps || []);
      into.values = into.values.concat(r.Values || []);
      merged.set(key, into);
    }
    token = page.NextToken;
  } while (token && ++pages < MAX_PAGES);
  return [...merged.values()];
}

/** Query n's colour; extra series of an array expression take colours after every query's. */
function colours(results, queries) {
  const index = new Map(queries.map((q, i) => [q.Id, i]));
  const seen = new Set();
  let extra = queries.length;
  return results.map((r) => {
    const first = !seen.has(r.id);
    seen.add(r.id);
    return PALETTE[(first ? index.get(r.id) : extra++) % PALETTE.length];
  });
}

const colourOf = (i) => PALETTE[i % PALETTE.length];

// ---------------------------------------------------------------------------------------------
// The view
// ---------------------------------------------------------------------------------------------

function render({ root }) {
  title('Metrics');
  const view = {
    listing: lister(),
    chart: null,
    seq: 0,
    draws: 0,
    timer: null,
    busy: false,
    errorSlots: new Map(),
  };
  root.append(
    pageHeader('Metrics', {
      actions: [button('Refresh', () => { view.listing.clear(); renderBrowse(view); refreshGraph(view); }, { id: 'mx-refresh' })],
    }),
    graphPanel(view),
    browsePanel(view),
  );
  renderGraphed(view);
  renderBrowse(view);
  refreshGraph(view);
  startTimer(view);
  return () => {
    clearInterval(view.timer);
    view.seq++; // answers still on the way are dropped
    view.chart?.destroy();
  };
}

// ---------------------------------------------------------------------------------------------
// Graph panel: toolbar, chart, graphed metrics and math
// ---------------------------------------------------------------------------------------------

function graphPanel(view) {
  const q = currentQuery();
  view.periodSelect = select('mx-period', 'Period',
    [['auto', 'Auto'], ...PERIODS.map(([p, label]) => [String(p), label])], q.period || 'auto',
    (value) => { setQuery({ period: value === 'auto' ? null : value }); refreshGraph(view); });
  const statSelect = select('mx-stat', 'Statistic', STATS.map((s) => [s, s]), defaultStat(), (value) => {
    // The toolbar's statistic applies to every graphed metric and to those ticked next.
    setQuery({ stat: value === 'Average' ? null : value });
    writeSelection(readSelection().map((e) => ({ ...e, s: value })));
    renderGraphed(view);
    refreshGraph(view);
  });
  const refreshSelect = select('mx-autorefresh', 'Auto refresh', REFRESH, q.refresh || '', (value) => {
    setQuery({ refresh: value || null });
    startTimer(view);
  });
  view.status = h('span', { class: 'mx-status muted small', 'aria-live': 'polite' });
  view.graphError = h('div', { class: 'mx-graph-error' });
  view.chartBox = h('div', { class: 'mx-chart', id: 'mx-chart' });
  view.graphed = h('div', { class: 'mx-graphed' });
  return h('section', { class: 'panel mx-graph' },
    h('div', { class: 'toolbar mx-toolbar' },
      rangePicker(() => refreshGraph(view), DEFAULT_RANGE),
      h('span', { class: 'grow' }),
      labelled('Period', view.periodSelect), labelled('Statistic', statSelect),
      labelled('Auto refresh', refreshSelect), view.status),
    view.graphError, view.chartBox, view.graphed);
}

function select(id, label, options, value, onChange) {
  return h('select', { id, 'aria-label': label, onchange: (e) => onChange(e.target.value) },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

/** Nodes and strings (nested lists, nulls skipped) as one fragment, for replaceChildren and fill. */
function fragment(...parts) {
  const out = document.createDocumentFragment();
  for (const part of parts.flat(Infinity)) if (part !== null && part !== undefined && part !== false) out.append(part);
  return out;
}

const labelled = (text, control) => h('label', { class: 'mx-field' }, h('span', { class: 'muted' }, text), control);

function startTimer(view) {
  clearInterval(view.timer);
  rememberGraph();
  const seconds = Number(currentQuery().refresh);
  view.timer = seconds > 0 ? setInterval(() => { if (!view.busy) refreshGraph(view); }, seconds * 1000) : null;
}

/** Queries the graph again and draws it; answers overtaken by a newer query are dropped. */
async function refreshGraph(view) {
  const seq = ++view.seq;
  rememberGraph();
  const sel = readSelection();
  const math = readMath();
  const range = rangeFromQuery(currentQuery(), DEFAULT_RANGE);
  const period = chosenPeriod(range);
  view.periodSelect.options[0].textContent = `Auto (${PERIODS.find(([p]) => p === autoPeriod(range))[1]})`;
  view.graphError.replaceChildren();
  if (!sel.length && !math.length) {
    view.busy = false;
    showEmptyGraph(view);
    return;
  }
  const queries = buildQueries(sel, math, period);
  view.busy = true;
  view.status.textContent = 'Loading…';
  try {
    const { results, mathErrors } = await queryDroppingBadMath(queries, range);
    if (seq !== view.seq) return;
    showMathErrors(view, mathErrors);
    draw(view, results, queries, range, period);
    view.status.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
  } catch (e) {
    if (seq !== view.seq) return;
    showMathErrors(view, []);
    view.graphError.replaceChildren(errorBox(e));
    view.status.textContent = '';
  } finally {
    if (seq === view.seq) view.busy = false;
  }
}

/**
 * A bad expression must not blank the graph: when the server names the expression it rejects
 * ("Error in expression e2: …"), that one is dropped and the rest asked again; an error naming
 * none drops every expression. Returns what could be drawn and the errors of dropped ones.
 */
async function queryDroppingBadMath(queries, range) {
  let remaining = queries;
  const mathErrors = [];
  for (;;) {
    if (!remaining.length) return { results: [], mathErrors };
    try {
      return { results: await getMetricData(remaining, range), mathErrors };
    } catch (error) {
      const hasMath = remaining.some((q) => q.Expression !== undefined);
      if (!hasMath || error.status !== 400) throw error;
      const named = /Error in expression (\w+)/.exec(error.message || '')?.[1];
      const culprit = remaining.find((q) => q.Expression !== undefined && q.Id === named);
      mathErrors.push({ id: culprit ? culprit.Id : null, error });
      remaining = remaining.filter((q) => (culprit ? q !== culprit : q.Expression === undefined));
    }
  }
}

function draw(view, results, queries, range, period) {
  const t0 = performance.now();
  const palette = colours(results, queries);
  const series = results.map((r, i) => ({
    label: r.label,
    timestamps: r.timestamps.map((t) => t * 1000),
    values: r.values,
    color: palette[i],
  }));
  const options = { start: range.start, end: range.end, height: 320 };
  // The chart is made once and updated after: refreshes don't rebuild the canvas.
  if (view.chart) view.chart.update(series, options);
  else {
    view.chartBox.replaceChildren();
    view.chart = lineChart(view.chartBox, series, options);
  }
  const drawMs = performance.now() - t0;
  view.draws++;
  showDefaultLabels(view, results);
  publish({
    drawMs, period, draws: view.draws,
    series: results.map((r) => ({ id: r.id, label: r.label, points: r.values.length, values: r.values })),
  });
}

function showEmptyGraph(view) {
  view.chart?.destroy();
  view.chart = null;
  view.chartBox.replaceChildren(h('div', { class: 'mx-empty-graph' },
    h('strong', {}, 'Your graph is empty.'), ' Select metrics below to graph them.'));
  showMathErrors(view, []);
  view.status.textContent = '';
  publish({ drawMs: 0, period: null, draws: view.draws, series: [] });
}

/** An empty label field shows the label the server gave the query. */
function showDefaultLabels(view, results) {
  for (const input of view.graphed.querySelectorAll('input.mx-label')) {
    const answered = results.find((r) => r.id === input.dataset.id);
    if (answered) input.placeholder = answered.label;
  }
}

/** For tests and benchmarks: what the last draw showed and how long it took. */
function publish(graph) {
  window.__wtPerf = window.__wtPerf || {};
  window.__wtPerf.metricsGraph = graph;
}

/** Puts each server message next to the expression it names, else next to the Add math box. */
function showMathErrors(view, mathErrors) {
  for (const slot of view.errorSlots.values()) slot.replaceChildren();
  for (const { id, error } of mathErrors) {
    (view.errorSlots.get(id) || view.errorSlots.get('add')).append(errorBox(error));
  }
}

// ---------------------------------------------------------------------------------------------
// Graphed metrics: one row per query (colour, id, label, what, statistic), math, Add math
// ---------------------------------------------------------------------------------------------

function renderGraphed(view) {
  const sel = readSelection();
  const math = readMath();
  view.errorSlots = new Map();
  const rows = [
    ...sel.map((e, i) => metricRow(view, e, colourOf(i))),
    ...math.map((e, i) => mathRow(view, e, colourOf(sel.length + i))),
  ];
  const heading = h('div', { class: 'mx-graphed-head' },
    h('h2', {}, `Graphed metrics (${sel.length + math.length})`),
    sel.length + math.length ? button('Remove all', () => {
      writeSelection([]);
      writeMath([]);
      afterSelectionChange(view);
    }, { id: 'mx-remove-all' }) : null);
  const grid = rows.length ? h('table', { class: 'grid mx-graphed-table' },
    h('thead', {}, h('tr', {}, ['', 'Id', 'Label', 'Details', 'Statistic', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)) : null;
  view.graphed.replaceChildren(fragment(heading, grid, addMathBox(view)));
}

function metricRow(view, entry, colour) {
  const update = (changes) => {
    writeSelection(readSelection().map((e) => (e.i === entry.i ? { ...e, ...changes } : e)));
    refreshGraph(view);
  };
  return h('tr', { 'data-id': entry.i },
    h('td', {}, swatch(colour)),
    h('td', { class: 'mono' }, entry.i),
    h('td', {}, labelInput(entry, update)),
    h('td', {}, h('span', { class: 'muted' }, entry.n, ' · '), h('strong', {}, entry.m),
      entry.d.map(([name, value]) => h('span', { class: 'mx-dim' }, h('span', { class: 'muted' }, name, ': '), value))),
    h('td', {}, select(null, `Statistic of ${entry.i}`, STATS.map((s) => [s, s]), entry.s, (s) => update({ s }))),
    h('td', { class: 'right' }, removeButton(entry.i, () => {
      writeSelection(readSelection().filter((e) => e.i !== entry.i));
      afterSelectionChange(view);
    })));
}

function mathRow(view, entry, colour) {
  const update = (changes) => {
    writeMath(readMath().map((e) => (e.i === entry.i ? { ...e, ...changes } : e)));
    refreshGraph(view);
  };
  const slot = h('div', { class: 'mx-math-error' });
  view.errorSlots.set(entry.i, slot);
  const expression = h('input', {
    class: 'mono mx-expression', value: entry.e, 'aria-label': `Expression ${entry.i}`,
    onchange: (e) => update({ e: e.target.value.trim() }),
  });
  return h('tr', { 'data-id': entry.i },
    h('td', {}, swatch(colour)),
    h('td', { class: 'mono' }, entry.i),
    h('td', {}, labelInput(entry, update)),
    h('td', {}, expression, slot),
    h('td', { class: 'muted' }, 'Expression'),
    h('td', { class: 'right' }, removeButton(entry.i, () => {
      writeMath(readMath().filter((e) => e.i !== entry.i));
      renderGraphed(view);
      refreshGraph(view);
    })));
}

function addMathBox(view) {
  const slot = h('div', { class: 'mx-math-error' });
  view.errorSlots.set('add', slot);
  const input = h('input', {
    id: 'mx-math', class: 'mono grow', placeholder: 'Metric math, e.g. SUM(METRICS()) or m1 * 2',
    'aria-label': 'Math expression', onkeydown: (e) => { if (e.key === 'Enter') add(); },
  });
  const add = () => {
    const text = input.value.trim();
    if (!text) return;
    const math = readMath();
    const used = new Set(math.map((e) => e.i));
    writeMath([...math, { i: freeId('e', used), e: text }]);
    renderGraphed(view);
    refreshGraph(view);
  };
  return h('div', { class: 'mx-addmath' },
    h('div', { class: 'toolbar' }, input, button('Add math', add, { id: 'mx-add-math' })), slot);
}

function labelInput(entry, update) {
  return h('input', {
    class: 'mx-label', value: entry.l || '', placeholder: 'Default label', 'data-id': entry.i, 'aria-label': `Label of ${entry.i}`,
    onchange: (e) => update({ l: e.target.value.trim() || undefined }),
  });
}

function swatch(colour) {
  return h('span', { class: 'mx-swatch', style: { background: colour } });
}

function removeButton(id, onclick) {
  return h('button', { type: 'button', class: 'mx-remove', title: `Remove ${id}`, 'aria-label': `Remove ${id}`, onclick }, '×');
}

function afterSelectionChange(view) {
  renderGraphed(view);
  syncChecks(view);
  refreshGraph(view);
}

// ---------------------------------------------------------------------------------------------
// Browse panel: namespaces → metric names → dimension sets, or search results
// ---------------------------------------------------------------------------------------------

function browsePanel(view) {
  let debounce = null;
  view.search = h('input', {
    id: 'mx-search', type: 'search', class: 'grow', value: currentQuery().q || '',
    placeholder: 'Search for any metric, dimension or resource id', 'aria-label': 'Search metrics',
    oninput: () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => { setQuery({ q: view.search.value.trim() || null }); renderBrowse(view); }, 150);
    },
  });
  view.crumbs = h('nav', { class: 'mx-crumbs', 'aria-label': 'Browse path' });
  view.browseBody = h('div', { class: 'mx-browse-body' });
  return h('section', { class: 'panel mx-browse' },
    h('h2', {}, 'Browse', h('span', { class: 'muted small' }, `${currentAccount()} · ${currentRegion()}`)),
    view.crumbs,
    h('div', { class: 'toolbar' }, view.search),
    view.browseBody);
}

/** A browse step: a pushed history entry (back goes up), then only the browse panel redraws. */
function go(view, changes) {
  history.pushState(null, '', link('/metrics', { ...currentQuery(), ...changes }));
  renderBrowse(view);
}

/** A link to a step; its href follows the current URL so a new tab opens the same graph. */
function stepLink(view, text, changes) {
  const a = h('a', { href: link('/metrics', { ...currentQuery(), ...changes }) }, text);
  const refreshHref = () => { a.href = link('/metrics', { ...currentQuery(), ...changes }); };
  a.addEventListener('mouseenter', refreshHref);
  a.addEventListener('focus', refreshHref);
  a.addEventListener('click', (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return refreshHref();
    e.preventDefault();
    e.stopPropagation(); // handled here: the router would redraw the whole view
    go(view, changes);
  });
  return a;
}

function renderBrowse(view) {
  const q = currentQuery();
  const words = searchWords(q.q);
  if (view.search.value.trim() !== (q.q || '')) view.search.value = q.q || '';
  view.crumbs.replaceChildren(fragment(
    stepLink(view, 'All metrics', { ns: null, metric: null, q: null }),
    q.ns ? [' › ', stepLink(view, q.ns, { metric: null, q: null })] : null,
    q.ns && q.metric ? [' › ', h('strong', {}, q.metric)] : null));
  // A fresh box per step: a slow answer for a step already left fills a detached box.
  const box = h('div');
  view.browseBody.replaceChildren(box);
  fill(box, async () => {
    if (q.ns && q.metric) return dimensionStep(view, await view.listing.list({ Namespace: q.ns, MetricName: q.metric }), words);
    if (q.ns) {
      const metrics = await view.listing.list({ Namespace: q.ns });
      return words.length ? searchResults(view, metrics, words, false) : metricStep(view, q.ns, metrics);
    }
    const metrics = await view.listing.list({});
    return words.length ? searchResults(view, metrics, words, true) : namespaceStep(view, metrics);
  });
}

function truncationNote(metrics) {
  return metrics.length >= MAX_LISTED
    ? h('div', { class: 'notice' }, `Only the first ${MAX_LISTED.toLocaleString()} metrics were listed; search or open a namespace to narrow.`)
    : null;
}

function namespaceStep(view, metrics) {
  if (!metrics.length) {
    return empty('No metrics in this account and region yet. Metrics appear here once PutMetricData has published them.');
  }
  const counts = new Map();
  for (const m of metrics) counts.set(m.Namespace, (counts.get(m.Namespace) || 0) + 1);
  const names = [...counts.keys()].sort((a, b) => a.localeCompare(b));
  const group = (heading, list) => (list.length ? [
    h('h3', { class: 'mx-group' }, `${heading} (${list.length})`),
    h('div', { class: 'mx-tiles' }, list.map((ns) => h('div', { class: 'mx-tile', 'data-namespace': ns },
      stepLink(view, ns, { ns, metric: null, q: null }),
      h('div', { class: 'muted small' }, `${counts.get(ns)} ${counts.get(ns) === 1 ? 'metric' : 'metrics'}`)))),
  ] : null);
  return fragment(
    truncationNote(metrics),
    group('Custom namespaces', names.filter((ns) => !ns.startsWith('AWS/'))),
    group('AWS namespaces', names.filter((ns) => ns.startsWith('AWS/'))),
  );
}

function metricStep(view, namespace, metrics) {
  if (!metrics.length) return empty(`No metrics in ${namespace}.`);
  const sets = new Map();
  for (const m of metrics) sets.set(m.MetricName, (sets.get(m.MetricName) || 0) + 1);
  const names = [...sets.keys()].sort((a, b) => a.localeCompare(b));
  return fragment(
    truncationNote(metrics),
    h('table', { class: 'grid mx-metric-names' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Metric name'), h('th', { class: 'num' }, 'Dimension sets'))),
      h('tbody', {}, names.map((name) => h('tr', { 'data-metric': name },
        h('td', {}, stepLink(view, name, { metric: name, q: null })),
        h('td', { class: 'num' }, String(sets.get(name))))))),
  );
}

/** One row per dimension set of a metric, one column per dimension name (as AWS lays it out). */
function dimensionStep(view, metrics, words) {
  const rows = metrics.filter((m) => matches(m, words)).sort(byDimensions);
  if (!rows.length) return empty(words.length ? 'No dimension set matches the search.' : 'This metric has no data.');
  const names = [...new Set(rows.flatMap((m) => pairs(m).map(([n]) => n)))].sort();
  const columns = [
    ...names.map((name) => ({ title: name, render: (m) => pairs(m).find(([n]) => n === name)?.[1] ?? '–' })),
    { title: 'Metric name', render: (m) => m.MetricName },
  ];
  return selectableTable(view, columns, rows);
}

function searchResults(view, metrics, words, withNamespace) {
  const rows = metrics.filter((m) => matches(m, words)).sort(byDimensions);
  if (!rows.length) return empty('No metric matches the search.');
  const columns = [
    withNamespace ? { title: 'Namespace', render: (m) => m.Namespace } : null,
    { title: 'Metric name', render: (m) => m.MetricName },
    { title: 'Dimensions', render: (m) => dimensionChips(pairs(m)) },
  ].filter(Boolean);
  return selectableTable(view, columns, rows);
}

function dimensionChips(dims) {
  if (!dims.length) return h('span', { class: 'muted' }, 'No dimensions');
  return fragment(dims.map(([name, value]) => h('span', { class: 'mx-dim' }, h('span', { class: 'muted' }, name, ': '), value)));
}

function byDimensions(a, b) {
  return a.Namespace.localeCompare(b.Namespace) || a.MetricName.localeCompare(b.MetricName)
    || JSON.stringify(pairs(a)).localeCompare(JSON.stringify(pairs(b)));
}

/** Rows with a checkbox each (and one for all shown rows); ticking graphs the metric. */
function selectableTable(view, columns, rows) {
  const shown = rows.slice(0, MAX_ROWS);
  const selected = new Set(readSelection().map(selectedKey));
  const all = h('input', {
    type: 'checkbox', class: 'mx-check-all', 'aria-label': 'Select all shown',
    onchange: (e) => toggle(view, shown, e.target.checked),
  });
  const table = h('table', { class: 'grid mx-rows' },
    h('thead', {}, h('tr', {}, h('th', { class: 'mx-check' }, all), columns.map((c) => h('th', {}, c.title)))),
    h('tbody', {}, shown.map((m) => h('tr', {},
      h('td', { class: 'mx-check' }, h('input', {
        type: 'checkbox', 'data-key': listedKey(m), checked: selected.has(listedKey(m)),
        'aria-label': `Graph ${m.MetricName} ${pairs(m).map((p) => p.join('=')).join(' ')}`,
        onchange: (e) => toggle(view, [m], e.target.checked),
      })),
      columns.map((c) => h('td', {}, c.render(m)))))));
  const more = rows.length > shown.length
    ? h('div', { class: 'notice' }, `Showing ${shown.length} of ${rows.length} metrics; search to narrow.`)
    : null;
  return fragment(h('div', { class: 'muted small mx-count' }, `${rows.length} ${rows.length === 1 ? 'metric' : 'metrics'}`), table, more);
}

/** Adds (with the toolbar's statistic) or removes listed metrics from the graph. */
function toggle(view, metrics, on) {
  const current = readSelection();
  if (on) {
    // Metrics already graphed keep their id, statistic and label.
    const graphed = new Set(current.map(selectedKey));
    const used = new Set(current.map((e) => e.i));
    const stat = defaultStat();
    const added = metrics.filter((m) => !graphed.has(listedKey(m)))
      .map((m) => ({ i: freeId('m', used), n: m.Namespace, m: m.MetricName, d: pairs(m), s: stat }));
    writeSelection([...current, ...added]);
  } else {
    const keys = new Set(metrics.map(listedKey));
    writeSelection(current.filter((e) => !keys.has(selectedKey(e))));
  }
  afterSelectionChange(view);
}

/** Ticks follow the selection (a row removed from the graph is unticked). */
function syncChecks(view) {
  const selected = new Set(readSelection().map(selectedKey));
  const boxes = [...view.browseBody.querySelectorAll('input[data-key]')];
  for (const box of boxes) box.checked = selected.has(box.dataset.key);
  const all = view.browseBody.querySelector('.mx-check-all');
  if (all) all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
}

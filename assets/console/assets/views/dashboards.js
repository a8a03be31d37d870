// Dashboards: the list (ListDashboards with a name-prefix search, DeleteDashboards) and one
// dashboard (GetDashboard) drawn as CloudWatch does: widgets on a 24-column grid, every graph
// over the dashboard's time range.
//
// The DashboardBody follows AWS's "Dashboard Body Structure and Syntax": {start, end,
// periodOverride, widgets: [{type, x, y, width, height, properties}]}. Each widget loads and
// fails on its own, so one bad query shows its error in its tile and the others still draw.

import {
  ApiError, route, link, setQuery, currentQuery, call, callAll, session, currentRegion, h, table, pageHeader,
  button, badge, errorBox, spinner, empty, formatDate, formatBytes, rangePicker,
  rangeFromQuery, RANGES, jsonView, tryJson, markdown, title,
} from '../core.js';
import { lineChart, barChart, pieChart, singleValue, formatValue } from '../chart.js';

route('/dashboards', renderList);
route('/dashboards/:name', renderDashboard);

// =============================================================================================
// The list
// =============================================================================================

const PAGE_SIZE = 50;
/** DeleteDashboards takes at most 100 names a call (API reference). */
const DELETE_BATCH = 100;

const splitList = (text) => (text ? String(text).split(',').filter(Boolean) : []);

function renderList({ query, root }) {
  title('Dashboards');
  const state = {
    prefix: query.prefix || '',
    page: Math.max(1, Number.parseInt(query.page, 10) || 1),
    selected: new Set(splitList(query.selected)),
    entries: [],
  };
  const search = h('input', {
    type: 'search', class: 'grow', id: 'dash-prefix', value: state.prefix,
    placeholder: 'Find dashboards by name prefix', 'aria-label': 'Dashboard name prefix',
  });
  const deleteButton = button('Delete', () => confirmDelete([...state.selected], afterDelete), { danger: true, id: 'dash-delete' });
  const listArea = h('div', { class: 'dash-list' });
  let debounce = 0;

  // Selection and page live in the URL so a reload shows the same rows ticked.
  const remember = () => setQuery({
    prefix: state.prefix || null,
    page: state.page > 1 ? state.page : null,
    selected: [...state.selected].join(',') || null,
  });
  const refreshButtons = () => {
    deleteButton.disabled = state.selected.size === 0;
    deleteButton.textContent = state.selected.size ? `Delete (${state.selected.size})` : 'Delete';
  };
  const drawTable = () => listTable(state, {
    onChange: () => { remember(); refreshButtons(); },
    onPage: (page) => { state.page = page; remember(); listArea.replaceChildren(...drawTable()); },
  });
  // Searches may overlap while typing: only the latest one's answer is shown.
  let loads = 0;
  const load = async () => {
    const mine = ++loads;
    listArea.replaceChildren(spinner());
    try {
      const entries = await callAll('cloudwatch', 'ListDashboards', state.prefix ? { DashboardNamePrefix: state.prefix } : {}, 'DashboardEntries');
      if (mine !== loads) return;
      state.entries = entries;
      // Names ticked before a reload may have gone meanwhile.
      const names = new Set(entries.map((e) => e.DashboardName));
      for (const n of [...state.selected]) if (!names.has(n)) state.selected.delete(n);
      state.page = Math.min(state.page, Math.max(1, Math.ceil(entries.length / PAGE_SIZE)));
      remember();
      refreshButtons();
      listArea.replaceChildren(...drawTable());
    } catch (e) {
      if (mine === loads) listArea.replaceChildren(errorBox(e));
    }
  };
  const applySearch = () => {
    const prefix = search.value.trim();
    if (prefix === state.prefix) return;
    state.prefix = prefix;
    state.page = 1;
    remember();
    load();
  };
  search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(applySearch, 250); });
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(debounce); applySearch(); } });
  const afterDelete = (deleted) => {
    for (const n of deleted) state.selected.delete(n);
    remember();
    load();
  };

  refreshButtons();
  root.append(
    pageHeader('Dashboards', { actions: [deleteButton, button('Refresh', load)] }),
    h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, search), listArea));
  load();
  return () => clearTimeout(debounce);
}

/** The current page of dashboards with checkboxes, and the pager under it. */
function listTable(state, { onChange, onPage }) {
  const { entries, selected } = state;
  if (!entries.length) {
    return [empty(state.prefix ? `No dashboard name starts with “${state.prefix}”.` : 'No dashboards in this account.')];
  }
  const pages = Math.ceil(entries.length / PAGE_SIZE);
  const rows = entries.slice((state.page - 1) * PAGE_SIZE, state.page * PAGE_SIZE);
  const boxes = [];
  const checkbox = (entry) => {
    const box = h('input', {
      type: 'checkbox', checked: selected.has(entry.DashboardName), 'aria-label': `Select ${entry.DashboardName}`,
      onchange: (e) => {
        if (e.target.checked) selected.add(entry.DashboardName);
        else selected.delete(entry.DashboardName);
        all.checked = rows.every((r) => selected.has(r.DashboardName));
        onChange();
      },
    });
    boxes.push(box);
    return box;
  };
  const all = h('input', {
    type: 'checkbox', 'aria-label': 'Select all on this page', checked: rows.every((r) => selected.has(r.DashboardName)),
    onchange: (e) => {
      for (const r of rows) {
        if (e.target.checked) selected.add(r.DashboardName);
        else selected.delete(r.DashboardName);
      }
      for (const b of boxes) b.checked = e.target.checked;
      onChange();
    },
  });
  const grid = table([
    { title: all, class: 'dash-check', render: checkbox },
    { title: 'Name', render: (e) => h('a', { href: link('/dashboards/' + encodeURIComponent(e.DashboardName)), class: 'dash-name' }, e.DashboardName) },
    { title: 'Last modified', render: (e) => formatDate(e.LastModified) },
    { title: 'Size', class: 'num', render: (e) => formatBytes(e.Size) },
  ], rows);
  const first = (state.page - 1) * PAGE_SIZE + 1;
  const pager = h('div', { class: 'dash-pager' },
    h('span', { class: 'muted' }, `${first}–${first + rows.length - 1} of ${entries.length}`),
    pages > 1 ? [
      button('Previous', () => onPage(state.page - 1), { disabled: state.page <= 1 }),
      h('span', {}, `Page ${state.page} of ${pages}`),
      button('Next', () => onPage(state.page + 1), { disabled: state.page >= pages }),
    ] : null);
  return [grid, pager];
}

/** Asks before deleting; DeleteDashboards' error (if any) is shown in the dialog. */
function confirmDelete(names, done) {
  if (!names.length) return;
  const problem = h('div');
  const dialog = h('dialog', { class: 'dialog', id: 'dash-confirm' },
    h('h2', {}, names.length === 1 ? 'Delete dashboard?' : `Delete ${names.length} dashboards?`),
    h('p', {}, 'This cannot be undone.'),
    h('ul', { class: 'dash-delete-names' }, names.map((n) => h('li', {}, n))),
    problem,
    h('div', { class: 'actions' },
      button('Cancel', () => close()),
      button('Delete', async (e) => {
        e.target.disabled = true;
        try {
          for (let i = 0; i < names.length; i += DELETE_BATCH) {
            await call('cloudwatch', 'DeleteDashboards', { DashboardNames: names.slice(i, i + DELETE_BATCH) });
          }
          close();
          done(names);
        } catch (err) {
          e.target.disabled = false;
          problem.replaceChildren(errorBox(err));
        }
      }, { danger: true, id: 'dash-confirm-delete' })));
  dialog.querySelector('#dash-confirm-delete').classList.add('dash-solid-danger');
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// =============================================================================================
// One dashboard
// =============================================================================================

const REFRESH_CHOICES = [[10, '10s'], [60, '1m'], [120, '2m'], [300, '5m'], [900, '15m']];
const PERIOD_CHOICES = [
  ['auto', 'Period: auto'], ['inherit', 'Period: per graph'], ['60', 'Period: 1 minute'],
  ['300', 'Period: 5 minutes'], ['900', 'Period: 15 minutes'], ['3600', 'Period: 1 hour'],
  ['21600', 'Period: 6 hours'], ['86400', 'Period: 1 day'],
];

function renderDashboard({ params, root }) {
  const name = params.name;
  title(name);
  const dash = { name, disposed: false, timer: 0, widgets: [], running: null, runs: 0 };
  const content = h('div', {}, spinner('Loading dashboard…'));
  root.append(pageHeader(name, { crumbs: [{ text: 'Dashboards', href: link('/dashboards') }] }), content);
  call('cloudwatch', 'GetDashboard', { DashboardName: name }).then((out) => {
    if (dash.disposed) return;
    const body = tryJson(out.DashboardBody);
    if (!body || !Array.isArray(body.widgets)) {
      content.replaceChildren(errorBox('The dashboard body is not a JSON object with a widgets array.'));
      return;
    }
    dash.body = body;
    content.replaceChildren(...dashboardPage(dash));
    runAll(dash);
  }).catch((e) => { if (!dash.disposed) content.replaceChildren(errorBox(e)); });
  return () => {
    dash.disposed = true;
    clearInterval(dash.timer);
    for (const w of dash.widgets) w.destroy();
  };
}

/** Toolbar, the optional source panel and the grid of widgets. */
function dashboardPage(dash) {
  const query = currentQuery();
  const defaults = bodyRange(dash.body);
  const picker = rangePicker(() => runAll(dash), defaults.name || '3h');
  if (!hasUrlRange(query) && defaults.custom) showCustomRange(picker, currentRange(dash));

  const period = h('select', {
    'aria-label': 'Period override', id: 'dash-period',
    onchange: (e) => { setQuery({ period: e.target.value === bodyPeriodOverride(dash.body) ? null : e.target.value }); runAll(dash); },
  }, PERIOD_CHOICES.map(([v, label]) => h('option', { value: v, selected: v === periodOverride(dash) }, label)));

  const source = h('section', { class: 'panel dash-source', hidden: query.source !== '1' },
    h('h2', {}, 'Dashboard source'), jsonView(dash.body, { open: 6 }));
  const sourceButton = button(query.source === '1' ? 'Hide source' : 'View source', () => {
    source.hidden = !source.hidden;
    sourceButton.textContent = source.hidden ? 'View source' : 'Hide source';
    sourceButton.setAttribute('aria-pressed', String(!source.hidden));
    setQuery({ source: source.hidden ? null : '1' });
  }, { id: 'dash-source' });
  sourceButton.setAttribute('aria-pressed', String(query.source === '1'));

  const grid = h('div', { class: 'dashboard-grid', id: 'dash-grid' });
  dash.widgets = dash.body.widgets.map((spec, i) => makeWidget(spec, i, dash));
  grid.append(...dash.widgets.map((w) => w.el));

  return [
    h('div', { class: 'toolbar dash-toolbar' }, picker, period,
      button('Refresh', () => runAll(dash), { id: 'dash-refresh' }), autoRefresh(dash), sourceButton),
    source,
    dash.widgets.length ? grid : empty('This dashboard has no widgets.'),
  ];
}

/** "Auto refresh" checkbox and its interval; on = `refresh=<seconds>` in the URL. */
function autoRefresh(dash) {
  const saved = Number(currentQuery().refresh);
  const on = REFRESH_CHOICES.some(([s]) => s === saved);
  const interval = h('select', { 'aria-label': 'Refresh interval', id: 'dash-refresh-interval' },
    REFRESH_CHOICES.map(([s, label]) => h('option', { value: s, selected: on ? s === saved : s === 60 }, label)));
  const box = h('input', { type: 'checkbox', id: 'dash-autorefresh', checked: on });
  const apply = () => {
    clearInterval(dash.timer);
    dash.timer = 0;
    setQuery({ refresh: box.checked ? interval.value : null });
    // A tick while the previous refresh is still loading is skipped, so slow queries never
    // pile up.
    if (box.checked) dash.timer = setInterval(() => { if (!dash.running) runAll(dash); }, Number(interval.value) * 1000);
  };
  box.addEventListener('change', apply);
  interval.addEventListener('change', apply);
  if (on) apply();
  return h('label', { class: 'dash-auto' }, box, ' Auto refresh ', interval);
}

const hasUrlRange = (q) => !!(q.range || (q.start && q.end));

/** The range in force: the URL's when set, else the body's `start`/`end`, else 3 hours. */
function currentRange(dash) {
  const query = currentQuery();
  if (hasUrlRange(query)) return rangeFromQuery(query);
  const d = bodyRange(dash.body);
  if (d.name) return rangeFromQuery({ range: d.name });
  if (d.custom) return d.custom();
  return rangeFromQuery({});
}

/**
 * The body's default range. `start`/`end` are ISO 8601 instants or durations before now
 * (`-PT6H`); a duration equal to one of the picker's buttons selects that button, anything
 * else is a custom range (recomputed at every refresh when relative).
 */
function bodyRange(body) {
  const start = typeof body.start === 'string' ? body.start.trim() : '';
  if (!start) return {};
  const end = typeof body.end === 'string' ? body.end.trim() : '';
  const span = isoDuration(start);
  if (span !== null && !end) {
    const match = RANGES.find(([, ms]) => ms === span);
    if (match) return { name: match[0] };
  }
  const at = (text, now) => {
    const d = isoDuration(text);
    return d !== null ? now - d : Date.parse(text);
  };
  const custom = () => {
    const now = Date.now();
    const s = at(start, now);
    const e = end ? at(end, now) : now;
    return Number.isFinite(s) && Number.isFinite(e) && s < e ? { start: s, end: e, label: 'custom' } : rangeFromQuery({});
  };
  return { custom };
}

/** `-PT6H`, `-P1D`, `-PT1H30M`, `-P2W` in milliseconds (a leading minus is optional), else null. */
function isoDuration(text) {
  const m = /^-?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || !m.slice(1).some(Boolean)) return null;
  const [w, d, hh, mm, ss] = m.slice(1).map((x) => Number(x || 0));
  return ((w * 7 + d) * 86400 + hh * 3600 + mm * 60 + ss) * 1000;
}

/** The picker only knows its buttons; a custom default range is shown in its custom form. */
function showCustomRange(picker, range) {
  for (const b of picker.querySelectorAll('button[data-range]')) b.classList.remove('active');
  const [from, to] = picker.querySelectorAll('input[type="datetime-local"]');
  if (from) from.value = new Date(range.start).toISOString().slice(0, 16);
  if (to) to.value = new Date(range.end).toISOString().slice(0, 16);
}

const bodyPeriodOverride = (body) => (body.periodOverride === 'inherit' ? 'inherit' : 'auto');
/** `auto`, `inherit` or a number of seconds: the URL's choice, else the body's. */
const periodOverride = (dash) => {
  const chosen = currentQuery().period;
  return PERIOD_CHOICES.some(([v]) => v === chosen) ? chosen : bodyPeriodOverride(dash.body);
};

/**
 * Loads every widget over the current range, then publishes the test/perf hook
 * `window.__wtPerf.dashboard`: {widgets: [{type, view, series, error, latest?, drawMs}], drawMs,
 * loadMs, range, runs}. `series` counts what the widget drew: chart series, single values,
 * alarm tiles or log table rows; `latest` holds each metric series' newest value.
 */
async function runAll(dash) {
  const range = currentRange(dash);
  const override = periodOverride(dash);
  const t0 = performance.now();
  const run = Promise.all(dash.widgets.map((w) => w.run(range, override)));
  dash.running = run;
  await run;
  if (dash.running === run) dash.running = null;
  if (dash.disposed || dash.running) return;
  dash.runs += 1;
  window.__wtPerf = window.__wtPerf || {};
  window.__wtPerf.dashboard = {
    name: dash.name,
    widgets: dash.widgets.map((w) => ({ ...w.info })),
    // Time spent drawing (DOM and canvas) once the data was in, over all widgets.
    drawMs: dash.widgets.reduce((sum, w) => sum + w.info.drawMs, 0),
    // From asking for the data to the last widget drawn.
    loadMs: performance.now() - t0,
    range: { start: range.start, end: range.end },
    runs: dash.runs,
  };
}

// ---------------------------------------------------------------------------------------------
// Widget frame: grid placement, title, per-widget loading and errors
// ---------------------------------------------------------------------------------------------

const GRID_COLUMNS = 24;
const DEFAULT_SIZE = 6;

/** Grid placement per the body: x/y/width/height in grid units; no x/y lets the grid place it. */
function placement(spec) {
  const int = (v, fallback) => (Number.isInteger(v) ? v : fallback);
  const width = Math.max(1, Math.min(GRID_COLUMNS, int(spec.width, DEFAULT_SIZE)));
  const height = Math.max(1, int(spec.height, DEFAULT_SIZE));
  const placed = Number.isInteger(spec.x) && Number.isInteger(spec.y);
  const x = placed ? Math.max(0, Math.min(GRID_COLUMNS - width, spec.x)) : 0;
  return {
    gridColumn: placed ? `${x + 1} / span ${width}` : `span ${width}`,
    gridRow: placed ? `${Math.max(0, spec.y) + 1} / span ${height}` : `span ${height}`,
  };
}

const KINDS = { metric: metricWidget, text: textWidget, alarm: alarmWidget, log: logWidget };

function makeWidget(spec, index, dash) {
  const props = spec && typeof spec.properties === 'object' && spec.properties ? spec.properties : {};
  const type = String(spec?.type ?? 'unknown');
  const kind = KINDS[type] || unknownWidget;
  const body = h('div', { class: 'body' });
  const heading = h('h3', {}, widgetTitle(type, props));
  const el = h('section', {
    class: `widget dash-widget dash-w-${kind === unknownWidget ? 'unknown' : type}` + (props.background === 'transparent' ? ' dash-transparent' : ''),
    style: placement(spec || {}), 'data-type': type, 'data-index': index,
  }, heading.textContent ? heading : null, body);
  const info = { type, view: viewOf(type, props), series: 0, error: null, drawMs: 0 };
  const view = kind(props, body, info, dash);
  let generation = 0;
  let loaded = false;
  return {
    el,
    info,
    async run(range, override) {
      const mine = ++generation;
      const current = () => mine === generation && !dash.disposed;
      // A spinner only the first time: a refresh keeps the old drawing until the new one is in.
      if (!loaded) body.replaceChildren(spinner());
      el.classList.add('dash-busy');
      try {
        await view.load({ range, override, current });
        if (current()) info.error = null;
      } catch (e) {
        if (!current()) return;
        view.reset?.();
        info.error = e instanceof ApiError ? e.toString() : String(e?.message || e);
        info.series = 0;
        delete info.latest;
        body.replaceChildren(errorBox(e));
      } finally {
        if (current()) { el.classList.remove('dash-busy'); loaded = true; }
      }
    },
    destroy() { generation++; view.reset?.(); },
  };
}

function widgetTitle(type, props) {
  if (typeof props.title === 'string') return props.title;
  if (type === 'alarm') return 'Alarm status';
  if (type === 'log') return parseLogQuery(String(props.query ?? '')).groups?.join(', ') || 'Logs';
  if (type === 'metric') {
    const names = (Array.isArray(props.metrics) ? props.metrics : [])
      .map((row) => (Array.isArray(row) && typeof row[1] === 'string' && row[1] !== '.' ? row[1] : null)).filter(Boolean);
    return [...new Set(names)].join(', ');
  }
  return '';
}

function viewOf(type, props) {
  if (type === 'metric') return props.view || 'timeSeries';
  if (type === 'log') return props.view || 'table';
  return null;
}

/** Times a drawing step into `info.drawMs`. */
function timed(info, draw) {
  const t0 = performance.now();
  const out = draw();
  info.drawMs = performance.now() - t0;
  return out;
}

/**
 * core.call signs with `session.region` synchronously, before its first await, so a widget's
 * own `region` is put in place just for that moment and restored right after.
 * (Wanted in core.js: a `region` option on call().)
 */
function callIn(region, service, operation, input) {
  if (!region || region === currentRegion()) return call(service, operation, input);
  const saved = session.region;
  session.region = region;
  try {
    return call(service, operation, input);
  } finally {
    session.region = saved;
  }
}

/** Keeps one chart of one kind in `body`, updating it in place on refresh. */
function chartHolder(body) {
  let chart = null;
  let kind = null;
  return {
    show(make, data, options) {
      if (chart && kind === make) {
        chart.update(data, options);
      } else {
        chart?.destroy();
        body.replaceChildren();
        chart = make(body, data, options);
        kind = make;
      }
      return chart;
    },
    reset() { chart?.destroy(); chart = null; kind = null; },
  };
}

/** The chart's height: the widget body's, less a line for the legend. */
const LEGEND_ROOM = 34;
const chartHeight = (body) => Math.max(80, body.clientHeight - LEGEND_ROOM);

// ---------------------------------------------------------------------------------------------
// Metric widgets
// ---------------------------------------------------------------------------------------------

const DEFAULT_PERIOD = 300;
const DEFAULT_STAT = 'Average';
/** Periods "auto" chooses from, and the most points it lets one series have. */
const AUTO_PERIODS = [60, 300, 900, 3600, 21600, 86400];
const AUTO_MAX_POINTS = 1440;

/**
 * The period a graph is computed at. `auto` (the default periodOverride) adapts it to the
 * time range: the graph's own period unless that gives a series more than AUTO_MAX_POINTS
 * points, then the shortest standard period that does not. `inherit` always obeys the graph;
 * a number is the user's override for every graph. `wholeRange` (setPeriodToTimeRange on a
 * single value, bar or pie) makes one period of the whole range.
 */
export function effectivePeriod(own, { override = 'auto', rangeMs = 3 * 3600e3, wholeRange = false } = {}) {
  if (wholeRange) return Math.max(60, Math.ceil(rangeMs / 60e3) * 60);
  if (override === 'inherit') return own;
  if (/^\d+$/.test(String(override))) return Number(override);
  const fitting = AUTO_PERIODS.find((p) => rangeMs / 1000 / p <= AUTO_MAX_POINTS) ?? AUTO_PERIODS.at(-1);
  return Math.max(own, fitting);
}

/**
 * Translates a metric widget's properties into GetMetricData MetricDataQueries.
 *
 * A `metrics` row is [Namespace, MetricName, DimName, DimValue, …, {options}?] or a math row
 * [{expression, label?, id?, …}]. Metric rows may abbreviate by reference to the previous
 * metric row (math rows do not count as one, as in CloudWatch's own parser):
 *   "."    the value the previous metric row has at the position being filled;
 *   "..."  the previous row's values from here on, up to where the values written after the
 *          "..." take over: after [NS, M, "Host", "a"], ["...", "b"] is [NS, M, "Host", "b"].
 * Options: stat, period (else the widget's, else Average / 300 s), label, id, color and
 * visible; `visible: false` becomes ReturnData false: computed (math may use it), not drawn.
 * Ids: the row's own, else m1, m2… for metrics and e1, e2… for math, skipping ids that rows
 * name themselves (GetMetricData wants them unique and starting with a lowercase letter).
 *
 * Returns {queries, rows: [{id, label, color}]} (rows for the queries that are drawn, in
 * order), or throws an Error naming the row at fault. (The charts have one y axis, so
 * `yAxis: "right"` rows are drawn on it too.)
 */
export function metricQueries(properties, { override = 'auto', rangeMs = 3 * 3600e3 } = {}) {
  const list = Array.isArray(properties.metrics) ? properties.metrics : [];
  const view = properties.view || 'timeSeries';
  const wholeRange = properties.setPeriodToTimeRange === true && ['singleValue', 'gauge', 'bar', 'pie', 'table'].includes(view);
  const period = (own) => effectivePeriod(own ?? properties.period ?? DEFAULT_PERIOD, { override, rangeMs, wholeRange });
  const parsed = list.map((row, i) => splitRow(row, i));
  const taken = new Set(parsed.map((r) => r.options.id).filter(Boolean));
  const counters = { m: 0, e: 0 };
  const nextId = (prefix) => {
    let id;
    do id = `${prefix}${++counters[prefix]}`; while (taken.has(id));
    taken.add(id);
    return id;
  };

  let previous = [];
  const queries = [];
  const rows = [];
  parsed.forEach(({ strings, options }, i) => {
    const visible = options.visible !== false;
    let query;
    if (typeof options.expression === 'string' && !strings.length) {
      query = { Id: options.id || nextId('e'), Expression: options.expression, Label: options.label ?? options.id ?? options.expression, Period: period(options.period) };
    } else {
      const values = expandShorthand(strings, previous, i);
      if (values.length < 2 || values.length % 2) {
        throw new Error(`metrics row ${i + 1}: expected [Namespace, MetricName, DimensionName, DimensionValue, …] but got ${JSON.stringify(list[i])}`);
      }
      previous = values;
      const [namespace, metricName, ...pairs] = values;
      const dimensions = [];
      for (let k = 0; k < pairs.length; k += 2) dimensions.push({ Name: pairs[k], Value: pairs[k + 1] });
      query = {
        Id: options.id || nextId('m'),
        MetricStat: {
          Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions },
          Period: period(options.period),
          Stat: options.stat || properties.stat || DEFAULT_STAT,
        },
        // Without a label the legend tells rows apart by their dimension values.
        Label: options.label ?? [metricName, ...dimensions.map((d) => d.Value)].join(' '),
      };
    }
    query.ReturnData = visible;
    queries.push(query);
    if (visible) rows.push({ id: query.Id, label: query.Label, color: options.color });
  });
  return { queries, rows };
}

/** A row's strings and its trailing options object. */
function splitRow(row, i) {
  if (!Array.isArray(row)) throw new Error(`metrics row ${i + 1} is not an array`);
  const last = row.at(-1);
  const hasOptions = last !== null && typeof last === 'object' && !Array.isArray(last);
  const strings = hasOptions ? row.slice(0, -1) : row;
  if (strings.some((s) => typeof s !== 'string')) throw new Error(`metrics row ${i + 1}: every element but a final options object must be a string`);
  return { strings, options: hasOptions ? last : {} };
}

/** Resolves "." and "..." against the previous metric row (see metricQueries). */
function expandShorthand(strings, previous, i) {
  const out = [];
  strings.forEach((text, k) => {
    if (text === '.') {
      if (out.length >= previous.length) throw new Error(`metrics row ${i + 1}: "." refers to a value the previous metric does not have`);
      out.push(previous[out.length]);
    } else if (text === '...' || text === '..') {
      const until = previous.length - (strings.length - k - 1);
      while (out.length < until) out.push(previous[out.length]);
    } else {
      out.push(text);
    }
  });
  return out;
}

/** GetMetricData over the range, oldest first, pages merged per result. */
async function getMetricData(queries, range, region) {
  const input = {
    MetricDataQueries: queries,
    // Whole minutes, so refreshes keep the same buckets.
    StartTime: Math.floor(range.start / 60e3) * 60,
    EndTime: Math.ceil(range.end / 60e3) * 60,
    ScanBy: 'TimestampAscending',
  };
  const merged = new Map();
  let token;
  do {
    const page = await callIn(region, 'cloudwatch', 'GetMetricData', token ? { ...input, NextToken: token } : input);
    for (const r of page.MetricDataResults || []) {
      // An expression returning several series (SEARCH) repeats its Id with other labels.
      const key = `${r.Id}\u0000${r.Label}`;
      const into = merged.get(key);
      if (into) {
        into.Timestamps.push(...(r.Timestamps || []));
        into.Values.push(...(r.Values || []));
      } else {
        merged.set(key, { ...r, Timestamps: [...(r.Timestamps || [])], Values: [...(r.Values || [])] });
      }
    }
    token = page.NextToken;
  } while (token);
  return [...merged.values()];
}

function lastValue(series) {
  for (let i = series.values.length - 1; i >= 0; i--) if (Number.isFinite(series.values[i])) return series.values[i];
  return null;
}

function metricWidget(props, body, info) {
  const holder = chartHolder(body);
  const view = props.view || 'timeSeries';
  return {
    reset: holder.reset,
    async load({ range, override, current }) {
      const plan = metricQueries(props, { override, rangeMs: range.end - range.start });
      if (!plan.rows.length) {
        holder.reset();
        info.series = 0;
        body.replaceChildren(empty('No metrics to graph.'));
        return;
      }
      const results = await getMetricData(plan.queries, range, props.region);
      if (!current()) return;
      const byId = new Map(plan.rows.map((r) => [r.id, r]));
      const series = results.map((r) => ({
        label: r.Label || r.Id,
        timestamps: (r.Timestamps || []).map((t) => t * 1000),
        values: r.Values || [],
        color: byId.get(r.Id)?.color,
      }));
      info.series = series.length;
      info.latest = series.map(lastValue);
      timed(info, () => drawMetrics(view, props, series, range, body, holder));
    },
  };
}

function drawMetrics(view, props, series, range, body, holder) {
  const height = chartHeight(body);
  const latest = () => series.map((s) => ({ label: s.label, value: lastValue(s), color: s.color }));
  if (view === 'singleValue' || view === 'gauge') {
    // A single value shows the number in the text colour unless the row chose one.
    holder.show(singleValue, latest(), {});
  } else if (view === 'bar') {
    holder.show(barChart, latest(), { height });
  } else if (view === 'pie') {
    holder.show(pieChart, latest(), { height });
  } else if (view === 'table') {
    holder.reset();
    body.replaceChildren(metricTable(series));
  } else {
    const axis = props.yAxis?.left || {};
    holder.show(lineChart, series, {
      start: range.start, end: range.end, height, stacked: props.stacked === true,
      threshold: threshold(props.annotations?.horizontal),
      yMin: Number.isFinite(axis.min) ? axis.min : undefined,
      yMax: Number.isFinite(axis.max) ? axis.max : undefined,
      yLabel: typeof axis.label === 'string' ? axis.label : undefined,
    });
  }
}

/** The first horizontal annotation that is a line (not a band) becomes the chart's threshold. */
function threshold(horizontal) {
  const line = (Array.isArray(horizontal) ? horizontal : []).find((a) => a && !Array.isArray(a) && Number.isFinite(a.value));
  return line ? { value: line.value, label: line.label } : undefined;
}

function metricTable(series) {
  const stats = (s) => {
    const v = s.values.filter(Number.isFinite);
    return { last: lastValue(s), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null, avg: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null };
  };
  const rows = series.map((s) => ({ label: s.label, ...stats(s) }));
  return table([
    { title: 'Label', render: (r) => r.label },
    { title: 'Latest', class: 'num', render: (r) => formatValue(r.last) },
    { title: 'Minimum', class: 'num', render: (r) => formatValue(r.min) },
    { title: 'Maximum', class: 'num', render: (r) => formatValue(r.max) },
    { title: 'Average', class: 'num', render: (r) => formatValue(r.avg) },
  ], rows, { empty: 'No data available.' });
}

// ---------------------------------------------------------------------------------------------
// Text, alarm status and unknown widgets
// ---------------------------------------------------------------------------------------------

function textWidget(props, body, info) {
  return {
    async load() {
      if (body.firstChild?.classList?.contains('markdown')) return;
      timed(info, () => body.replaceChildren(markdown(props.markdown ?? '')));
    },
  };
}

/** DescribeAlarms takes at most 100 names a call. */
const ALARM_BATCH = 100;

/** `arn:aws:cloudwatch:region:account:alarm:name` → name (names may hold colons). */
function alarmName(arn) {
  const text = String(arn);
  const at = text.indexOf(':alarm:');
  return at >= 0 ? text.slice(at + ':alarm:'.length) : text;
}

function alarmWidget(props, body, info) {
  const names = (Array.isArray(props.alarms) ? props.alarms : []).map(alarmName);
  return {
    async load({ current }) {
      const found = new Map();
      for (let i = 0; i < names.length; i += ALARM_BATCH) {
        const out = await callIn(props.region, 'cloudwatch', 'DescribeAlarms', {
          AlarmNames: names.slice(i, i + ALARM_BATCH), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        });
        for (const a of [...(out.MetricAlarms || []), ...(out.CompositeAlarms || [])]) found.set(a.AlarmName, a);
      }
      if (!current()) return;
      let tiles = names.map((n) => found.get(n) || { AlarmName: n, missing: true });
      if (Array.isArray(props.states) && props.states.length) tiles = tiles.filter((a) => props.states.includes(a.StateValue));
      if (props.sortBy === 'stateUpdatedTimestamp' || props.sortBy === 'timestamp') {
        tiles.sort((a, b) => (b.StateUpdatedTimestamp || 0) - (a.StateUpdatedTimestamp || 0));
      }
      info.series = tiles.length;
      timed(info, () => body.replaceChildren(tiles.length
        ? h('div', { class: 'dash-alarms' }, tiles.map(alarmTile))
        : empty('No alarms to show.')));
    },
  };
}

function alarmTile(alarm) {
  const state = alarm.missing ? null : alarm.StateValue;
  return h('a', {
    class: 'dash-alarm' + (state ? ` dash-alarm-${state.toLowerCase()}` : ' dash-alarm-missing'),
    href: link('/alarms/' + encodeURIComponent(alarm.AlarmName)), title: alarm.StateReason || undefined,
  },
  h('span', { class: 'dash-alarm-name' }, alarm.AlarmName),
  alarm.missing ? h('span', { class: 'badge neutral' }, 'Not found') : badge(state),
  state ? h('span', { class: 'muted small' }, formatDate(alarm.StateUpdatedTimestamp)) : null);
}

function unknownWidget(props, body, info) {
  return {
    async load() {
      body.replaceChildren(h('div', { class: 'dash-placeholder' }, `Widgets of type “${info.type}” are not drawn by this console.`));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Log widgets (CloudWatch Logs Insights)
// ---------------------------------------------------------------------------------------------

/** Polling GetQueryResults: first wait, growth factor, longest wait, and when to give up. */
const POLL = { first: 100, factor: 1.5, max: 1000, timeout: 60e3 };

/**
 * A log widget's query is `SOURCE 'group1' | SOURCE 'group2' | <query>`: the log groups first,
 * each in a SOURCE part, then the Insights query. Returns {groups, queryString}, or {error}.
 */
export function parseLogQuery(text) {
  const groups = [];
  const source = /^\s*SOURCE\s+(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(\||$)/i;
  let rest = text;
  let m;
  while ((m = source.exec(rest))) {
    groups.push(m[1] ?? m[2]);
    rest = rest.slice(m[0].length);
  }
  if (!groups.length) return { error: 'The query must start with the log groups to search: SOURCE \'group\' | …' };
  return { groups, queryString: rest.trim() };
}

async function runInsights({ groups, queryString }, range, region, current) {
  const { queryId } = await callIn(region, 'logs', 'StartQuery', {
    logGroupNames: groups, queryString,
    startTime: Math.floor(range.start / 1000), endTime: Math.floor(range.end / 1000),
  });
  const deadline = Date.now() + POLL.timeout;
  for (let wait = POLL.first; ; wait = Math.min(POLL.max, wait * POLL.factor)) {
    const out = await callIn(region, 'logs', 'GetQueryResults', { queryId });
    if (out.status === 'Complete') return out.results || [];
    if (['Failed', 'Cancelled', 'Timeout'].includes(out.status)) throw new Error(`The query ended with status ${out.status}.`);
    if (!current()) return null;
    if (Date.now() > deadline) throw new Error('The query did not complete within a minute.');
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Result rows as objects, and their fields in order of first appearance (no @ptr). */
function resultTable(results) {
  const fields = [];
  const rows = results.map((row) => {
    const out = {};
    for (const { field, value } of row) {
      if (field === '@ptr') continue;
      if (!fields.includes(field)) fields.push(field);
      out[field] = value;
    }
    return out;
  });
  // @timestamp and @message lead, as in the Logs Insights console.
  const lead = ['@timestamp', '@message'].filter((f) => fields.includes(f));
  return { rows, fields: [...lead, ...fields.filter((f) => !lead.includes(f))] };
}

/** Insights prints times as `YYYY-MM-DD HH:MM:SS.mmm` in UTC. */
const insightsTime = (text) => Date.parse(String(text).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? '' : 'Z'));
const isNumber = (v) => v !== undefined && v !== '' && Number.isFinite(Number(v));

function logWidget(props, body, info) {
  const holder = chartHolder(body);
  const view = props.view || 'table';
  const parsed = parseLogQuery(String(props.query ?? ''));
  return {
    reset: holder.reset,
    async load({ range, current }) {
      if (parsed.error) throw new Error(parsed.error);
      const results = await runInsights(parsed, range, props.region, current);
      if (!current() || results === null) return;
      const { rows, fields } = resultTable(results);
      timed(info, () => {
        if (view === 'table') {
          holder.reset();
          info.series = rows.length;
          body.replaceChildren(logTable(rows, fields));
        } else if (view === 'timeSeries') {
          const series = binnedSeries(rows, fields);
          info.series = series.length;
          holder.show(lineChart, series, { start: range.start, end: range.end, height: chartHeight(body) });
        } else {
          const items = groupedItems(rows, fields);
          info.series = items.length;
          holder.show(view === 'pie' ? pieChart : barChart, items, { height: chartHeight(body) });
        }
      });
    },
  };
}

function logTable(rows, fields) {
  return h('div', { class: 'dash-log' },
    h('div', { class: 'muted small' }, `${rows.length} ${rows.length === 1 ? 'record' : 'records'}`),
    table(fields.map((f) => ({ title: f, class: { '@message': 'mono dash-msg', '@timestamp': 'dash-ts' }[f], render: (r) => r[f] ?? '' })), rows,
      { empty: 'No log events in this time range.' }));
}

/**
 * `stats … by bin(…)` results as line series: x is the bin field, one series per numeric
 * field and per value of the other group-by fields.
 */
function binnedSeries(rows, fields) {
  const bin = fields.find((f) => /^bin\s*\(/i.test(f));
  if (!bin) throw new Error('A time series needs a query that ends in stats … by bin(period).');
  const others = fields.filter((f) => f !== bin);
  const numeric = others.filter((f) => rows.every((r) => r[f] === undefined || isNumber(r[f])));
  const groups = others.filter((f) => !numeric.includes(f));
  const series = new Map();
  for (const r of rows) {
    const t = insightsTime(r[bin]);
    if (!Number.isFinite(t)) continue;
    for (const f of numeric) {
      if (!isNumber(r[f])) continue;
      const parts = groups.map((g) => r[g] ?? '');
      if (numeric.length > 1 || !parts.length) parts.push(f);
      const label = parts.join(' ');
      if (!series.has(label)) series.set(label, { label, points: [] });
      series.get(label).points.push([t, Number(r[f])]);
    }
  }
  return [...series.values()].map(({ label, points }) => {
    points.sort((a, b) => a[0] - b[0]);
    return { label, timestamps: points.map((p) => p[0]), values: points.map((p) => p[1]) };
  });
}

/** Bar/pie items: one per result row, labelled by its text fields, sized by its first number. */
function groupedItems(rows, fields) {
  const value = fields.find((f) => rows.length && rows.every((r) => isNumber(r[f])));
  if (!value) throw new Error('A bar or pie chart needs a query whose results have a numeric field, such as stats count(*) by field.');
  const labels = fields.filter((f) => f !== value && !rows.every((r) => isNumber(r[f])));
  return rows.map((r) => ({ label: labels.map((f) => r[f] ?? '').join(' ') || value, value: Number(r[value]) }));
}

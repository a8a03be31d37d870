// Alarms: the list (/alarms) with state counts, filters and bulk actions, and one alarm
// (/alarms/:name) with its graph, configuration, history and recorded action deliveries.
//
// View state lives in the query string: list `state`, `q`, `selected` (a JSON array of names);
// detail `tab`, `htype` (history type) and the graph's range (`range` or `start`/`end`).

import {
  call, internal, route, link, navigate, setQuery, currentQuery, h, table, panel, pageHeader,
  button, badge, errorBox, fill, spinner, formatDate, rangePicker, rangeFromQuery,
  jsonView, tryJson, title,
} from '../core.js';
import { lineChart, PALETTE } from '../chart.js';

const TYPES = ['MetricAlarm', 'CompositeAlarm'];
const STATES = [
  ['ALARM', 'In alarm'],
  ['OK', 'OK'],
  ['INSUFFICIENT_DATA', 'Insufficient data'],
];
const OPERATORS = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside the band',
  GreaterThanUpperThreshold: 'above the band',
  LessThanLowerThreshold: 'below the band',
};
const MISSING_DATA = {
  missing: 'Treat missing data as missing',
  breaching: 'Treat missing data as bad (breaching threshold)',
  notBreaching: 'Treat missing data as good (not breaching threshold)',
  ignore: 'Ignore missing data (maintain the alarm state)',
};
const alarmPath = (name) => '/alarms/' + encodeURIComponent(name);

route('/alarms', renderList);
route('/alarms/:name', renderDetail);

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** Every metric and composite alarm of the account and region, following NextToken. */
async function describeAll(input = {}) {
  // AWS takes nothing but paging with ChildrenOfAlarmName/ParentsOfAlarmName, which span both types.
  const related = input.ChildrenOfAlarmName || input.ParentsOfAlarmName;
  const scoped = related ? input : { ...input, AlarmTypes: TYPES };
  const metric = [];
  const composite = [];
  let token;
  do {
    const page = await call('cloudwatch', 'DescribeAlarms', { ...scoped, MaxRecords: 100, NextToken: token });
    metric.push(...(page.MetricAlarms || []));
    composite.push(...(page.CompositeAlarms || []));
    token = page.NextToken;
  } while (token);
  return [...metric.map((a) => ({ ...a, composite: false })), ...composite.map((a) => ({ ...a, composite: true }))]
    .sort((a, b) => (a.AlarmName < b.AlarmName ? -1 : a.AlarmName > b.AlarmName ? 1 : 0));
}

async function describeOne(name) {
  return (await describeAll({ AlarmNames: [name] }))[0] || null;
}

/** The query the alarm evaluates (its own metric, or the ReturnData entry of its math). */
function evaluatedQuery(alarm) {
  if (!alarm.Metrics) return null;
  return alarm.Metrics.find((q) => q.ReturnData !== false && q.Id !== alarm.ThresholdMetricId) || alarm.Metrics[0];
}

/** GetMetricData queries that draw what the alarm watches, and its band when it has one. */
function graphQueries(alarm) {
  if (alarm.Metrics) {
    return alarm.Metrics.map((q) => ({ ...q, ReturnData: q.ReturnData !== false || q.Id === alarm.ThresholdMetricId }));
  }
  const stat = {
    Metric: { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions || [] },
    Period: alarm.Period,
    Stat: alarm.Statistic || alarm.ExtendedStatistic,
  };
  if (alarm.Unit) stat.Unit = alarm.Unit;
  return [{ Id: 'm1', MetricStat: stat, Label: alarm.MetricName, ReturnData: true }];
}

/** GetMetricData over the range, pages merged per query id, as chart series. */
async function alarmSeries(alarm, range) {
  const byId = new Map();
  let token;
  do {
    const page = await call('cloudwatch', 'GetMetricData', {
      MetricDataQueries: graphQueries(alarm),
      StartTime: range.start / 1000,
      EndTime: range.end / 1000,
      ScanBy: 'TimestampAscending',
      NextToken: token,
    });
    for (const r of page.MetricDataResults || []) {
      const s = byId.get(r.Id) || { label: r.Label || r.Id, id: r.Id, timestamps: [], values: [] };
      s.timestamps.push(...(r.Timestamps || []).map((t) => t * 1000));
      s.values.push(...(r.Values || []));
      byId.set(r.Id, s);
    }
    token = page.NextToken;
  } while (token);
  return [...byId.values()].map((s, i) => ({
    ...s, color: s.id === alarm.ThresholdMetricId ? '#7f7f7f' : PALETTE[i % PALETTE.length],
  }));
}

/**
 * The periods the alarm spent in ALARM during the range, from its StateUpdate history: each
 * band runs from a transition to ALARM until the next transition out of it (or now). History
 * is read newest first back to the first transition before the range, which gives the state
 * in force when the range starts.
 */
async function alarmBands(alarm, range) {
  const items = [];
  let token;
  do {
    const page = await call('cloudwatch', 'DescribeAlarmHistory', {
      AlarmName: alarm.AlarmName, AlarmTypes: TYPES, HistoryItemType: 'StateUpdate',
      EndDate: range.end / 1000, ScanBy: 'TimestampDescending', MaxRecords: 100, NextToken: token,
    });
    items.push(...(page.AlarmHistoryItems || []));
    token = page.NextToken;
  } while (token && items.length && items[items.length - 1].Timestamp * 1000 > range.start);
  const bands = [];
  let since = null;
  for (const item of items.reverse()) {
    const at = item.Timestamp * 1000;
    const inAlarm = tryJson(item.HistoryData)?.newState?.stateValue === 'ALARM';
    if (inAlarm && since === null) since = at;
    if (!inAlarm && since !== null) {
      bands.push({ start: since, end: at });
      since = null;
    }
  }
  if (since !== null) bands.push({ start: since, end: Date.now() });
  return bands
    .filter((b) => b.end > range.start && b.start < range.end)
    .map((b) => ({ start: Math.max(b.start, range.start), end: Math.min(b.end, range.end), label: 'In alarm' }));
}

/** The [{state, name}] an AlarmRule refers to: ALARM("x"), OK(x), INSUFFICIENT_DATA(arn). */
function ruleChildren(rule) {
  const out = [];
  const re = /\b(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"((?:[^"\\]|\\.)*)"|([^()\s"]+))\s*\)/g;
  for (const m of String(rule || '').matchAll(re)) {
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    out.push({ state: m[1], name: raw.replace(/^arn:[^:]*:cloudwatch:[^:]*:[^:]*:alarm:/, '') });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

function duration(seconds) {
  const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  const [unit, size] = units.find(([, s]) => seconds % s === 0 && seconds >= s) || ['second', 1];
  const n = seconds / size;
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

const statistic = (alarm) => alarm.Statistic || alarm.ExtendedStatistic || '–';

/** What the alarm watches, e.g. "CPUUtilization > 80 for 3 datapoints within 3 minutes". */
function conditionText(alarm) {
  if (alarm.composite) return alarm.AlarmRule || '';
  const q = evaluatedQuery(alarm);
  const metric = q ? q.Label || q.Expression || q.MetricStat?.Metric?.MetricName || q.Id : alarm.MetricName;
  const period = q ? q.Period || q.MetricStat?.Period : alarm.Period;
  const op = OPERATORS[alarm.ComparisonOperator] || alarm.ComparisonOperator;
  const bound = alarm.ThresholdMetricId ? '' : ` ${alarm.Threshold}`;
  const m = alarm.DatapointsToAlarm || alarm.EvaluationPeriods;
  const within = period ? ` within ${duration(period * alarm.EvaluationPeriods)}` : '';
  return `${metric} ${op}${bound} for ${m} datapoint${m === 1 ? '' : 's'}${within}`;
}

function actionsSummary(alarm) {
  const count = (alarm.AlarmActions || []).length + (alarm.OKActions || []).length + (alarm.InsufficientDataActions || []).length;
  if (!alarm.ActionsEnabled) return h('span', { class: 'alm-actions off', 'data-actions': 'disabled' }, 'Actions disabled');
  if (!count) return h('span', { class: 'alm-actions muted', 'data-actions': 'enabled' }, 'No actions');
  return h('span', { class: 'alm-actions on', 'data-actions': 'enabled' }, `Actions enabled (${count})`);
}

function dimensionsText(dimensions) {
  return dimensions?.length ? dimensions.map((d) => `${d.Name} = ${d.Value}`).join(', ') : 'None';
}

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '–')]));
}

function statusBadge(status) {
  const cls = { delivered: 'good', failed: 'bad' }[status] || 'neutral';
  return h('span', { class: 'badge ' + cls, 'data-status': status }, status);
}

function perf(key, value) {
  window.__wtPerf = window.__wtPerf || {};
  window.__wtPerf[key] = value;
}

/** A modal confirmation; `onConfirm` failing keeps the dialog open with the server's error. */
function confirmDialog(heading, body, confirmLabel, onConfirm) {
  const slot = h('div');
  const dialog = h('dialog', { class: 'dialog alm-dialog' });
  const close = () => { dialog.close(); dialog.remove(); };
  const confirm = button(confirmLabel, async () => {
    confirm.disabled = true;
    slot.replaceChildren();
    try {
      await onConfirm();
      close();
    } catch (e) {
      slot.replaceChildren(errorBox(e));
      confirm.disabled = false;
    }
  }, { primary: true, id: 'alm-confirm' });
  dialog.append(h('h2', {}, heading), body, slot,
    h('div', { class: 'actions alm-dialog-actions' }, button('Cancel', close), confirm));
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

function confirmDelete(names, done) {
  confirmDialog(names.length === 1 ? 'Delete alarm' : `Delete ${names.length} alarms`,
    h('div', {}, h('p', {}, 'These alarms and their history will be deleted:'),
      h('ul', { class: 'alm-names' }, names.map((n) => h('li', {}, n)))),
    'Delete', async () => {
      await call('cloudwatch', 'DeleteAlarms', { AlarmNames: names });
      done();
    });
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

function renderList({ query, root }) {
  title('Alarms');
  const view = {
    alarms: [],
    state: STATES.some(([s]) => s === query.state) ? query.state : '',
    text: query.q || '',
    selected: new Set(parseSelected(query.selected)),
    el: h('div', { class: 'alm-list' }),
  };
  root.append(view.el);
  loadList(view);
}

function parseSelected(text) {
  const value = text ? tryJson(text) : undefined;
  return Array.isArray(value) ? value.map(String) : [];
}

async function loadList(view) {
  const t0 = performance.now();
  if (!view.el.firstChild) view.el.append(spinner('Loading alarms…'));
  try {
    view.alarms = await describeAll();
  } catch (e) {
    view.el.replaceChildren(pageHeader('Alarms'), errorBox(e));
    return;
  }
  drawList(view);
  perf('alarmList', { ms: Math.round(performance.now() - t0), count: view.alarms.length });
}

function drawList(view) {
  const counts = Object.fromEntries(STATES.map(([s]) => [s, view.alarms.filter((a) => a.StateValue === s).length]));
  view.message = h('div', { class: 'alm-message' });
  view.body = h('div');
  view.bulk = h('div', { class: 'actions' });
  const refresh = button('Refresh', () => loadList(view), { id: 'alm-refresh' });
  view.el.replaceChildren(
    pageHeader('Alarms', { actions: [refresh] }),
    h('div', { class: 'alm-counts', role: 'group', 'aria-label': 'Alarms by state' },
      countTile(view, '', 'All alarms', view.alarms.length),
      STATES.map(([s, label]) => countTile(view, s, label, counts[s]))),
    panel(null, listToolbar(view), view.message, view.body));
  drawRows(view);
}

function countTile(view, state, label, n) {
  return h('button', {
    type: 'button', class: 'alm-count' + (view.state === state ? ' active' : ''), 'data-count-state': state || 'ALL',
    onclick: () => { setFilter(view, { state }); },
  }, h('span', { class: 'alm-count-n ' + (state ? 'st-' + state : '') }, String(n)), h('span', {}, label));
}

function listToolbar(view) {
  const search = h('input', {
    type: 'search', id: 'alm-search', class: 'grow', placeholder: 'Search alarms by name', value: view.text,
    'aria-label': 'Search alarms by name', oninput: (e) => setFilter(view, { text: e.target.value }),
  });
  const state = h('select', { id: 'alm-state', 'aria-label': 'State', onchange: (e) => setFilter(view, { state: e.target.value }) },
    h('option', { value: '', selected: !view.state }, 'All states'),
    STATES.map(([s, label]) => h('option', { value: s, selected: view.state === s }, label)));
  return h('div', { class: 'toolbar' }, search, state, view.bulk);
}

function setFilter(view, { state = view.state, text = view.text }) {
  view.state = state;
  view.text = text;
  setQuery({ state: state || null, q: text || null });
  for (const tile of view.el.querySelectorAll('.alm-count')) tile.classList.toggle('active', (tile.dataset.countState === 'ALL' ? '' : tile.dataset.countState) === state);
  const select = view.el.querySelector('#alm-state');
  if (select) select.value = state;
  drawRows(view);
}

function visibleAlarms(view) {
  const needle = view.text.trim().toLowerCase();
  return view.alarms.filter((a) => (!view.state || a.StateValue === view.state)
    && (!needle || a.AlarmName.toLowerCase().includes(needle)));
}

function drawRows(view) {
  const rows = visibleAlarms(view);
  // Only what is shown can stay selected: a bulk action never touches hidden alarms.
  const shown = new Set(rows.map((a) => a.AlarmName));
  for (const n of [...view.selected]) if (!shown.has(n)) view.selected.delete(n);
  const all = h('input', {
    type: 'checkbox', 'aria-label': 'Select all shown alarms', checked: rows.length > 0 && view.selected.size === rows.length,
    onchange: (e) => { for (const a of rows) e.target.checked ? view.selected.add(a.AlarmName) : view.selected.delete(a.AlarmName); drawRows(view); },
  });
  const columns = [
    { title: all, class: 'alm-check', render: (a) => h('input', {
      type: 'checkbox', 'aria-label': `Select ${a.AlarmName}`, 'data-name': a.AlarmName, checked: view.selected.has(a.AlarmName),
      onchange: (e) => { e.target.checked ? view.selected.add(a.AlarmName) : view.selected.delete(a.AlarmName); drawRows(view); },
    }) },
    { title: 'Name', render: (a) => [h('a', { href: link(alarmPath(a.AlarmName)), class: 'alm-name', title: a.AlarmDescription }, a.AlarmName),
      a.composite ? h('span', { class: 'alm-kind' }, 'Composite') : null] },
    { title: 'State', render: (a) => badge(a.StateValue) },
    { title: 'Last state update', class: 'alm-nowrap', render: (a) => formatDate(a.StateUpdatedTimestamp) },
    { title: 'Conditions', render: (a) => h('span', { class: a.composite ? 'mono alm-rule' : '' }, conditionText(a)) },
    { title: 'Actions', class: 'alm-nowrap', render: actionsSummary },
  ];
  const message = view.alarms.length ? 'No alarms match these filters.' : 'No alarms in this account and region.';
  view.body.replaceChildren(table(columns, rows, { empty: message, rowClass: (a) => (view.selected.has(a.AlarmName) ? 'alm-selected' : undefined) }));
  drawBulk(view);
  setQuery({ selected: view.selected.size ? JSON.stringify([...view.selected]) : null });
}

function drawBulk(view) {
  const names = [...view.selected];
  const none = !names.length;
  const act = (operation) => async () => {
    view.message.replaceChildren();
    try {
      await call('cloudwatch', operation, { AlarmNames: names });
      await loadList(view);
    } catch (e) {
      view.message.replaceChildren(errorBox(e));
    }
  };
  view.bulk.replaceChildren(
    h('span', { class: 'muted small' }, none ? '' : `${names.length} selected`),
    button('Enable actions', act('EnableAlarmActions'), { disabled: none, id: 'alm-bulk-enable' }),
    button('Disable actions', act('DisableAlarmActions'), { disabled: none, id: 'alm-bulk-disable' }),
    button('Delete', () => confirmDelete(names, () => {
      view.selected.clear();
      loadList(view);
    }), { disabled: none, danger: true, id: 'alm-bulk-delete' }));
}

// ---------------------------------------------------------------------------------------------
// One alarm
// ---------------------------------------------------------------------------------------------

const TABS = [['details', 'Details'], ['history', 'History'], ['actions', 'Actions']];

function renderDetail({ params, root }) {
  const view = { name: params.name, el: h('div', { class: 'alm-detail' }), chart: null, gone: false, graphSeq: 0 };
  title(view.name);
  root.append(view.el);
  loadDetail(view);
  return () => {
    view.gone = true;
    view.chart?.destroy();
  };
}

const crumbs = () => [{ text: 'Alarms', href: link('/alarms') }];

/** (Re)reads the alarm and redraws everything; the actions call it after each change. */
async function loadDetail(view) {
  if (!view.el.firstChild) view.el.append(spinner('Loading alarm…'));
  let alarm;
  try {
    alarm = await describeOne(view.name);
  } catch (e) {
    view.el.replaceChildren(pageHeader(view.name, { crumbs: crumbs() }), errorBox(e));
    return;
  }
  if (view.gone) return;
  view.chart?.destroy();
  view.chart = null;
  if (!alarm) {
    view.el.replaceChildren(pageHeader(view.name, { crumbs: crumbs() }),
      panel('Alarm not found', h('p', {}, `There is no alarm named "${view.name}" in this account and region.`),
        h('a', { href: link('/alarms') }, 'Back to alarms')));
    return;
  }
  view.alarm = alarm;
  view.actionSlot = h('div', { class: 'alm-form-slot' });
  view.el.replaceChildren(...[
    pageHeader(alarm.AlarmName, { crumbs: crumbs(), actions: detailActions(view) }),
    view.actionSlot,
    statePanel(alarm),
    alarm.composite ? null : graphPanel(view),
    tabsPanel(view),
  ].filter(Boolean));
}

function detailActions(view) {
  const alarm = view.alarm;
  const toggle = alarm.ActionsEnabled
    ? button('Disable actions', () => runAction(view, 'DisableAlarmActions'), { id: 'alm-disable' })
    : button('Enable actions', () => runAction(view, 'EnableAlarmActions'), { id: 'alm-enable' });
  return [
    button('Set state', () => openSetState(view), { id: 'alm-set-state' }),
    toggle,
    button('Delete', () => confirmDelete([alarm.AlarmName], () => navigate('/alarms')), { danger: true, id: 'alm-delete' }),
  ];
}

async function runAction(view, operation) {
  view.actionSlot.replaceChildren(spinner('Saving…'));
  try {
    await call('cloudwatch', operation, { AlarmNames: [view.alarm.AlarmName] });
  } catch (e) {
    view.actionSlot.replaceChildren(errorBox(e));
    return;
  }
  await loadDetail(view);
}

/** The small "Set state" form: SetAlarmState with a state, a reason and optional JSON data. */
function openSetState(view) {
  const proposed = view.alarm.StateValue === 'ALARM' ? 'OK' : 'ALARM';
  const state = h('select', { id: 'alm-new-state', 'aria-label': 'New state' },
    STATES.map(([s, label]) => h('option', { value: s, selected: s === proposed }, label)));
  const reason = h('input', { id: 'alm-reason', required: true, size: 48, placeholder: 'Why the state is set by hand', value: 'Set from the console' });
  const data = h('textarea', { id: 'alm-reason-data', placeholder: '{"optional": "JSON reason data"}', rows: 2 });
  const result = h('div', { class: 'alm-form-result' });
  const form = h('form', {
    class: 'panel alm-set-state', onsubmit: async (e) => {
      e.preventDefault();
      result.replaceChildren(spinner('Saving…'));
      const input = { AlarmName: view.alarm.AlarmName, StateValue: state.value, StateReason: reason.value };
      if (data.value.trim()) input.StateReasonData = data.value;
      try {
        await call('cloudwatch', 'SetAlarmState', input);
      } catch (err) {
        result.replaceChildren(errorBox(err));
        return;
      }
      await loadDetail(view);
    },
  },
  h('h2', {}, 'Set alarm state'),
  h('p', { class: 'muted small' }, 'The state holds until the next evaluation finds otherwise; actions for the new state run if enabled.'),
  h('div', { class: 'alm-form-grid' },
    h('label', {}, 'State', state), h('label', {}, 'Reason', reason), h('label', { class: 'wide' }, 'Reason data (JSON, optional)', data)),
  result,
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'btn primary', id: 'alm-set-state-submit' }, 'Set state'),
    button('Cancel', () => view.actionSlot.replaceChildren())));
  view.actionSlot.replaceChildren(form);
  reason.focus();
}

function statePanel(alarm) {
  return h('section', { class: 'panel alm-state st-' + alarm.StateValue },
    h('div', { class: 'alm-state-line' }, badge(alarm.StateValue),
      h('span', { class: 'muted small' }, `since ${formatDate(alarm.StateTransitionedTimestamp)}`),
      h('span', { class: 'muted small' }, ` · last update ${formatDate(alarm.StateUpdatedTimestamp)}`)),
    h('p', { class: 'alm-reason' }, alarm.StateReason || ''),
    alarm.AlarmDescription ? h('p', { class: 'alm-description' }, alarm.AlarmDescription) : null);
}

// ------------------------------------------------------------------------------------ the graph

function graphPanel(view) {
  const chartEl = h('div', { class: 'alm-chart' });
  const draw = (range) => drawGraph(view, range, chartEl);
  const section = panel('Graph', h('div', { class: 'toolbar' }, h('span', { class: 'muted small grow' }, conditionText(view.alarm)), rangePicker(draw)), chartEl);
  draw(rangeFromQuery(currentQuery()));
  return section;
}

async function drawGraph(view, range, chartEl) {
  const alarm = view.alarm;
  const seq = ++view.graphSeq;
  const t0 = performance.now();
  if (!view.chart) chartEl.replaceChildren(spinner('Loading metric data…'));
  let series;
  let bands;
  try {
    [series, bands] = await Promise.all([alarmSeries(alarm, range), alarmBands(alarm, range)]);
  } catch (e) {
    view.chart?.destroy();
    view.chart = null;
    chartEl.replaceChildren(errorBox(e));
    return;
  }
  // A newer range was picked, or the view was left, while this one loaded.
  if (view.gone || seq !== view.graphSeq) return;
  const loadMs = performance.now() - t0;
  const threshold = alarm.ThresholdMetricId || alarm.Threshold === undefined ? null : alarm.Threshold;
  const options = {
    start: range.start, end: range.end, height: 280, unit: alarm.Unit, bands,
    threshold: threshold === null ? undefined : { value: threshold, label: `${OPERATORS[alarm.ComparisonOperator] || ''} ${threshold}`.trim() },
  };
  if (view.chart) view.chart.update(series, options);
  else {
    chartEl.replaceChildren();
    view.chart = lineChart(chartEl, series, options);
  }
  const points = series.reduce((n, s) => n + s.values.length, 0);
  perf('alarmGraph', { state: alarm.StateValue, threshold, bands: bands.length, points, loadMs: Math.round(loadMs), drawMs: view.chart.lastDrawMs });
}

// ------------------------------------------------------------------------------------ the tabs

function tabsPanel(view) {
  const current = TABS.some(([t]) => t === currentQuery().tab) ? currentQuery().tab : 'details';
  const body = h('div', { class: 'alm-tab-body' });
  const nav = h('nav', { class: 'tabs', role: 'tablist' });
  const show = (tab) => {
    for (const a of nav.children) a.classList.toggle('active', a.dataset.tab === tab);
    ({ details: detailsTab, history: historyTab, actions: actionsTab })[tab](view, body);
  };
  for (const [tab, label] of TABS) {
    nav.append(h('a', {
      href: link(alarmPath(view.alarm.AlarmName), { ...currentQuery(), tab }), role: 'tab', 'data-tab': tab,
      // Switching tabs keeps the graph: the URL changes, the view is not rebuilt.
      onclick: (e) => {
        e.preventDefault();
        e.stopPropagation();
        setQuery({ tab });
        show(tab);
      },
    }, label));
  }
  show(current);
  return panel(null, nav, body);
}

function detailsTab(view, body) {
  const alarm = view.alarm;
  body.replaceChildren(h('div', { class: 'cols' },
    alarm.composite ? compositeSection(alarm) : metricSection(alarm),
    actionsSection(alarm)),
  h('div', { class: 'cols' }, relatedSection(alarm), tagsSection(alarm)));
}

function metricSection(alarm) {
  const q = evaluatedQuery(alarm);
  const m = alarm.DatapointsToAlarm || alarm.EvaluationPeriods;
  return h('div', {}, h('h3', {}, 'Metric and conditions'), kv([
    ['Type', 'Metric alarm'],
    q ? ['Expression', h('span', { class: 'mono' }, q.Expression || q.Label || q.Id)] : ['Namespace', alarm.Namespace],
    q ? null : ['Metric name', alarm.MetricName],
    q ? null : ['Dimensions', dimensionsText(alarm.Dimensions)],
    q ? null : ['Statistic', statistic(alarm)],
    ['Period', (q ? q.Period || q.MetricStat?.Period : alarm.Period) ? duration(q ? q.Period || q.MetricStat?.Period : alarm.Period) : '–'],
    alarm.Unit ? ['Unit', alarm.Unit] : null,
    ['Threshold', alarm.ThresholdMetricId
      ? `${OPERATORS[alarm.ComparisonOperator] || alarm.ComparisonOperator} (band ${alarm.ThresholdMetricId})`
      : `${OPERATORS[alarm.ComparisonOperator] || alarm.ComparisonOperator} ${alarm.Threshold}`],
    ['Comparison', alarm.ComparisonOperator],
    ['Datapoints to alarm', `${m} out of ${alarm.EvaluationPeriods}`],
    ['Missing data treatment', MISSING_DATA[alarm.TreatMissingData || 'missing'] || alarm.TreatMissingData],
    alarm.EvaluateLowSampleCountPercentile ? ['Low sample percentiles', alarm.EvaluateLowSampleCountPercentile] : null,
    ['ARN', h('span', { class: 'mono' }, alarm.AlarmArn)],
    ['Configuration updated', formatDate(alarm.AlarmConfigurationUpdatedTimestamp)],
  ]), q ? mathTable(alarm.Metrics) : null);
}

function mathTable(metrics) {
  return h('div', { class: 'alm-math' }, h('h4', {}, 'Metrics and expressions'), table([
    { title: 'Id', render: (q) => h('span', { class: 'mono' }, q.Id) },
    { title: 'Query', render: (q) => (q.Expression
      ? h('span', { class: 'mono' }, q.Expression)
      : `${q.MetricStat?.Metric?.Namespace} ${q.MetricStat?.Metric?.MetricName} (${dimensionsText(q.MetricStat?.Metric?.Dimensions)}) ${q.MetricStat?.Stat}`) },
    { title: 'Label', render: (q) => q.Label || '' },
    { title: 'Returned', render: (q) => (q.ReturnData !== false ? 'Yes' : 'No') },
  ], metrics));
}

function compositeSection(alarm) {
  const children = h('div');
  fill(children, () => childrenTable(alarm));
  return h('div', {}, h('h3', {}, 'Rule'),
    h('pre', { class: 'alm-rule-text' }, alarm.AlarmRule || ''),
    h('h4', {}, 'Child alarms'), children,
    h('h4', {}, 'Configuration'), kv([
      ['Type', 'Composite alarm'],
      ['Actions suppressor', alarm.ActionsSuppressor ? h('a', { href: link(alarmPath(alarm.ActionsSuppressor)) }, alarm.ActionsSuppressor) : 'None'],
      alarm.ActionsSuppressor ? ['Suppressor wait period', duration(alarm.ActionsSuppressorWaitPeriod || 0)] : null,
      alarm.ActionsSuppressor ? ['Suppressor extension period', duration(alarm.ActionsSuppressorExtensionPeriod || 0)] : null,
      alarm.ActionsSuppressedBy ? ['Actions suppressed by', `${alarm.ActionsSuppressedBy}: ${alarm.ActionsSuppressedReason || ''}`] : null,
      ['ARN', h('span', { class: 'mono' }, alarm.AlarmArn)],
      ['Configuration updated', formatDate(alarm.AlarmConfigurationUpdatedTimestamp)],
    ]));
}

/** The rule's alarms with their current states; names the rule cites that do not exist show as such. */
async function childrenTable(alarm) {
  const found = await describeAll({ ChildrenOfAlarmName: alarm.AlarmName });
  const byName = new Map(found.map((a) => [a.AlarmName, a]));
  const rows = [];
  for (const c of ruleChildren(alarm.AlarmRule)) if (!rows.some((r) => r.name === c.name)) rows.push(c);
  for (const a of found) if (!rows.some((r) => r.name === a.AlarmName)) rows.push({ state: '', name: a.AlarmName });
  return table([
    { title: 'Alarm', render: (c) => h('a', { href: link(alarmPath(c.name)), class: 'alm-child' }, c.name) },
    { title: 'Current state', render: (c) => (byName.has(c.name) ? badge(byName.get(c.name).StateValue) : h('span', { class: 'muted' }, 'Not found')) },
    { title: 'Rule checks for', render: (c) => c.state || '–' },
    { title: 'Last state update', render: (c) => formatDate(byName.get(c.name)?.StateUpdatedTimestamp) },
  ], rows, { empty: 'The rule names no alarms.' });
}

function actionsSection(alarm) {
  const list = (arns) => (arns?.length ? h('ul', { class: 'alm-arns' }, arns.map((a) => h('li', { class: 'mono' }, a))) : h('span', { class: 'muted' }, 'None'));
  return h('div', {}, h('h3', {}, 'Actions'), kv([
    ['Actions', actionsSummary(alarm)],
    ['In alarm', list(alarm.AlarmActions)],
    ['OK', list(alarm.OKActions)],
    ['Insufficient data', list(alarm.InsufficientDataActions)],
  ]));
}

/** Composite alarms this alarm is part of (a child can be a composite too). */
function relatedSection(alarm) {
  const body = h('div');
  fill(body, async () => {
    const parents = await describeAll({ ParentsOfAlarmName: alarm.AlarmName });
    if (!parents.length) return h('span', { class: 'muted' }, 'This alarm is in no composite alarm\'s rule.');
    return h('ul', { class: 'alm-parents' }, parents.map((p) => h('li', {}, h('a', { href: link(alarmPath(p.AlarmName)) }, p.AlarmName), ' ', badge(p.StateValue))));
  });
  return h('div', {}, h('h3', {}, 'Parent composite alarms'), body);
}

function tagsSection(alarm) {
  const body = h('div');
  fill(body, async () => {
    const { Tags = [] } = await call('cloudwatch', 'ListTagsForResource', { ResourceARN: alarm.AlarmArn });
    return table([{ title: 'Key', render: (t) => t.Key }, { title: 'Value', render: (t) => t.Value }], Tags, { empty: 'No tags.' });
  });
  return h('div', { class: 'alm-tags' }, h('h3', {}, 'Tags'), body);
}

const HISTORY_TYPES = [['', 'All types'], ['StateUpdate', 'State updates'], ['ConfigurationUpdate', 'Configuration updates'], ['Action', 'Actions']];

/** DescribeAlarmHistory newest first, a page at a time ("Load more"), filtered by type. */
function historyTab(view, body) {
  const type = HISTORY_TYPES.some(([t]) => t && t === currentQuery().htype) ? currentQuery().htype : '';
  const rows = h('div');
  const more = h('div', { class: 'alm-more' });
  const select = h('select', {
    id: 'alm-history-type', 'aria-label': 'History type',
    onchange: (e) => { setQuery({ htype: e.target.value || null }); historyTab(view, body); },
  }, HISTORY_TYPES.map(([t, label]) => h('option', { value: t, selected: t === type }, label)));
  const items = [];
  const page = async (token) => {
    more.replaceChildren(spinner());
    try {
      const out = await call('cloudwatch', 'DescribeAlarmHistory', {
        AlarmName: view.alarm.AlarmName, AlarmTypes: TYPES, HistoryItemType: type || undefined,
        ScanBy: 'TimestampDescending', MaxRecords: 50, NextToken: token,
      });
      items.push(...(out.AlarmHistoryItems || []));
      rows.replaceChildren(historyTable(items));
      more.replaceChildren(out.NextToken ? button('Load more', () => page(out.NextToken), { id: 'alm-history-more' }) : '');
    } catch (e) {
      more.replaceChildren(errorBox(e));
    }
  };
  body.replaceChildren(h('div', { class: 'toolbar' }, select), rows, more);
  page();
}

function historyTable(items) {
  return table([
    { title: 'Date', class: 'alm-nowrap', render: (i) => formatDate(i.Timestamp) },
    { title: 'Type', class: 'alm-nowrap', render: (i) => h('span', { class: 'alm-htype', 'data-type': i.HistoryItemType }, i.HistoryItemType) },
    { title: 'Summary', render: historySummary },
  ], items, { empty: 'No history.' });
}

function historySummary(item) {
  const data = tryJson(item.HistoryData);
  const reason = item.HistoryItemType === 'StateUpdate' ? data?.newState?.stateReason : null;
  return h('div', { class: 'alm-hitem' },
    h('div', {}, item.HistorySummary),
    reason ? h('div', { class: 'alm-hreason small' }, reason) : null,
    item.HistoryData ? h('details', { class: 'alm-hdata' }, h('summary', {}, 'History data'),
      data === undefined ? h('pre', {}, item.HistoryData) : jsonView(data)) : null);
}

/** The messages this alarm's actions sent (recorded by the emulator), newest first. */
function actionsTab(view, body) {
  fill(body, async () => {
    const { deliveries = [] } = await internal('deliveries', { query: { origin: 'cloudwatch', source: view.alarm.AlarmArn } });
    const newestFirst = deliveries.slice().reverse();
    const newest = newestFirst[0];
    const note = view.alarm.ActionsEnabled ? null
      : h('div', { class: 'notice' }, 'Actions are disabled: state changes of this alarm send nothing until they are enabled.');
    return [note, table([
      { title: 'Time', class: 'alm-nowrap', render: (d) => formatDate(d.createdMs) },
      { title: 'Target', render: (d) => [h('div', { class: 'mono alm-target' }, d.target), h('div', { class: 'muted small' }, d.targetKind)] },
      { title: 'Status', class: 'alm-nowrap', render: (d) => [statusBadge(d.status), d.attempts > 1 ? h('div', { class: 'muted small' }, `${d.attempts} attempts`) : null,
        d.error ? h('div', { class: 'alm-derror small' }, d.error) : null] },
      { title: 'Message', render: (d) => deliveryMessage(d, d === newest) },
    ], newestFirst, { empty: 'No action has been executed for this alarm yet.' })];
  });
}

function deliveryMessage(delivery, open) {
  const data = tryJson(delivery.body);
  return h('div', {},
    delivery.subject ? h('div', { class: 'alm-subject' }, delivery.subject) : null,
    h('details', { class: 'alm-body', open }, h('summary', {}, 'Message body'),
      data === undefined ? h('pre', {}, delivery.body) : jsonView(data)));
}

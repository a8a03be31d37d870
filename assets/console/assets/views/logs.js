// Logs views: the log groups, one group (streams, metric filters, subscription filters, tags),
// the events viewer, live tail and Logs Insights.
//
// Log group names hold slashes, so a name is always one encoded path segment
// (encodeURIComponent) that the router decodes. Log event times are epoch milliseconds (the
// Logs API's longs); only StartQuery's startTime/endTime are seconds.
import {
  ApiError, call, callAll, tail, route, link, navigate, setQuery, currentQuery, h, table, panel,
  pageHeader, button, errorBox, fill, spinner, formatDate, formatBytes, rangePicker,
  rangeFromQuery, jsonView, tryJson, title,
} from '../core.js';
import { lineChart } from '../chart.js';

// Test and benchmark hooks: what the events viewer and live tail show, and how fast.
const perf = (window.__wtPerf = window.__wtPerf || {});

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const groupPath = (name, sub) => `/logs/${encodeURIComponent(name)}${sub ? '/' + sub : ''}`;

// Chosen streams share one `stream` parameter joined by '*': AWS forbids that character in
// stream names, so the list splits back unambiguously.
const STREAM_SEPARATOR = '*';
const parseStreams = (value) => (value ? value.split(STREAM_SEPARATOR).filter(Boolean) : []);
const joinStreams = (names) => names.join(STREAM_SEPARATOR) || null;

// Event times keep their milliseconds: log lines are often closer together than a second.
function eventTime(ms) {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace('Z', '') : '–';
}

const retentionText = (days) => (days ? `${days} day${days === 1 ? '' : 's'}` : 'Never expire');
const count = (n) => Number(n || 0).toLocaleString('en-US');

// replaceChildren() with what h() accepts: arrays are flattened, null and false skipped.
function setChildren(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

function chip(label, onRemove) {
  return h('span', { class: 'lg-chip' }, label,
    h('button', { type: 'button', class: 'lg-chip-x', 'aria-label': `Remove ${label}`, onclick: onRemove }, '×'));
}

// The choosers (streams, log groups) are dropdowns: a click elsewhere or Escape closes them.
function closeChoosers(keep) {
  for (const d of document.querySelectorAll('details.lg-chooser[open]')) if (!d.contains(keep)) d.open = false;
}
document.addEventListener('click', (e) => closeChoosers(e.target));
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeChoosers(null); });

function linkButton(label, href, primary = false) {
  return h('a', { class: primary ? 'btn primary' : 'btn', href }, label);
}

/**
 * A token-paged list: `load(token)` resolves to {rows, next} and `show(rows)` builds the
 * content. The current page's token is kept in the URL under `param` (a reload stays on the
 * page); earlier pages' tokens are remembered for "Previous" while the view is open.
 */
function pagedList(container, param, load, show) {
  const earlier = [];
  let token = currentQuery()[param];
  let seq = 0; // only the newest request may fill the list
  const go = async () => {
    const mine = ++seq;
    container.replaceChildren(spinner());
    try {
      const { rows, next } = await load(token);
      if (mine !== seq) return;
      const previous = button('Previous', () => { token = earlier.pop(); setQuery({ [param]: token }); go(); }, { disabled: !token });
      const following = button('Next', () => { earlier.push(token); token = next; setQuery({ [param]: token }); go(); }, { disabled: !next });
      container.replaceChildren(show(rows), h('div', { class: 'lg-pager' }, previous, following));
    } catch (e) {
      if (mine === seq) container.replaceChildren(errorBox(e));
    }
  };
  go();
  return {
    restart() {
      earlier.length = 0;
      token = undefined;
      setQuery({ [param]: null });
      go();
    },
  };
}

/** A search box that calls `onChange(value)` once typing pauses. Returns [input, cancel]. */
function debouncedSearch(attrs, onChange) {
  let timer = 0;
  const input = h('input', {
    type: 'search', ...attrs,
    oninput: () => { clearTimeout(timer); timer = setTimeout(() => onChange(input.value.trim()), 250); },
  });
  return [input, () => clearTimeout(timer)];
}

// ---------------------------------------------------------------------------------------------
// /logs: the log groups
// ---------------------------------------------------------------------------------------------

route('/logs', ({ query, root }) => {
  title('Log groups');
  const selected = new Set();
  const insights = button('Query selected in Insights',
    () => navigate('/insights', { groups: [...selected].join(',') }), { disabled: true });
  const body = h('div');
  const [prefix, cancel] = debouncedSearch(
    { class: 'grow', value: query.prefix || '', placeholder: 'Find log groups by name prefix', 'aria-label': 'Log group name prefix' },
    (value) => { setQuery({ prefix: value }); list.restart(); });
  root.append(
    pageHeader('Log groups', { actions: [insights, linkButton('Logs Insights', link('/insights'))] }),
    panel(null, h('div', { class: 'toolbar' }, prefix), body));
  const list = pagedList(body, 'token', async (token) => {
    const page = await call('logs', 'DescribeLogGroups', {
      logGroupNamePrefix: prefix.value.trim() || undefined, limit: 50, nextToken: token,
    });
    return { rows: page.logGroups || [], next: page.nextToken };
  }, (groups) => groupsTable(groups, selected, () => { insights.disabled = !selected.size; }));
  return cancel;
});

function groupsTable(groups, selected, changed) {
  const pick = (g) => h('input', {
    type: 'checkbox', 'aria-label': `Select ${g.logGroupName}`, checked: selected.has(g.logGroupName),
    onchange: (e) => { if (e.target.checked) selected.add(g.logGroupName); else selected.delete(g.logGroupName); changed(); },
  });
  return table([
    { title: '', class: 'lg-pick', render: pick },
    { title: 'Log group', render: (g) => h('a', { class: 'lg-name', href: link(groupPath(g.logGroupName)) }, g.logGroupName) },
    { title: 'Retention', render: (g) => retentionText(g.retentionInDays) },
    { title: 'Stored bytes', class: 'num', render: (g) => formatBytes(g.storedBytes) },
    { title: 'Metric filters', class: 'num', render: (g) => count(g.metricFilterCount) },
    { title: 'Subscription filters', render: (g) => subscriptionCell(g.logGroupName) },
    { title: 'Creation time', render: (g) => formatDate(g.creationTime) },
  ], groups, { empty: 'No log groups. They appear when CreateLogGroup is called or logs are sent.' });
}

// DescribeLogGroups does not say which groups are subscribed: each row asks for its own.
function subscriptionCell(group) {
  const cell = h('span', { class: 'muted' }, '…');
  call('logs', 'DescribeSubscriptionFilters', { logGroupName: group }).then((r) => {
    const names = (r.subscriptionFilters || []).map((f) => f.filterName);
    cell.className = names.length ? '' : 'muted';
    cell.replaceChildren(names.length ? names.join(', ') : 'None');
  }, (e) => {
    cell.className = 'lg-inline-error';
    cell.replaceChildren(e.toString());
  });
  return cell;
}

// ---------------------------------------------------------------------------------------------
// /logs/:group: one log group
// ---------------------------------------------------------------------------------------------

// There is no DescribeLogGroup: the group is the exact match among those its name prefixes.
async function describeGroup(name) {
  const groups = await callAll('logs', 'DescribeLogGroups', { logGroupNamePrefix: name }, 'logGroups', { tokenKey: 'nextToken' });
  const group = groups.find((g) => g.logGroupName === name);
  if (!group) throw new ApiError('ResourceNotFoundException', `The specified log group does not exist: ${name}`, 400);
  return group;
}

function groupActions(name) {
  return [
    linkButton('Search all streams', link(groupPath(name, 'events'))),
    linkButton('Live tail', link(groupPath(name, 'tail'))),
    linkButton('Query with Insights', link('/insights', { groups: name }), true),
  ];
}

const GROUP_TABS = [
  ['streams', 'Log streams', streamsTab],
  ['metric-filters', 'Metric filters', metricFiltersTab],
  ['subscriptions', 'Subscription filters', subscriptionsTab],
  ['tags', 'Tags', tagsTab],
];

route('/logs/:group', ({ params, query, root }) => {
  const name = params.group;
  title(name);
  const [tab, , renderTab] = GROUP_TABS.find(([id]) => id === query.tab) || GROUP_TABS[0];
  const details = h('div');
  const content = h('div');
  const group = describeGroup(name);
  root.append(
    pageHeader(name, { crumbs: [{ text: 'Log groups', href: link('/logs') }], actions: groupActions(name) }),
    panel('Log group details', details),
    h('section', { class: 'panel' },
      h('nav', { class: 'tabs' }, GROUP_TABS.map(([id, label]) =>
        h('a', { href: link(groupPath(name), { tab: id }), class: id === tab ? 'active' : null }, label))),
      content));
  fill(details, async () => groupDetails(await group));
  return renderTab(content, name, group);
});

function groupDetails(g) {
  const rows = [
    ['ARN', g.logGroupArn],
    ['Creation time', formatDate(g.creationTime)],
    ['Retention', retentionText(g.retentionInDays)],
    ['Stored bytes', formatBytes(g.storedBytes)],
    ['KMS key ID', g.kmsKeyId || '–'],
    ['Log class', g.logGroupClass || 'STANDARD'],
    ['Metric filters', count(g.metricFilterCount)],
    ['Deletion protection', g.deletionProtectionEnabled ? 'On' : 'Off'],
  ];
  return h('dl', { class: 'kv lg-details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function streamsTab(content, group) {
  const selected = new Set();
  const viewSelected = button('View selected streams',
    () => navigate(groupPath(group, 'events'), { stream: joinStreams([...selected]) }), { disabled: true });
  const body = h('div');
  const [prefix, cancel] = debouncedSearch(
    { class: 'grow', value: currentQuery().streamPrefix || '', placeholder: 'Find streams by name prefix (then listed by name)', 'aria-label': 'Log stream name prefix' },
    (value) => { setQuery({ streamPrefix: value }); list.restart(); });
  content.append(h('div', { class: 'toolbar' }, prefix, viewSelected), body);
  const list = pagedList(body, 'token', async (token) => {
    const p = prefix.value.trim();
    // AWS orders by last event time only without a prefix: with one, the list is by name.
    const order = p ? { logStreamNamePrefix: p } : { orderBy: 'LastEventTime', descending: true };
    const page = await call('logs', 'DescribeLogStreams', { logGroupName: group, ...order, limit: 50, nextToken: token });
    return { rows: page.logStreams || [], next: page.nextToken };
  }, (streams) => table([
    {
      title: '', class: 'lg-pick', render: (s) => h('input', {
        type: 'checkbox', 'aria-label': `Select ${s.logStreamName}`, checked: selected.has(s.logStreamName),
        onchange: (e) => {
          if (e.target.checked) selected.add(s.logStreamName); else selected.delete(s.logStreamName);
          viewSelected.disabled = !selected.size;
        },
      }),
    },
    { title: 'Log stream', render: (s) => h('a', { class: 'lg-name', href: link(groupPath(group, 'events'), { stream: s.logStreamName }) }, s.logStreamName) },
    { title: 'Last event time', render: (s) => formatDate(s.lastEventTimestamp) },
    { title: 'First event time', render: (s) => formatDate(s.firstEventTimestamp) },
    { title: 'Creation time', render: (s) => formatDate(s.creationTime) },
  ], streams, { empty: 'No log streams.' }));
  return cancel;
}

function metricFiltersTab(content, group) {
  const each = (f, pick) => (f.metricTransformations || []).map((t) => h('div', {}, pick(t)));
  fill(content, async () => table([
    { title: 'Filter', render: (f) => f.filterName },
    { title: 'Filter pattern', render: (f) => h('code', {}, f.filterPattern || '(every event)') },
    { title: 'Metric', render: (f) => each(f, (t) => `${t.metricNamespace} / ${t.metricName}`) },
    { title: 'Metric value', render: (f) => each(f, (t) => h('code', {}, t.metricValue)) },
    { title: 'Default value', render: (f) => each(f, (t) => t.defaultValue ?? '–') },
    { title: 'Unit', render: (f) => each(f, (t) => t.unit || '–') },
    { title: 'Creation time', render: (f) => formatDate(f.creationTime) },
  ], await callAll('logs', 'DescribeMetricFilters', { logGroupName: group }, 'metricFilters', { tokenKey: 'nextToken' }),
  { empty: 'No metric filters.' }));
}

function subscriptionsTab(content, group) {
  fill(content, async () => table([
    { title: 'Filter', render: (f) => f.filterName },
    { title: 'Filter pattern', render: (f) => h('code', {}, f.filterPattern || '(every event)') },
    { title: 'Destination', render: (f) => h('span', { class: 'mono' }, f.destinationArn) },
    { title: 'Distribution', render: (f) => f.distribution || '–' },
    { title: 'Role', render: (f) => f.roleArn || '–' },
    { title: 'Creation time', render: (f) => formatDate(f.creationTime) },
  ], await callAll('logs', 'DescribeSubscriptionFilters', { logGroupName: group }, 'subscriptionFilters', { tokenKey: 'nextToken' }),
  { empty: 'No subscription filters.' }));
}

function tagsTab(content, name, group) {
  fill(content, async () => {
    const { tags } = await call('logs', 'ListTagsForResource', { resourceArn: (await group).logGroupArn });
    const rows = Object.entries(tags || {}).sort(([a], [b]) => a.localeCompare(b));
    return table([{ title: 'Key', render: ([k]) => k }, { title: 'Value', render: ([, v]) => v }], rows, { empty: 'No tags.' });
  });
}

// ---------------------------------------------------------------------------------------------
// The events viewer: a virtual list of events
// ---------------------------------------------------------------------------------------------

const ROW_HEIGHT = 24; // a collapsed row (console.css .lg-row)
const OVERSCAN = 30; // rows rendered above and below the visible ones
const LINE_CHARS = 2000; // a collapsed row shows at most this much of a (up to 256 KB) line

const toItem = (e) => ({ timestamp: e.timestamp, message: e.message ?? '', logStreamName: e.logStreamName, open: false, json: undefined });

/**
 * One event. Collapsed it is one line; opened, a JSON message is pretty-printed and foldable
 * and other text wraps. `onToggle(item, row)` runs when the user opens or closes it.
 */
function eventRow(item, { group, showStream, onToggle }) {
  if (item.json === undefined) item.json = tryJson(item.message) ?? null;
  const toggle = () => { item.open = !item.open; onToggle(item, row); };
  const line = item.message.length > LINE_CHARS ? item.message.slice(0, LINE_CHARS) + '…' : item.message;
  const message = !item.open ? h('span', { class: 'lg-msg-line', onclick: toggle }, line)
    : item.json !== null ? jsonView(item.json)
      : h('div', { class: 'lg-msg-text' }, item.message);
  const row = h('div', { class: `lg-row${item.open ? ' open' : ''}${item.json !== null ? ' json' : ''}` },
    h('button', { type: 'button', class: 'lg-toggle', 'aria-expanded': String(item.open), title: item.open ? 'Collapse' : 'Expand', onclick: toggle }, item.open ? '▾' : '▸'),
    h('span', { class: 'lg-ts' }, eventTime(item.timestamp)),
    showStream ? h('a', { class: 'lg-stream', title: item.logStreamName, href: link(groupPath(group, 'events'), { stream: item.logStreamName }) }, item.logStreamName) : null,
    h('div', { class: 'lg-msg' }, message));
  return row;
}

/**
 * A scrolling list that keeps only the rows in view (and a margin) in the DOM, so tens of
 * thousands of events scroll without freezing the page. Rows are ROW_HEIGHT until opened;
 * a row's real height is measured when it is shown and the layout follows it.
 */
function virtualList(pane, renderRow, onDraw) {
  const spacer = h('div', { class: 'lg-spacer' });
  const windowEl = h('div', { class: 'lg-window' });
  pane.replaceChildren(spacer, windowEl);
  let items = [];
  let heights = [];
  let offsets = new Float64Array(1); // offsets[i]: top of row i; offsets[n]: the list's height
  let shown = new Map(); // item → its element, for the rows in the DOM
  let frame = 0;

  const estimate = (item) => (item.open ? ROW_HEIGHT * 4 : ROW_HEIGHT);
  function layout() {
    offsets = new Float64Array(items.length + 1);
    for (let i = 0; i < items.length; i++) offsets[i + 1] = offsets[i] + heights[i];
    spacer.style.height = `${offsets[items.length]}px`;
  }
  // The last row starting at or above y.
  function rowAt(y) {
    let lo = 0;
    let hi = Math.max(0, items.length - 1);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid] <= y) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  function draw() {
    cancelAnimationFrame(frame);
    frame = 0;
    const first = Math.max(0, rowAt(pane.scrollTop) - OVERSCAN);
    const last = Math.min(items.length, rowAt(pane.scrollTop + pane.clientHeight) + 1 + OVERSCAN);
    const next = new Map();
    const rows = [];
    for (let i = first; i < last; i++) {
      const el = shown.get(items[i]) || renderRow(items[i]);
      next.set(items[i], el);
      rows.push(el);
    }
    shown = next;
    windowEl.replaceChildren(...rows);
    let changed = false;
    rows.forEach((el, k) => {
      const height = el.offsetHeight;
      if (height && height !== heights[first + k]) { heights[first + k] = height; changed = true; }
    });
    if (changed) layout();
    windowEl.style.transform = `translateY(${offsets[first]}px)`;
    onDraw(rows.length, items.length);
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };
  pane.addEventListener('scroll', schedule, { passive: true });
  // A fold opened inside a JSON message changes its row's height ('toggle' does not bubble,
  // but it can be captured).
  pane.addEventListener('toggle', schedule, true);
  return {
    set(list) { items = list; heights = list.map(estimate); shown = new Map(); layout(); pane.scrollTop = 0; draw(); },
    append(list) { items = items.concat(list); heights = heights.concat(list.map(estimate)); layout(); draw(); },
    // Older rows go on top; the scroll position moves down with them so the view stays put.
    prepend(list) {
      const added = list.map(estimate);
      items = list.concat(items);
      heights = added.concat(heights);
      layout();
      pane.scrollTop += added.reduce((a, b) => a + b, 0);
      draw();
    },
    // Rebuilds rows whose open state changed (all of them without an argument).
    refresh(item) {
      if (item) shown.delete(item); else shown = new Map();
      items.forEach((it, i) => { if (!item || it === item) heights[i] = estimate(it); });
      layout();
      draw();
    },
    get items() { return items; },
    destroy() { cancelAnimationFrame(frame); },
  };
}

// ---------------------------------------------------------------------------------------------
// The events viewer: where events come from
// ---------------------------------------------------------------------------------------------

// A page may stop short of `limit` at 1 MB: one of more than this many bytes may have been cut.
const PAGE_BYTES_FULL = 768 * 1024;
const mayHaveMore = (events, limit) =>
  events.length >= limit || events.reduce((n, e) => n + e.message.length + 26, 0) > PAGE_BYTES_FULL;

// A relative range ("last 1h") ends now, and keeps ending now: reads after the first one are
// not cut at the moment the view was opened.
function bounds(range) {
  return { startTime: range?.start, endTime: range?.label === 'custom' ? range.end : undefined };
}

/**
 * One stream without a pattern: GetLogEvents, newest page first, older and newer pages by
 * nextBackwardToken / nextForwardToken.
 */
function streamSource(group, stream, limit, range) {
  let backward;
  let forward;
  const get = async (nextToken) => {
    const page = await call('logs', 'GetLogEvents', { logGroupName: group, logStreamName: stream, limit, nextToken, ...bounds(range) });
    return { page, events: page.events || [] };
  };
  return {
    olderLeft: false,
    async first() {
      const { page, events } = await get(undefined);
      [backward, forward] = [page.nextBackwardToken, page.nextForwardToken];
      this.olderLeft = mayHaveMore(events, limit);
      return events;
    },
    async older() {
      const { page, events } = await get(backward);
      backward = page.nextBackwardToken;
      this.olderLeft = mayHaveMore(events, limit);
      return events;
    },
    async newer() {
      const { page, events } = await get(forward);
      forward = page.nextForwardToken;
      return events;
    },
  };
}

/**
 * The whole group, chosen streams, or a pattern: FilterLogEvents, from the range's start
 * forward by nextToken. Once the range is read, "newer" asks again from the newest event
 * shown. FilterLogEvents cannot read backwards: older events are reached by widening the range.
 */
function searchSource(group, streams, pattern, limit, range) {
  const input = { logGroupName: group, logStreamNames: streams.length ? streams : undefined, filterPattern: pattern || undefined, limit, ...bounds(range) };
  let next;
  let newest; // the newest event read: event ids sort by time, then arrival
  const read = async (changes) => {
    const page = await call('logs', 'FilterLogEvents', { ...input, ...changes });
    const events = page.events || [];
    next = page.nextToken;
    if (events.length) newest = events[events.length - 1];
    return events;
  };
  return {
    olderLeft: false,
    first: () => read({ endTime: range?.end }),
    async newer() {
      if (next) return read({ nextToken: next });
      if (!newest) return read({});
      const seen = newest;
      const events = await read({ startTime: seen.timestamp });
      return events.filter((e) => e.eventId > seen.eventId);
    },
    get newerInRange() { return !!next; },
  };
}

function eventSource(group, { streams, pattern, limit }, range) {
  return streams.length === 1 && !pattern
    ? streamSource(group, streams[0], limit, range)
    : searchSource(group, streams, pattern, limit, range);
}

// ---------------------------------------------------------------------------------------------
// /logs/:group/events: the events viewer
// ---------------------------------------------------------------------------------------------

const PAGE_SIZES = [100, 1000, 10000];
const DEFAULT_PAGE = 10000; // AWS's own default for both GetLogEvents and FilterLogEvents

// The viewer's range: one of the picker's, or all time (the default: events can be of any age).
function eventsRange(q) {
  if (q.range === 'all' || (!q.range && !(q.start && q.end))) return null;
  return rangeFromQuery(q);
}

// core's range picker plus an "All time" button, kept in the same `range` parameter.
function rangeWithAllTime(onChange) {
  const picker = rangePicker(onChange);
  const all = h('button', {
    type: 'button', class: 'btn seg', 'data-range': 'all', onclick: () => {
      setQuery({ range: 'all', start: null, end: null });
      onChange(null);
    },
  }, 'All time');
  picker.insertBefore(all, picker.querySelector('.custom-range'));
  if (!eventsRange(currentQuery())) {
    for (const b of picker.querySelectorAll('button[data-range]')) b.classList.toggle('active', b === all);
  }
  return picker;
}

route('/logs/:group/events', ({ params, query, root }) => {
  const group = params.group;
  title(`Log events · ${group}`);
  const state = {
    streams: parseStreams(query.stream),
    pattern: query.pattern || '',
    limit: PAGE_SIZES.includes(Number(query.limit)) ? Number(query.limit) : DEFAULT_PAGE,
  };
  let source = null;
  let range = null;
  let seq = 0; // a new search makes the pending answers of the previous one stale
  let allOpen = false;
  let loaded = false; // the first page came: the tokens to page on exist

  const patternInput = h('input', {
    type: 'search', class: 'grow lg-pattern', value: state.pattern, 'aria-label': 'Filter pattern',
    placeholder: 'Filter pattern: ERROR   "exact phrase"   ?WARN ?ERROR   -DEBUG   { $.level = "error" }   [ip, user, status=5*]',
    onkeydown: (e) => { if (e.key === 'Enter') search(); },
  });
  const feedback = h('div', { class: 'lg-feedback' });
  const rangeSlot = h('div', { class: 'lg-range' });
  const streamsBar = h('div', { class: 'lg-streams' });
  const summary = h('div', { class: 'lg-summary' });
  const head = h('div', { class: 'lg-head' });
  const pane = h('div', { class: 'lg-pane', tabindex: '0', 'aria-label': 'Log events' });
  const olderButton = button('Load older', () => older());
  const newerButton = button('Load newer', () => load('newer'));
  const expandButton = button('Expand all', () => {
    allOpen = !allOpen;
    for (const item of list.items) item.open = allOpen;
    expandButton.textContent = allOpen ? 'Collapse all' : 'Expand all';
    list.refresh();
  });
  const limitSelect = h('select', {
    'aria-label': 'Events per page',
    onchange: () => {
      state.limit = Number(limitSelect.value);
      setQuery({ limit: state.limit === DEFAULT_PAGE ? null : state.limit });
      restart();
    },
  }, PAGE_SIZES.map((n) => h('option', { value: n, selected: n === state.limit }, `${count(n)} per page`)));
  const list = virtualList(pane, (item) => eventRow(item, {
    group, showStream: state.streams.length !== 1, onToggle: (it) => list.refresh(it),
  }), (rendered, total) => { perf.logsViewer = { ...perf.logsViewer, rendered, total }; });

  const tailLink = () => link(groupPath(group, 'tail'), { pattern: state.pattern });
  const tailButton = linkButton('Live tail', tailLink());

  root.append(
    pageHeader(state.streams.length === 1 ? state.streams[0] : 'Log events', {
      crumbs: [{ text: 'Log groups', href: link('/logs') }, { text: group, href: link(groupPath(group)) }],
      actions: [tailButton, linkButton('Query with Insights', link('/insights', { groups: group }))],
    }),
    panel(null,
      h('div', { class: 'toolbar' }, patternInput, button('Search', () => search(), { primary: true })),
      feedback,
      h('div', { class: 'toolbar' }, rangeSlot, limitSelect, expandButton),
      streamsBar),
    h('section', { class: 'panel lg-viewer' },
      h('div', { class: 'lg-viewer-bar' }, summary, olderButton), head, pane,
      h('div', { class: 'lg-viewer-foot' }, newerButton)));

  function search() {
    state.pattern = patternInput.value.trim();
    setQuery({ pattern: state.pattern });
    tailButton.href = tailLink(); // the tail follows the same pattern
    restart();
  }

  function setStreams(names) {
    state.streams = names;
    setQuery({ stream: joinStreams(names) });
    restart();
  }

  function restart() {
    range = eventsRange(currentQuery());
    rangeSlot.replaceChildren(rangeWithAllTime(restart));
    setChildren(streamsBar, h('span', { class: 'muted' }, 'Streams'),
      state.streams.length ? state.streams.map((s) => chip(s, () => setStreams(state.streams.filter((x) => x !== s))))
        : h('span', { class: 'lg-all' }, 'All streams'),
      streamChooser(group, state.streams, setStreams));
    const showStream = state.streams.length !== 1;
    pane.classList.toggle('with-stream', showStream);
    head.className = `lg-head${showStream ? ' with-stream' : ''}`;
    setChildren(head, h('span'), h('span', {}, 'Timestamp (UTC)'), showStream ? h('span', {}, 'Log stream') : null, h('span', {}, 'Message'));
    source = eventSource(group, state, range);
    load('first');
  }

  // FilterLogEvents reads forward only: older events come from widening the range backwards
  // by its own length, then reading it again from its new start.
  function older() {
    if (source.older) { load('older'); return; }
    const span = range.end - range.start;
    setQuery({ range: null, start: new Date(range.start - span).toISOString(), end: new Date(range.end).toISOString() });
    restart();
  }

  async function load(kind) {
    const mine = kind === 'first' ? ++seq : seq;
    if (kind === 'first') loaded = false;
    setBusy(true, kind);
    feedback.replaceChildren();
    try {
      const events = await source[kind]();
      if (mine !== seq) return;
      const started = performance.now();
      const items = events.map(toItem);
      if (allOpen) for (const item of items) item.open = true;
      loaded = true;
      if (kind === 'first') list.set(items); else if (kind === 'older') list.prepend(items); else list.append(items);
      perf.logsViewer = { ...perf.logsViewer, renderMs: performance.now() - started };
      describe(kind, events.length);
    } catch (e) {
      if (mine !== seq) return;
      // The server's message (a malformed pattern's above all) goes next to the box.
      feedback.replaceChildren(errorBox(e));
      if (kind === 'first') { list.set([]); summary.replaceChildren('No events loaded.'); }
    } finally {
      if (mine === seq) setBusy(false);
    }
  }

  function setBusy(busy, kind) {
    const canOlder = source.older ? source.olderLeft : !!range;
    olderButton.disabled = busy || !loaded || !canOlder;
    olderButton.title = source.older ? '' : range ? 'Widens the time range backwards' : 'All time is shown';
    newerButton.disabled = busy || !loaded;
    if (busy && kind === 'first') summary.replaceChildren(spinner('Loading events…'));
  }

  function describe(kind, got) {
    const items = list.items;
    const span = items.length ? ` · ${eventTime(items[0].timestamp)} → ${eventTime(items[items.length - 1].timestamp)}` : '';
    const more = source.newerInRange ? ' · more in the range: Load newer' : '';
    const note = kind === 'first' ? '' : got ? ` · ${count(got)} ${kind} loaded` : ` · no ${kind} events`;
    summary.replaceChildren(h('strong', { class: 'lg-count' }, `${count(items.length)} event${items.length === 1 ? '' : 's'}`),
      h('span', { class: 'muted' }, `${range ? '' : ' · all time'}${span}${more}${note}`));
  }

  restart();
  return () => { seq++; list.destroy(); };
});

// A dropdown listing the group's streams (most recent first) to choose which ones to show.
function streamChooser(group, chosen, apply) {
  const list = h('div', { class: 'checklist lg-check-list' });
  const box = h('details', { class: 'lg-chooser' }, h('summary', { class: 'btn' }, 'Choose streams'),
    h('div', { class: 'lg-chooser-body' }, list));
  box.addEventListener('toggle', () => {
    if (!box.open || list.childElementCount) return;
    fill(list, async () => {
      const page = await call('logs', 'DescribeLogStreams', { logGroupName: group, orderBy: 'LastEventTime', descending: true, limit: 50 });
      const picked = new Set(chosen);
      const boxes = (page.logStreams || []).map((s) => h('label', { class: 'lg-check' },
        h('input', { type: 'checkbox', value: s.logStreamName, checked: picked.has(s.logStreamName) }), s.logStreamName));
      return [...boxes, h('div', { class: 'lg-chooser-actions' }, button('Show chosen streams', () =>
        apply([...list.querySelectorAll('input:checked')].map((i) => i.value)), { primary: true }))];
    });
  });
  return box;
}

// ---------------------------------------------------------------------------------------------
// /logs/:group/tail: live tail
// ---------------------------------------------------------------------------------------------

const TAIL_MAX_ROWS = 1000; // rows kept in the DOM (and events kept while paused)
const FOLLOW_SLACK = 30; // px from the bottom that still counts as "at the bottom"
const LAG_SHOWN_MS = 4000;

route('/logs/:group/tail', ({ params, query, root }) => {
  const group = params.group;
  title(`Live tail · ${group}`);
  const stats = (perf.liveTail = { received: 0, rows: 0, displayedAt: 0, lagged: 0 });
  let connection = null;
  let pending = []; // received, not yet on screen
  let paused = false;
  let follow = true;
  let frame = 0;
  let lagTimer = 0;
  let lastCount = 0;

  const patternInput = h('input', {
    type: 'search', class: 'grow lg-pattern', value: query.pattern || '', 'aria-label': 'Filter pattern',
    placeholder: 'Filter pattern (optional): ERROR   { $.level = "error" }',
    onkeydown: (e) => { if (e.key === 'Enter') apply(); },
  });
  const feedback = h('div', { class: 'lg-feedback' });
  const status = h('span', { class: 'badge neutral lg-tail-status' }, 'Connecting');
  const rate = h('span', { class: 'lg-rate' }, '0 events/s');
  const totals = h('span', { class: 'muted' });
  const pauseButton = button('Pause', () => setPaused(!paused));
  const jump = button('Jump to latest', () => { follow = true; pane.scrollTop = pane.scrollHeight; jump.hidden = true; });
  jump.hidden = true;
  const rows = h('div', { class: 'lg-tail-rows' });
  const pane = h('div', { class: 'lg-pane lg-tail with-stream', tabindex: '0', 'aria-label': 'Live tail events' }, rows);
  pane.addEventListener('scroll', () => {
    follow = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - FOLLOW_SLACK;
    jump.hidden = follow;
  }, { passive: true });

  root.append(
    pageHeader(`Live tail: ${group}`, {
      crumbs: [{ text: 'Log groups', href: link('/logs') }, { text: group, href: link(groupPath(group)) }],
      actions: [linkButton('Search all streams', link(groupPath(group, 'events'), { pattern: query.pattern }))],
    }),
    panel(null, h('div', { class: 'toolbar' }, patternInput, button('Apply', () => apply(), { primary: true })), feedback),
    h('section', { class: 'panel lg-viewer' },
      h('div', { class: 'lg-viewer-bar' }, h('div', { class: 'lg-summary' }, status, rate, totals),
        h('div', { class: 'actions' }, jump, pauseButton, button('Clear', clear))),
      h('div', { class: 'lg-head with-stream' }, h('span'), h('span', {}, 'Timestamp (UTC)'), h('span', {}, 'Log stream'), h('span', {}, 'Message')),
      pane));

  function setStatus(text, tone, hint = '') {
    status.className = `badge ${tone} lg-tail-status`;
    status.textContent = text;
    status.title = hint;
  }

  function start() {
    connection?.close();
    feedback.replaceChildren();
    setStatus('Connecting', 'neutral');
    connection = tail({ logGroupNames: [group], filterPattern: patternInput.value.trim() || undefined }, received, onStatus);
  }

  function apply() {
    setQuery({ pattern: patternInput.value.trim() });
    start();
  }

  function onStatus(s) {
    if (s === 'open') setStatus(paused ? 'Paused' : 'Live', paused ? 'unknown' : 'good');
    else if (s === 'lagged') {
      stats.lagged++;
      setStatus(`Lagged (${stats.lagged})`, 'bad', 'The server dropped batches for this page: it fell behind the log rate.');
      clearTimeout(lagTimer);
      lagTimer = setTimeout(() => setStatus(paused ? 'Paused' : 'Live', paused ? 'unknown' : 'good'), LAG_SHOWN_MS);
    } else if (s === 'closed') setStatus('Closed', 'unknown', 'The server ended the tail.');
    else {
      setStatus('Stopped', 'bad');
      feedback.replaceChildren(errorBox(s));
    }
  }

  function received(events) {
    stats.received += events.length;
    pending = pending.concat(events);
    // Only the newest rows stay on screen, so older backlog (a burst, or a pause) is dropped now.
    if (pending.length > TAIL_MAX_ROWS) pending = pending.slice(-TAIL_MAX_ROWS);
    if (!paused && !frame) frame = requestAnimationFrame(flush);
  }

  // One DOM update per frame, however many batches arrived in it.
  function flush() {
    frame = 0;
    if (paused || !pending.length) return;
    const batch = pending;
    pending = [];
    const fragment = document.createDocumentFragment();
    for (const e of batch) fragment.append(tailRow(toItem(e)));
    rows.append(fragment);
    trim();
    stats.rows = rows.childElementCount;
    stats.displayedAt = Date.now();
    if (follow) pane.scrollTop = pane.scrollHeight;
    totals.textContent = ` · ${count(stats.received)} received · ${count(stats.rows)} shown`;
  }

  // Drops the oldest rows past TAIL_MAX_ROWS; a reader scrolled up keeps their place.
  function trim() {
    const excess = rows.childElementCount - TAIL_MAX_ROWS;
    if (excess <= 0) return;
    const cut = document.createRange();
    cut.setStartBefore(rows.firstElementChild);
    cut.setEndAfter(rows.children[excess - 1]);
    const shift = follow ? 0 : rows.children[excess].offsetTop - rows.firstElementChild.offsetTop;
    cut.deleteContents();
    if (shift) pane.scrollTop -= shift;
  }

  function tailRow(item) {
    return eventRow(item, { group, showStream: true, onToggle: (it, row) => row.replaceWith(tailRow(it)) });
  }

  function setPaused(value) {
    paused = value;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    if (status.textContent === 'Live' || status.textContent === 'Paused') setStatus(paused ? 'Paused' : 'Live', paused ? 'unknown' : 'good');
    if (!paused && !frame) frame = requestAnimationFrame(flush);
  }

  function clear() {
    rows.replaceChildren();
    pending = [];
    stats.rows = 0;
    totals.textContent = ` · ${count(stats.received)} received · 0 shown`;
  }

  const ticker = setInterval(() => {
    stats.rate = stats.received - lastCount;
    lastCount = stats.received;
    rate.textContent = `${count(stats.rate)} events/s`;
  }, 1000);

  start();
  return () => {
    connection?.close();
    cancelAnimationFrame(frame);
    clearInterval(ticker);
    clearTimeout(lagTimer);
  };
});

// ---------------------------------------------------------------------------------------------
// /insights: Logs Insights
// ---------------------------------------------------------------------------------------------

const DEFAULT_QUERY = 'fields @timestamp, @message | sort @timestamp desc | limit 20';
const POLL_MS = 1000;
const FINAL = new Set(['Complete', 'Failed', 'Cancelled', 'Timeout', 'Unknown']);

route('/insights', ({ query, root }) => {
  title('Logs Insights');
  const selected = new Set((query.groups || '').split(',').filter(Boolean));
  let runId = 0; // leaving or running again makes the current run's answers stale
  let running = null; // the query id while it is not final
  let timer = 0;
  let chart = null;

  const editor = h('textarea', {
    class: 'lg-query', rows: 5, spellcheck: 'false', 'aria-label': 'Query', value: query.q || DEFAULT_QUERY,
    onkeydown: (e) => { if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') run(); },
  });
  const feedback = h('div', { class: 'lg-feedback' });
  const runButton = button('Run query', () => run(), { primary: true });
  const cancelButton = button('Cancel', () => call('logs', 'StopQuery', { queryId: running }).catch((e) => feedback.replaceChildren(errorBox(e))), { disabled: true });
  const statistics = h('div', { class: 'lg-stats' });
  const chartBox = h('div', { class: 'lg-chart' });
  const results = h('div', { class: 'lg-results' });
  results.append(h('div', { class: 'empty' }, 'Choose log groups and run a query.'));

  root.append(
    pageHeader('Logs Insights', { crumbs: [{ text: 'Log groups', href: link('/logs') }] }),
    panel(null,
      groupPicker(selected, () => setQuery({ groups: [...selected].join(',') })),
      // A new range runs the shown query again; before the first run it waits for Run.
      h('div', { class: 'toolbar' }, rangePicker(() => { if (currentQuery().q) run(); }, '1h')),
      editor,
      h('div', { class: 'toolbar lg-run' }, runButton, cancelButton, h('span', { class: 'muted small' }, 'Ctrl+Enter runs the query')),
      feedback),
    panel('Results', statistics, chartBox, results));

  const sleep = (ms) => new Promise((resolve) => { timer = setTimeout(resolve, ms); });

  async function run() {
    const mine = ++runId;
    feedback.replaceChildren();
    if (!selected.size) { feedback.append(errorBox('Select at least one log group.')); return; }
    const queryString = editor.value;
    setQuery({ groups: [...selected].join(','), q: queryString });
    const range = rangeFromQuery(currentQuery(), '1h'); // a relative range ends when the query runs
    runButton.disabled = true;
    results.replaceChildren(spinner('Running query…'));
    statistics.replaceChildren();
    try {
      const { queryId } = await call('logs', 'StartQuery', {
        logGroupNames: [...selected], queryString,
        startTime: Math.floor(range.start / 1000), endTime: Math.floor(range.end / 1000),
      });
      running = queryId;
      cancelButton.disabled = false;
      for (;;) {
        if (mine !== runId) return;
        const out = await call('logs', 'GetQueryResults', { queryId });
        if (mine !== runId) return;
        show(out, queryString);
        if (FINAL.has(out.status)) break;
        await sleep(POLL_MS);
      }
    } catch (e) {
      if (mine !== runId) return;
      // A malformed query's message goes under the editor.
      feedback.replaceChildren(errorBox(e));
      results.replaceChildren();
    } finally {
      if (mine === runId) { running = null; runButton.disabled = false; cancelButton.disabled = true; }
    }
  }

  function show(out, queryString) {
    const rows = (out.results || []).map((fields) =>
      Object.fromEntries(fields.filter((f) => f.field !== '@ptr').map((f) => [f.field, f.value])));
    const columns = [...new Set(rows.flatMap(Object.keys))];
    const s = out.statistics || {};
    statistics.replaceChildren(h('span', { class: `badge ${out.status === 'Complete' ? 'good' : FINAL.has(out.status) ? 'bad' : 'neutral'}` }, out.status),
      h('span', {}, `${count(rows.length)} rows · ${count(s.recordsMatched)} records matched · ${count(s.recordsScanned)} records scanned · ${formatBytes(s.bytesScanned || 0)} scanned`));
    chart?.destroy();
    chart = null;
    const series = binSeries(queryString, columns, rows);
    if (series?.length) chart = lineChart(chartBox, series, { height: 240 });
    const numeric = (c) => rows.every((r) => r[c] === undefined || (r[c] !== '' && Number.isFinite(Number(r[c]))));
    const cellClass = (c) => (c === '@message' ? 'lg-cell-msg' : numeric(c) ? 'num' : undefined);
    results.replaceChildren(table(columns.map((c) => ({ title: c, class: cellClass(c), render: (r) => r[c] ?? '' })),
      rows, { empty: FINAL.has(out.status) ? 'No results in this time range.' : 'Waiting for results…' }));
    perf.insights = { status: out.status, rows: rows.length, fields: columns, chartSeries: series?.length || 0, chartPoints: series?.reduce((n, x) => n + x.values.length, 0) || 0 };
  }

  // A deep link (or a reload) with a query runs it again.
  if (query.q && selected.size) run();
  return () => {
    runId++;
    clearTimeout(timer);
    // A query left running would only waste the server's time.
    if (running) call('logs', 'StopQuery', { queryId: running }).catch(() => {});
    chart?.destroy();
  };
});

// The log groups to query: chips of the chosen ones, and a filterable dropdown of all.
function groupPicker(selected, changed) {
  const chips = h('div', { class: 'lg-chips' });
  const filter = h('input', { type: 'search', placeholder: 'Filter log groups', 'aria-label': 'Filter log groups' });
  const list = h('div', { class: 'checklist lg-check-list' }, spinner());
  let names = [];
  const renderChips = () => chips.replaceChildren(...(selected.size
    ? [...selected].map((name) => chip(name, () => { selected.delete(name); sync(); }))
    : [h('span', { class: 'muted' }, 'No log groups selected')]));
  const renderList = () => {
    const wanted = filter.value.trim().toLowerCase();
    const shown = names.filter((n) => n.toLowerCase().includes(wanted));
    list.replaceChildren(...(shown.length ? shown.map((n) => h('label', { class: 'lg-check' },
      h('input', { type: 'checkbox', checked: selected.has(n), onchange: (e) => { if (e.target.checked) selected.add(n); else selected.delete(n); sync(false); } }), n))
      : [h('div', { class: 'empty' }, names.length ? 'No log group matches.' : 'No log groups.')]));
  };
  function sync(relist = true) {
    renderChips();
    if (relist) renderList();
    changed();
  }
  filter.addEventListener('input', renderList);
  callAll('logs', 'DescribeLogGroups', {}, 'logGroups', { tokenKey: 'nextToken' }).then((groups) => {
    names = groups.map((g) => g.logGroupName);
    renderList();
  }, (e) => list.replaceChildren(errorBox(e)));
  renderChips();
  return h('div', { class: 'lg-picker' },
    h('details', { class: 'lg-chooser' }, h('summary', { class: 'btn' }, 'Select log groups'),
      h('div', { class: 'lg-chooser-body' }, filter, list)),
    chips);
}

// `stats … by bin(…)` answers one row per time bin (and per other group key): the numeric
// columns are drawn over the bin column, one series per column and group key.
const BIN_QUERY = /\bstats\b[\s\S]*\bby\b[\s\S]*\bbin\s*\(/i;
const BIN_VALUE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

function binSeries(queryString, columns, rows) {
  if (!BIN_QUERY.test(queryString) || !rows.length) return null;
  const time = columns.find((c) => rows.every((r) => BIN_VALUE.test(r[c] ?? '')));
  if (!time) return null;
  const isNumber = (v) => v === undefined || v === '' || Number.isFinite(Number(v));
  const numeric = columns.filter((c) => c !== time && rows.every((r) => isNumber(r[c])));
  const keys = columns.filter((c) => c !== time && !numeric.includes(c));
  const series = new Map();
  for (const r of rows) {
    const t = Date.parse(r[time].replace(' ', 'T') + 'Z');
    const key = keys.map((k) => r[k] ?? '').join(' · ');
    for (const c of numeric) {
      if (r[c] === undefined || r[c] === '') continue;
      const label = key ? `${c} · ${key}` : c;
      if (!series.has(label)) series.set(label, []);
      series.get(label).push([t, Number(r[c])]);
    }
  }
  return [...series].map(([label, points]) => {
    points.sort((a, b) => a[0] - b[0]);
    return { label, timestamps: points.map((p) => p[0]), values: points.map((p) => p[1]) };
  });
}

// CloudTrail: event history (LookupEvents, as the AWS console shows it), one event's record,
// the trails with their status and selectors, and the journal's integrity check.
//
// Every console action is itself a CloudTrail event: the server marks those with
// `sessionCredentialFromConsole: "true"` in the record, shown here as the "Console" origin.
import {
  route, link, setQuery, currentQuery, call, internal, h, table, panel, pageHeader, button, errorBox,
  fill, spinner, empty, formatDate, rangePicker, rangeFromQuery, jsonView, tryJson, title,
} from '../core.js';

const DAY_MS = 86400e3;
const HISTORY_DAYS = 90;
const PAGE_SIZE = 50;

// LookupEvents' attribute keys, in the AWS console's order and wording.
const ATTRIBUTES = [
  ['EventName', 'Event name'], ['Username', 'User name'], ['ResourceType', 'Resource type'],
  ['ResourceName', 'Resource name'], ['EventSource', 'Event source'], ['EventId', 'Event ID'],
  ['ReadOnly', 'Read only'], ['AccessKeyId', 'Access key ID'],
];

const perf = () => (window.__wtPerf = window.__wtPerf || {});

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

function subnav(active) {
  const tabs = [['/cloudtrail', 'Event history'], ['/cloudtrail/trails', 'Trails'], ['/cloudtrail/integrity', 'Integrity']];
  return h('nav', { class: 'tabs', 'aria-label': 'CloudTrail' },
    tabs.map(([path, text]) => h('a', { href: link(path), class: path === active ? 'active' : undefined }, text)));
}

/** The record inside a LookupEvents entry (CloudTrailEvent is a JSON string). */
function recordOf(event) {
  return tryJson(event.CloudTrailEvent || '') || {};
}

const fromConsole = (record) => record.sessionCredentialFromConsole === 'true';

function originBadge(record) {
  const console = fromConsole(record);
  return h('span', { class: 'ct-origin ' + (console ? 'console' : 'api'), 'data-origin': console ? 'console' : 'api' },
    console ? 'Console' : 'API');
}

/** The history filtered on one attribute, as a link. */
function historyLink(key, value, text = value) {
  if (value === undefined || value === null || value === '') return '–';
  return h('a', { href: link('/cloudtrail', { attr: key, value, range: '90d' }) }, String(text));
}

/** The range in the URL; "90d" (all the history LookupEvents keeps) is this view's own. */
function historyRange(query) {
  if (query.range === '90d' && !(query.start && query.end)) {
    const end = Date.now();
    return { start: end - HISTORY_DAYS * DAY_MS, end, label: '90d' };
  }
  return rangeFromQuery(query, '1d');
}

/** core's range picker with a "90d" button added before its custom range. */
function historyRangePicker(onChange) {
  const picker = rangePicker(onChange, '1d');
  const mark = (label) => {
    for (const b of picker.querySelectorAll('button[data-range]')) b.classList.toggle('active', b.dataset.range === label);
  };
  const all = h('button', {
    type: 'button', class: 'btn seg', 'data-range': '90d', title: 'All the history CloudTrail keeps',
    onclick: () => {
      setQuery({ range: '90d', start: null, end: null });
      mark('90d');
      onChange(historyRange({ range: '90d' }));
    },
  }, `${HISTORY_DAYS}d`);
  picker.insertBefore(all, picker.querySelector('.custom-range'));
  if (historyRange(currentQuery()).label === '90d') mark('90d');
  return picker;
}

/**
 * Numbered pages over a NextToken API, as the AWS console pages event history: pages already
 * fetched are kept, and page N of a reloaded URL is reached by walking the pages before it.
 * `fetchPage(token)` resolves to {items, next}.
 */
function tokenPages(fetchPage) {
  const pages = [];
  return async (wanted) => {
    let n = Math.max(1, wanted);
    for (let i = 0; i < n; i++) {
      if (!pages[i]) pages[i] = await fetchPage(i ? pages[i - 1].next : undefined);
      if (!pages[i].next && i < n - 1) n = i + 1; // fewer pages than asked for
    }
    return { items: pages[n - 1].items, page: n, known: pages.length, more: !!pages[pages.length - 1].next };
  };
}

/** ‹ 1 2 3 … › buttons; `go(n)` shows page n. */
function pagerControls({ page, known, more }, go) {
  const numbers = [];
  for (let i = 1; i <= known; i++) {
    numbers.push(h('button', { type: 'button', class: 'btn seg' + (i === page ? ' active' : ''), 'aria-current': i === page ? 'page' : undefined, onclick: () => go(i) }, String(i)));
  }
  return h('div', { class: 'ct-pager', role: 'navigation', 'aria-label': 'Pages' },
    h('button', { type: 'button', class: 'btn seg', 'aria-label': 'Previous page', disabled: page <= 1, onclick: () => go(page - 1) }, '‹'),
    numbers,
    more && page === known ? h('span', { class: 'muted' }, ' … ') : null,
    h('button', { type: 'button', class: 'btn seg', 'aria-label': 'Next page', disabled: !(page < known || more), onclick: () => go(page + 1) }, '›'));
}

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '–')]));
}

// ---------------------------------------------------------------------------------------------
// Event history
// ---------------------------------------------------------------------------------------------

route('/cloudtrail', ({ query, root }) => {
  title('CloudTrail event history');
  const results = h('div', { class: 'ct-results' });
  const state = { attr: query.attr || 'EventName', value: query.value || '', range: historyRange(query) };
  let showPage;
  let latest = 0; // only the newest request's answer is shown, however they arrive

  const load = async (page) => {
    const mine = ++latest;
    setQuery({ page: page > 1 ? page : null });
    results.replaceChildren(spinner());
    try {
      const t0 = performance.now();
      const got = await showPage(page);
      if (mine !== latest) return;
      const fetched = performance.now();
      // The pages go above the table, as in the AWS console, and again below a long one.
      const paged = got.known > 1 || got.more;
      results.replaceChildren(paged ? pagerControls(got, load) : '', eventsTable(got.items), paged && got.items.length > 15 ? pagerControls(got, load) : '');
      perf().cloudtrail = { lookupMs: fetched - t0, renderMs: performance.now() - fetched, rows: got.items.length };
    } catch (e) {
      if (mine === latest) results.replaceChildren(errorBox(e));
    }
  };
  // A new filter or range starts again from the first page of a fresh listing.
  const search = (page = 1) => {
    showPage = tokenPages((token) => lookupPage(state, token));
    return load(page);
  };

  const form = lookupForm(state, () => {
    setQuery({ attr: state.value ? state.attr : null, value: state.value || null });
    search();
  });
  const picker = historyRangePicker((range) => { state.range = range; search(); });
  const refresh = button('Refresh', () => { state.range = historyRange(currentQuery()); search(); }, { id: 'ct-refresh' });

  root.append(
    pageHeader('Event history', { crumbs: [{ text: 'CloudTrail', href: link('/cloudtrail') }], actions: [refresh] }),
    subnav('/cloudtrail'),
    panel(null,
      h('div', { class: 'toolbar' }, form, h('span', { class: 'grow' }), picker),
      h('p', { class: 'muted small' }, `Management events of this account and region, newest first. CloudTrail keeps ${HISTORY_DAYS} days.`),
      results));
  search(Number(query.page) || 1);
});

async function lookupPage(state, token) {
  const input = {
    StartTime: Math.floor(state.range.start / 1000),
    EndTime: Math.ceil(state.range.end / 1000),
    MaxResults: PAGE_SIZE,
  };
  if (state.value) input.LookupAttributes = [{ AttributeKey: state.attr, AttributeValue: state.value }];
  if (token) input.NextToken = token;
  const out = await call('cloudtrail', 'LookupEvents', input);
  return { items: out.Events || [], next: out.NextToken };
}

/** The lookup attribute select and its value: a text input, or true/false for Read only. */
function lookupForm(state, submit) {
  const text = h('input', { id: 'ct-value', type: 'search', placeholder: 'Enter a lookup value', value: state.attr === 'ReadOnly' ? '' : state.value, 'aria-label': 'Lookup value', size: 32 });
  const yesNo = h('select', { id: 'ct-value-readonly', 'aria-label': 'Read only' },
    ['true', 'false'].map((v) => h('option', { value: v, selected: state.attr === 'ReadOnly' && state.value === v }, v)));
  const key = h('select', { id: 'ct-attr', 'aria-label': 'Lookup attribute', onchange: () => toggle() },
    ATTRIBUTES.map(([k, label]) => h('option', { value: k, selected: k === state.attr }, label)));
  const toggle = () => {
    text.hidden = key.value === 'ReadOnly';
    yesNo.hidden = !text.hidden;
  };
  toggle();
  return h('form', {
    class: 'ct-filter', role: 'search',
    onsubmit: (e) => {
      e.preventDefault();
      state.attr = key.value;
      state.value = (key.value === 'ReadOnly' ? yesNo.value : text.value).trim();
      submit();
    },
  }, key, text, yesNo,
  h('button', { type: 'submit', class: 'btn primary' }, 'Search'),
  button('Clear', () => { text.value = ''; key.value = 'EventName'; toggle(); state.attr = 'EventName'; state.value = ''; submit(); }));
}

function eventsTable(events) {
  return table([
    { title: 'Event name', render: (e) => [h('a', { href: link('/cloudtrail/events/' + encodeURIComponent(e.EventId)), class: 'ct-event-name' }, e.EventName), errorMark(recordOf(e))] },
    { title: 'Event time', render: (e) => h('span', { class: 'ct-nowrap' }, formatDate(e.EventTime)) },
    { title: 'User name', render: (e) => e.Username || '–' },
    { title: 'Event source', render: (e) => e.EventSource },
    { title: 'Resource type', render: (e) => resourceLines(e, 'ResourceType') },
    { title: 'Resource name', render: (e) => resourceLines(e, 'ResourceName') },
    { title: 'Origin', render: (e) => originBadge(recordOf(e)) },
  ], events, { empty: 'No events match this lookup in the time range.' });
}

function errorMark(record) {
  return record.errorCode ? h('span', { class: 'ct-error-code', title: record.errorMessage || '' }, record.errorCode) : null;
}

function resourceLines(event, field) {
  const resources = event.Resources || [];
  if (!resources.length) return '–';
  return resources.map((r) => h('div', {}, r[field] || '–'));
}

// ---------------------------------------------------------------------------------------------
// One event
// ---------------------------------------------------------------------------------------------

route('/cloudtrail/events/:id', ({ params, root }) => {
  title('CloudTrail event');
  const body = h('div', {}, spinner());
  root.append(body);
  fill(body, async () => {
    const out = await call('cloudtrail', 'LookupEvents', { LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: params.id }] });
    const event = (out.Events || [])[0];
    if (!event) return [pageHeader(params.id, { crumbs: crumbs() }), subnav('/cloudtrail'), panel(null, empty(`No event with ID ${params.id} in the last ${HISTORY_DAYS} days.`))];
    title(event.EventName);
    return eventDetail(event, recordOf(event));
  });
});

const crumbs = () => [{ text: 'CloudTrail', href: link('/cloudtrail') }, { text: 'Event history', href: link('/cloudtrail') }];

function eventDetail(event, record) {
  const who = record.userIdentity || {};
  return [
    pageHeader(event.EventName, { crumbs: crumbs(), actions: [originBadge(record)] }),
    subnav('/cloudtrail'),
    record.errorCode ? h('div', { class: 'error ct-failed' }, `${record.errorCode}: ${record.errorMessage || ''}`) : null,
    h('div', { class: 'cols ct-summary' },
      panel('Who', kv([
        ['Identity type', who.type],
        ['ARN', who.arn],
        ['User name', historyLink('Username', event.Username)],
        ['Access key ID', historyLink('AccessKeyId', who.accessKeyId)],
        ['Account', who.accountId],
        ['Origin', fromConsole(record) ? 'AWS console session' : 'API call (SDK or CLI)'],
      ])),
      panel('What', kv([
        ['Event name', historyLink('EventName', record.eventName)],
        ['Event source', historyLink('EventSource', record.eventSource)],
        ['Read only', String(record.readOnly ?? event.ReadOnly ?? '–')],
        ['Event type', record.eventType],
        ['Resources', (event.Resources || []).length ? event.Resources.map((r) => h('div', {}, `${r.ResourceType || ''} `, historyLink('ResourceName', r.ResourceName))) : '–'],
        record.errorCode ? ['Error code', h('span', { class: 'ct-error-code' }, record.errorCode)] : null,
        record.errorCode ? ['Error message', record.errorMessage] : null,
      ])),
      panel('When and where', kv([
        ['Event time', formatDate(record.eventTime || event.EventTime)],
        ['Region', record.awsRegion],
        ['Source IP address', h('span', { class: 'mono', id: 'ct-source-ip' }, record.sourceIPAddress || '–')],
        ['User agent', h('span', { class: 'mono', id: 'ct-user-agent' }, record.userAgent || '–')],
        ['Event ID', h('span', { class: 'mono' }, record.eventID || event.EventId)],
        ['Request ID', h('span', { class: 'mono' }, record.requestID || '–')],
      ]))),
    panel('Event record', h('div', { id: 'ct-record' }, jsonView(record, { open: 3 }))),
  ];
}

// ---------------------------------------------------------------------------------------------
// Trails
// ---------------------------------------------------------------------------------------------

route('/cloudtrail/trails', ({ query, root }) => {
  title('CloudTrail trails');
  const body = h('div', {});
  const reload = () => fill(body, () => trailsContent(query.trail, reload));
  root.append(
    pageHeader('Trails', { crumbs: [{ text: 'CloudTrail', href: link('/cloudtrail') }], actions: [button('Refresh', () => reload())] }),
    subnav('/cloudtrail/trails'),
    body);
  reload();
});

/** Each trail with its status and selectors: three calls a trail, made side by side. */
async function trailsContent(selected, reload) {
  const { trailList = [] } = await call('cloudtrail', 'DescribeTrails', {});
  const trails = await Promise.all(trailList.map(async (trail) => {
    const [status, selectors] = await Promise.all([
      call('cloudtrail', 'GetTrailStatus', { Name: trail.TrailARN || trail.Name }).catch((e) => ({ error: e })),
      call('cloudtrail', 'GetEventSelectors', { TrailName: trail.TrailARN || trail.Name }).catch((e) => ({ error: e })),
    ]);
    return { trail, status, selectors };
  }));
  const chosen = trails.find((t) => t.trail.Name === selected);
  return [
    panel(`Trails (${trails.length})`, trailsTable(trails, selected)),
    chosen ? trailDetail(chosen, reload) : null,
  ];
}

function trailsTable(trails, selected) {
  return table([
    { title: 'Name', render: ({ trail }) => h('a', { href: link('/cloudtrail/trails', { trail: trail.Name }), class: 'ct-trail-name' }, trail.Name) },
    { title: 'Home region', render: ({ trail }) => trail.HomeRegion || '–' },
    { title: 'Multi-region', render: ({ trail }) => (trail.IsMultiRegionTrail ? 'Yes' : 'No') },
    { title: 'Logging', render: ({ status }) => loggingBadge(status) },
    { title: 'S3 bucket', render: ({ trail }) => h('span', { class: 'mono' }, trail.S3BucketName + (trail.S3KeyPrefix ? '/' + trail.S3KeyPrefix : '')) },
    { title: 'CloudWatch Logs group', render: ({ trail }) => logGroupOf(trail) },
    { title: 'Last delivery', render: ({ status }) => deliveryCell(status) },
    { title: 'Selectors', render: ({ selectors }) => selectorSummary(selectors) },
  ], trails, {
    empty: 'No trails in this region. Event history records management events without one.',
    rowClass: ({ trail }) => (trail.Name === selected ? 'ct-selected' : undefined),
  });
}

function loggingBadge(status) {
  if (status.error) return errorBox(status.error);
  return h('span', { class: 'badge ' + (status.IsLogging ? 'good' : 'unknown'), 'data-logging': status.IsLogging ? 'on' : 'off' }, status.IsLogging ? 'Logging' : 'Off');
}

function logGroupOf(trail) {
  const arn = trail.CloudWatchLogsLogGroupArn;
  if (!arn) return '–';
  // arn:aws:logs:region:account:log-group:NAME:*
  const name = arn.split(':log-group:')[1]?.replace(/:\*$/, '') || arn;
  return h('a', { href: link('/logs/groups/' + encodeURIComponent(name)) }, name);
}

function deliveryCell(status) {
  if (status.error) return '–';
  return [
    formatDate(status.LatestDeliveryTime),
    status.LatestDeliveryError ? h('div', { class: 'ct-error-code' }, status.LatestDeliveryError) : null,
  ];
}

function selectorSummary(selectors) {
  if (selectors.error) return errorBox(selectors.error);
  const advanced = selectors.AdvancedEventSelectors || [];
  if (advanced.length) return advanced.map((s) => h('div', {}, 'Advanced: ' + (s.Name || `${(s.FieldSelectors || []).length} field conditions`)));
  const basic = selectors.EventSelectors || [];
  if (!basic.length) return 'None';
  return basic.map((s) => h('div', {},
    `${s.ReadWriteType || 'All'} ${s.IncludeManagementEvents === false ? 'data' : 'management'} events`,
    (s.DataResources || []).length ? ` + data: ${s.DataResources.map((d) => d.Type).join(', ')}` : ''));
}

function trailDetail({ trail, status, selectors }, reload) {
  const toggle = h('span', {});
  const setLogging = async (on) => {
    try {
      await call('cloudtrail', on ? 'StartLogging' : 'StopLogging', { Name: trail.TrailARN || trail.Name });
      reload();
    } catch (e) {
      toggle.replaceChildren(errorBox(e));
    }
  };
  const actions = status.IsLogging ? button('Stop logging', () => setLogging(false), { danger: true, id: 'ct-stop-logging' })
    : button('Start logging', () => setLogging(true), { primary: true, id: 'ct-start-logging' });
  return h('div', { class: 'cols ct-trail-detail' },
    panel(trail.Name,
      kv([
        ['ARN', h('span', { class: 'mono' }, trail.TrailARN)],
        ['Logging', loggingBadge(status)],
        ['Started', formatDate(status.StartLoggingTime)],
        ['Stopped', formatDate(status.StopLoggingTime)],
        ['Log file validation', trail.LogFileValidationEnabled ? 'Enabled' : 'Disabled'],
        ['Global service events', trail.IncludeGlobalServiceEvents ? 'Included' : 'Excluded'],
        ['SNS topic', trail.SnsTopicName || trail.SnsTopicARN],
        ['KMS key', trail.KmsKeyId],
        ['CloudWatch Logs role', trail.CloudWatchLogsRoleArn],
        ['Last CloudWatch Logs delivery', formatDate(status.LatestCloudWatchLogsDeliveryTime)],
        status.LatestCloudWatchLogsDeliveryError ? ['CloudWatch Logs error', status.LatestCloudWatchLogsDeliveryError] : null,
      ]),
      h('div', { class: 'actions ct-actions' }, actions, toggle)),
    panel('Event selectors', selectors.error ? errorBox(selectors.error) : jsonView(
      selectors.AdvancedEventSelectors?.length ? { AdvancedEventSelectors: selectors.AdvancedEventSelectors } : { EventSelectors: selectors.EventSelectors || [] },
      { open: 4 })));
}

// ---------------------------------------------------------------------------------------------
// Integrity
// ---------------------------------------------------------------------------------------------

route('/cloudtrail/integrity', ({ root }) => {
  title('CloudTrail journal integrity');
  const body = h('div', {});
  const verify = () => fill(body, async () => verdict(await internal('journal/verify')));
  root.append(
    pageHeader('Journal integrity', { crumbs: [{ text: 'CloudTrail', href: link('/cloudtrail') }], actions: [button('Verify again', () => verify(), { primary: true, id: 'ct-verify' })] }),
    subnav('/cloudtrail/integrity'),
    panel(null,
      h('p', { class: 'muted' }, 'Every record in the journal carries a hash of itself and of the record before it. Verifying recomputes the whole chain: a removed, reordered or altered record breaks it.'),
      body));
  verify();
});

function verdict(v) {
  const at = `Checked ${formatDate(Date.now())}`;
  if (v.intact) {
    return h('div', { class: 'ct-verdict good', 'data-intact': 'true' },
      h('div', { class: 'ct-verdict-title' }, `✔ Journal intact: ${v.records} records verified`), h('div', { class: 'small' }, at));
  }
  return h('div', { class: 'ct-verdict bad', 'data-intact': 'false', role: 'alert' },
    h('div', { class: 'ct-verdict-title' }, `✘ Journal broken at record ${v.position ?? '?'} of ${v.records}`),
    kv([
      ['Problem', v.problem || 'The hash chain does not verify.'],
      ['First record that fails', v.first_broken_event_id ? h('a', { href: link('/cloudtrail/events/' + encodeURIComponent(v.first_broken_event_id)) }, v.first_broken_event_id) : '–'],
    ]),
    h('div', { class: 'small' }, at));
}

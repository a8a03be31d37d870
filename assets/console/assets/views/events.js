// EventBridge: event buses and their rules, a rule's targets and what they received, the
// pattern tester, archives and replays, and a form to send a test event.
//
// Targets this emulator does not host (SQS queues, Lambda functions...) are not called: the
// server records the body each would have received, listed at /_watchtrail/deliveries. The rule
// page shows those, newest first, and polls for new ones while it is open.
import {
  route, link, setQuery, call, callAll, internal, h, table, panel, pageHeader, button, badge,
  errorBox, fill, spinner, empty, formatDate, formatBytes, jsonView, tryJson, title,
  currentAccount, currentRegion,
} from '../core.js';

const POLL_MS = 2000;
const RECENT_DELIVERIES = 50;
const DELIVERY_PAGE = 1000; // the deliveries endpoint's default page

const perf = () => (window.__wtPerf = window.__wtPerf || {});

const busPath = (bus) => '/events/buses/' + encodeURIComponent(bus);
const rulePath = (bus, rule) => busPath(bus) + '/rules/' + encodeURIComponent(rule);

function subnav(active) {
  const tabs = [['/events', 'Event buses'], ['/events/tester', 'Pattern tester'], ['/events/archives', 'Archives and replays'], ['/events/send', 'Send events']];
  return h('nav', { class: 'tabs', 'aria-label': 'EventBridge' },
    tabs.map(([path, text]) => h('a', { href: link(path), class: path === active ? 'active' : undefined }, text)));
}

const crumbs = (...more) => [{ text: 'EventBridge', href: link('/events') }, ...more];

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '–')]));
}

const mono = (text, attrs = {}) => h('span', { class: 'mono', ...attrs }, text ?? '–');

/** A JSON string shown folded and coloured, or as text when it is not JSON. */
function jsonOrText(text, options) {
  const value = tryJson(text ?? '');
  return value === undefined ? h('pre', { class: 'ev-pre' }, String(text ?? '')) : jsonView(value, options);
}

/** The bus name in an event-bus ARN (names may hold "/", as partner buses do). */
const busOfArn = (arn) => String(arn || '').split(':event-bus/')[1] || arn;

// ---------------------------------------------------------------------------------------------
// Buses
// ---------------------------------------------------------------------------------------------

route('/events', ({ root }) => {
  title('EventBridge event buses');
  const body = h('div', {});
  root.append(
    pageHeader('Event buses', { crumbs: crumbs(), actions: [button('Refresh', () => load())] }),
    subnav('/events'),
    body);
  const load = () => fill(body, async () => {
    const buses = await callAll('events', 'ListEventBuses', { Limit: 100 }, 'EventBuses');
    return panel(`Event buses (${buses.length})`, table([
      { title: 'Name', render: (b) => h('a', { href: link(busPath(b.Name)), class: 'ev-bus-name' }, b.Name) },
      { title: 'ARN', render: (b) => mono(b.Arn) },
      { title: 'Description', render: (b) => b.Description || '–' },
      { title: 'Resource policy', render: (b) => (b.Policy ? 'Yes' : 'No') },
      { title: 'Created', render: (b) => formatDate(b.CreationTime) },
    ], buses));
  });
  load();
});

route('/events/buses/:bus', ({ params, query, root }) => {
  const bus = params.bus;
  title(`Event bus ${bus}`);
  const details = h('div', {}, spinner());
  const rules = h('div', {});
  const prefix = h('input', { id: 'ev-rule-prefix', type: 'search', placeholder: 'Find rules by name prefix', value: query.prefix || '', 'aria-label': 'Rule name prefix', size: 30 });
  const loadRules = () => fill(rules, () => rulesTable(bus, prefix.value.trim()));
  root.append(
    pageHeader(bus, {
      crumbs: crumbs({ text: 'Event buses', href: link('/events') }),
      actions: [h('a', { class: 'btn', href: link('/events/send', { bus }) }, 'Send events'), button('Refresh', () => { loadDetails(); loadRules(); })],
    }),
    subnav('/events'),
    details,
    panel('Rules',
      h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); setQuery({ prefix: prefix.value.trim() || null }); loadRules(); } },
        prefix, h('button', { type: 'submit', class: 'btn' }, 'Find')),
      rules));
  const loadDetails = () => fill(details, async () => busDetails(await call('events', 'DescribeEventBus', { Name: bus })));
  loadDetails();
  loadRules();
});

function busDetails(b) {
  return h('div', { class: 'cols' },
    panel('Details', kv([
      ['ARN', mono(b.Arn)],
      ['Description', b.Description],
      ['Created', formatDate(b.CreationTime)],
      ['Last modified', formatDate(b.LastModifiedTime)],
      b.KmsKeyIdentifier ? ['KMS key', b.KmsKeyIdentifier] : null,
      b.DeadLetterConfig?.Arn ? ['Dead-letter queue', mono(b.DeadLetterConfig.Arn)] : null,
    ])),
    panel('Resource-based policy', b.Policy ? h('div', { id: 'ev-bus-policy' }, jsonOrText(b.Policy, { open: 4 })) : empty('No policy: only this account can put events on the bus.')));
}

async function rulesTable(bus, prefix) {
  const input = { EventBusName: bus, Limit: 100 };
  if (prefix) input.NamePrefix = prefix;
  const rules = await callAll('events', 'ListRules', input, 'Rules');
  return table([
    { title: 'Name', render: (r) => h('a', { href: link(rulePath(bus, r.Name)), class: 'ev-rule-name' }, r.Name) },
    { title: 'State', render: (r) => badge(r.State) },
    { title: 'Pattern or schedule', render: patternCell },
    { title: 'Description', render: (r) => r.Description || '–' },
    { title: 'Managed by', render: (r) => r.ManagedBy || '–' },
  ], rules, { empty: prefix ? `No rule of ${bus} starts with “${prefix}”.` : `No rules on ${bus}.` });
}

function patternCell(rule) {
  if (rule.ScheduleExpression) return [h('span', { class: 'muted' }, 'Schedule '), mono(rule.ScheduleExpression)];
  const parsed = tryJson(rule.EventPattern || '');
  const compact = parsed === undefined ? String(rule.EventPattern || '–') : JSON.stringify(parsed);
  return h('code', { class: 'ev-pattern-cell', title: compact }, compact.length > 140 ? compact.slice(0, 140) + '…' : compact);
}

// ---------------------------------------------------------------------------------------------
// One rule: pattern, state, targets, deliveries
// ---------------------------------------------------------------------------------------------

route('/events/buses/:bus/rules/:rule', ({ params, query, root }) => {
  const { bus, rule } = params;
  title(`Rule ${rule}`);
  const header = h('div', {}, pageHeader(rule, { crumbs: ruleCrumbs(bus) }));
  const details = h('div', {}, spinner());
  const targets = h('div', {});
  const deliveries = deliveriesPanel(query.target);
  root.append(header, subnav('/events'), details, panel('Targets', targets), deliveries.el);
  const stop = { stopped: false, watching: false, timer: null };

  const load = async () => {
    let described;
    try {
      described = await call('events', 'DescribeRule', { Name: rule, EventBusName: bus });
    } catch (e) {
      details.replaceChildren(errorBox(e));
      deliveries.fail(null);
      return;
    }
    header.replaceChildren(...ruleHeader(described, load));
    details.replaceChildren(ruleDetails(described));
    fill(targets, async () => {
      const list = await callAll('events', 'ListTargetsByRule', { Rule: rule, EventBusName: bus, Limit: 100 }, 'Targets');
      deliveries.setTargets(list);
      return targetsTable(list);
    });
    if (!stop.watching) watchDeliveries(described.Arn, deliveries, stop);
  };
  load();
  return () => { stop.stopped = true; clearTimeout(stop.timer); };
});

const ruleCrumbs = (bus) => crumbs({ text: 'Event buses', href: link('/events') }, { text: bus, href: link(busPath(bus)) });

function ruleHeader(rule, reload) {
  const problem = h('span', { class: 'ev-inline-error' });
  const enabled = rule.State === 'ENABLED';
  const toggle = button(enabled ? 'Disable' : 'Enable', async () => {
    toggle.disabled = true;
    try {
      await call('events', enabled ? 'DisableRule' : 'EnableRule', { Name: rule.Name, EventBusName: rule.EventBusName });
      await reload();
    } catch (e) {
      problem.replaceChildren(errorBox(e));
      toggle.disabled = false;
    }
  }, { id: 'ev-rule-toggle', danger: enabled, primary: !enabled });
  const actions = [badge(rule.State), toggle];
  if (rule.EventPattern) actions.push(h('a', { class: 'btn', href: link('/events/tester', { pattern: rule.EventPattern }) }, 'Test pattern'));
  return [pageHeader(rule.Name, { crumbs: ruleCrumbs(rule.EventBusName || 'default'), actions }), problem];
}

function ruleDetails(rule) {
  return h('div', { class: 'cols' },
    panel('Details', kv([
      ['ARN', mono(rule.Arn)],
      ['State', h('span', { id: 'ev-rule-state' }, badge(rule.State))],
      ['Event bus', h('a', { href: link(busPath(rule.EventBusName || 'default')) }, rule.EventBusName || 'default')],
      ['Description', h('span', { id: 'ev-rule-description' }, rule.Description || '–')],
      rule.RoleArn ? ['Role', mono(rule.RoleArn)] : null,
      rule.ManagedBy ? ['Managed by', rule.ManagedBy] : null,
      rule.CreatedBy ? ['Created by', rule.CreatedBy] : null,
    ])),
    rule.ScheduleExpression
      ? panel('Schedule', mono(rule.ScheduleExpression, { id: 'ev-rule-schedule' }))
      : panel('Event pattern', h('div', { id: 'ev-rule-pattern' }, jsonOrText(rule.EventPattern, { open: 6 }))));
}

function targetsTable(targets) {
  return table([
    { title: 'Id', render: (t) => t.Id },
    { title: 'ARN', render: (t) => mono(t.Arn) },
    { title: 'Input', render: inputCell },
    { title: 'Retry policy', render: (t) => (t.RetryPolicy ? retryText(t.RetryPolicy) : 'Default (185 retries, 24 h)') },
    { title: 'Dead-letter queue', render: (t) => (t.DeadLetterConfig?.Arn ? mono(t.DeadLetterConfig.Arn) : 'None') },
  ], targets, { empty: 'No targets: matched events go nowhere.' });
}

function inputCell(target) {
  if (target.Input !== undefined) return [h('div', { class: 'muted small' }, 'Constant'), jsonOrText(target.Input)];
  if (target.InputPath) return [h('span', { class: 'muted small' }, 'Part of the event: '), mono(target.InputPath)];
  if (target.InputTransformer) {
    const { InputPathsMap: paths, InputTemplate: template } = target.InputTransformer;
    return [
      h('div', { class: 'muted small' }, 'Input transformer'),
      paths ? jsonView(paths, { open: 1 }) : null,
      h('pre', { class: 'ev-pre ev-template' }, template ?? ''),
    ];
  }
  return h('span', { class: 'muted' }, 'The matched event');
}

function retryText(policy) {
  const parts = [];
  if (policy.MaximumRetryAttempts !== undefined) parts.push(`${policy.MaximumRetryAttempts} retries`);
  if (policy.MaximumEventAgeInSeconds !== undefined) parts.push(`max age ${policy.MaximumEventAgeInSeconds} s`);
  return parts.join(', ') || 'Default';
}

/** The deliveries panel: the latest deliveries, narrowed to one target (kept in the URL). */
function deliveriesPanel(selected) {
  const list = h('div', {}, spinner());
  let latest = null;
  const render = () => {
    if (!latest) return;
    const t0 = performance.now();
    const shown = latest.filter((d) => !filter.value || d.target === filter.value);
    list.replaceChildren(deliveryList(shown));
    perf().eventsDeliveries = { count: shown.length, renderMs: performance.now() - t0 };
  };
  const filter = h('select', {
    id: 'ev-delivery-target', 'aria-label': 'Target',
    onchange: () => { setQuery({ target: filter.value || null }); render(); },
  }, h('option', { value: '' }, 'All targets'));
  return {
    el: panel('Recent deliveries',
      h('div', { class: 'toolbar' }, h('span', { class: 'muted small grow' }, 'What each target received, newest first. Updated as events arrive.'), filter),
      list),
    // The rule's targets and their dead-letter queues: where its deliveries go.
    setTargets(targets) {
      const arns = [...new Set(targets.flatMap((t) => [t.Arn, t.DeadLetterConfig?.Arn]).filter(Boolean))];
      const chosen = filter.value || selected;
      filter.replaceChildren(h('option', { value: '' }, 'All targets'), ...arns.map((a) => h('option', { value: a, selected: a === chosen }, a)));
      render();
    },
    show(deliveries) { latest = deliveries; render(); },
    fail(error) { list.replaceChildren(error ? errorBox(error) : ''); },
  };
}

/**
 * Shows the rule's latest deliveries and polls for new ones. The endpoint lists oldest first, so
 * the first load walks to the end keeping the last few; later polls ask only for ids above the
 * newest seen.
 */
function watchDeliveries(ruleArn, view, stop) {
  stop.watching = true;
  let shown = null;
  let lastId = 0;
  let failed = false;
  const poll = async () => {
    try {
      const fresh = [];
      for (;;) {
        const { deliveries = [] } = await internal('deliveries', { query: { origin: 'events', source: ruleArn, after: lastId || undefined, limit: DELIVERY_PAGE } });
        fresh.push(...deliveries);
        if (deliveries.length) lastId = deliveries[deliveries.length - 1].id;
        if (deliveries.length < DELIVERY_PAGE) break;
      }
      // Re-rendered only on news, so folds the user opened stay open between polls.
      if (fresh.length || failed || !shown) {
        shown = [...fresh.reverse(), ...(shown || [])].slice(0, RECENT_DELIVERIES);
        view.show(shown);
      }
      failed = false;
    } catch (e) {
      failed = true;
      view.fail(e);
    }
    if (!stop.stopped) stop.timer = setTimeout(poll, POLL_MS);
  };
  poll();
}

const STATUS_CLASS = { recorded: 'neutral', delivered: 'good', failed: 'bad' };

function deliveryList(deliveries) {
  if (!deliveries.length) return empty('No deliveries yet: matching events will show here.');
  return h('div', { class: 'ev-deliveries' }, deliveries.map((d) => h('article', { class: 'ev-delivery', 'data-id': d.id, 'data-status': d.status },
    h('header', {},
      h('span', { class: 'badge ' + (STATUS_CLASS[d.status] || 'neutral') }, d.status),
      h('span', { class: 'ev-nowrap' }, formatDate(d.createdMs)),
      h('span', { class: 'muted' }, d.targetKind),
      mono(d.target, { class: 'mono ev-delivery-target' }),
      d.attempts > 1 ? h('span', { class: 'muted' }, `${d.attempts} attempts`) : null),
    d.subject ? h('div', { class: 'small muted' }, d.subject) : null,
    d.error ? h('div', { class: 'error' }, d.error) : null,
    h('div', { class: 'ev-delivery-body' }, jsonOrText(d.body, { open: 4 })))));
}

// ---------------------------------------------------------------------------------------------
// Pattern tester
// ---------------------------------------------------------------------------------------------

/** A random v4 UUID. crypto.randomUUID exists only in secure contexts, and the console may be
 *  served over plain http from another host. */
function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** An event with the envelope AWS requires (TestEventPattern rejects an event without it). */
function sampleEvent() {
  return {
    version: '0',
    id: uuid(),
    'detail-type': 'Order Placed',
    source: 'com.example.orders',
    account: currentAccount(),
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: currentRegion(),
    resources: [`arn:aws:dynamodb:${currentRegion()}:${currentAccount()}:table/orders`],
    detail: { orderId: 'o-1234', amount: 42.5, status: 'placed', customer: { tier: 'gold' } },
  };
}

const ENVELOPE_HINT = 'The event must be a JSON object with the fields EventBridge always sets: id, account, source, time, region, resources and detail-type.';

const SAMPLE_PATTERN = { source: ['com.example.orders'], detail: { amount: [{ numeric: ['>', 10] }] } };

route('/events/tester', ({ query, root }) => {
  title('EventBridge pattern tester');
  const eventInput = h('textarea', { id: 'ev-test-event', rows: 16, spellcheck: 'false', 'aria-label': 'Event' }, query.event || JSON.stringify(sampleEvent(), null, 2));
  const patternInput = h('textarea', { id: 'ev-test-pattern', rows: 16, spellcheck: 'false', 'aria-label': 'Event pattern' }, query.pattern || JSON.stringify(SAMPLE_PATTERN, null, 2));
  const eventError = h('div', {});
  const patternError = h('div', {});
  const result = h('div', { id: 'ev-test-result', 'aria-live': 'polite' });
  const run = async () => {
    setQuery({ event: eventInput.value, pattern: patternInput.value });
    for (const el of [eventError, patternError, result]) el.replaceChildren();
    result.append(spinner('Testing…'));
    try {
      const out = await call('events', 'TestEventPattern', { Event: eventInput.value, EventPattern: patternInput.value });
      result.replaceChildren(out.Result
        ? h('div', { class: 'ev-verdict match', 'data-result': 'match' }, '✔ Matches: the rule would send this event to its targets.')
        : h('div', { class: 'ev-verdict nomatch', 'data-result': 'nomatch' }, '✘ Does not match.'));
    } catch (e) {
      result.replaceChildren();
      // The message goes next to the input it is about: the pattern, or the event.
      if (e.code === 'InvalidEventPatternException') patternError.append(errorBox(e));
      else eventError.append(errorBox(e), e.code === 'ValidationException' ? h('p', { class: 'muted small' }, ENVELOPE_HINT) : null);
    }
  };
  root.append(
    pageHeader('Pattern tester', { crumbs: crumbs() }),
    subnav('/events/tester'),
    h('div', { class: 'cols ev-tester' },
      panel('Event',
        h('p', { class: 'muted small' }, 'An event as EventBridge delivers it: the envelope (version, id, detail-type, source, account, time, region, resources) and its detail.'),
        eventInput, eventError,
        button('Reset to sample event', () => { eventInput.value = JSON.stringify(sampleEvent(), null, 2); })),
      panel('Event pattern', h('p', { class: 'muted small' }, 'Fields to match, each with a list of values or filters (prefix, numeric, exists, anything-but...).'),
        patternInput, patternError)),
    panel(null, h('div', { class: 'toolbar' }, button('Test pattern', run, { primary: true, id: 'ev-test-run' })), result));
  if (query.pattern && query.event) run();
});

// ---------------------------------------------------------------------------------------------
// Archives and replays
// ---------------------------------------------------------------------------------------------

route('/events/archives', ({ root }) => {
  title('EventBridge archives and replays');
  const archives = h('div', {});
  const replays = h('div', {});
  const load = () => {
    fill(archives, async () => archivesTable(await callAll('events', 'ListArchives', { Limit: 100 }, 'Archives')));
    fill(replays, async () => replaysTable(await callAll('events', 'ListReplays', { Limit: 100 }, 'Replays')));
  };
  root.append(
    pageHeader('Archives and replays', { crumbs: crumbs(), actions: [button('Refresh', load)] }),
    subnav('/events/archives'),
    panel('Archives', archives),
    panel('Replays', replays));
  load();
});

function archivesTable(archives) {
  return table([
    { title: 'Name', render: (a) => a.ArchiveName },
    { title: 'Source bus', render: (a) => h('a', { href: link(busPath(busOfArn(a.EventSourceArn))) }, busOfArn(a.EventSourceArn)) },
    { title: 'State', render: (a) => [badge(a.State), a.StateReason ? h('div', { class: 'small muted' }, a.StateReason) : null] },
    { title: 'Events', class: 'num', render: (a) => String(a.EventCount ?? 0) },
    { title: 'Size', class: 'num', render: (a) => formatBytes(a.SizeBytes) },
    { title: 'Retention', render: (a) => (a.RetentionDays ? `${a.RetentionDays} days` : 'Indefinite') },
    { title: 'Created', render: (a) => formatDate(a.CreationTime) },
  ], archives, { empty: 'No archives. An archive keeps the events of a bus (or those matching its pattern) for replays.' });
}

function replaysTable(replays) {
  return table([
    { title: 'Name', render: (r) => r.ReplayName },
    { title: 'State', render: (r) => [badge(r.State), r.StateReason ? h('div', { class: 'small muted' }, r.StateReason) : null] },
    { title: 'Archive', render: (r) => String(r.EventSourceArn || '').split(':archive/')[1] || r.EventSourceArn },
    { title: 'Events from', render: (r) => formatDate(r.EventStartTime) },
    { title: 'Events to', render: (r) => formatDate(r.EventEndTime) },
    { title: 'Started', render: (r) => formatDate(r.ReplayStartTime) },
    { title: 'Ended', render: (r) => formatDate(r.ReplayEndTime) },
    { title: 'Last replayed event', render: (r) => formatDate(r.EventLastReplayedTime) },
  ], replays, { empty: 'No replays.' });
}

// ---------------------------------------------------------------------------------------------
// Send events
// ---------------------------------------------------------------------------------------------

route('/events/send', ({ query, root }) => {
  title('Send events');
  const form = h('div', {}, spinner());
  const sent = h('div', { id: 'ev-sent' });
  root.append(
    pageHeader('Send events', { crumbs: crumbs() }),
    subnav('/events/send'),
    panel('Event entry', form),
    panel('Sent from this page', sent));
  sent.append(empty('Events you send are listed here with their event ID.'));
  fill(form, async () => sendForm(await callAll('events', 'ListEventBuses', { Limit: 100 }, 'EventBuses'), query, sent));
});

function sendForm(buses, query, sent) {
  const field = (label, control) => h('label', { class: 'ev-field' }, h('span', {}, label), control);
  const names = buses.map((b) => b.Name);
  const chosen = names.includes(query.bus) ? query.bus : 'default';
  const bus = h('select', { id: 'ev-send-bus' }, names.map((n) => h('option', { value: n, selected: n === chosen }, n)));
  const source = h('input', { id: 'ev-send-source', value: query.source ?? 'com.example.orders', required: true });
  const detailType = h('input', { id: 'ev-send-detail-type', value: query.detailType ?? 'Order Placed', required: true });
  const detail = h('textarea', { id: 'ev-send-detail', rows: 8, spellcheck: 'false' }, query.detail ?? JSON.stringify({ orderId: 'o-1234', amount: 42.5 }, null, 2));
  const resources = h('textarea', { id: 'ev-send-resources', rows: 2, spellcheck: 'false', placeholder: 'One ARN a line' }, query.resources ?? '');
  const outcome = h('div', { id: 'ev-send-outcome', 'aria-live': 'polite' });
  const submit = async (e) => {
    e.preventDefault();
    setQuery({ bus: bus.value, source: source.value, detailType: detailType.value, detail: detail.value, resources: resources.value || null });
    const entry = {
      EventBusName: bus.value, Source: source.value, DetailType: detailType.value, Detail: detail.value,
      Resources: resources.value.split('\n').map((s) => s.trim()).filter(Boolean),
    };
    outcome.replaceChildren(spinner('Sending…'));
    try {
      const out = await call('events', 'PutEvents', { Entries: [entry] });
      const result = (out.Entries || [])[0] || {};
      if (out.FailedEntryCount || result.ErrorCode) {
        outcome.replaceChildren(errorBox(`${result.ErrorCode || 'Failed'}: ${result.ErrorMessage || 'The entry was not accepted.'}`));
        return;
      }
      outcome.replaceChildren(h('div', { class: 'notice ev-sent-notice' }, 'Event sent. Event ID ', mono(result.EventId, { id: 'ev-sent-id' }), ' · ',
        h('a', { href: link(busPath(entry.EventBusName)) }, `rules of ${entry.EventBusName}`)));
      recordSent(sent, entry, result.EventId);
    } catch (err) {
      outcome.replaceChildren(errorBox(err));
    }
  };
  return h('form', { class: 'ev-send-form', onsubmit: submit },
    field('Event bus', bus), field('Source', source), field('Detail type', detailType),
    field('Detail (JSON)', detail), field('Resources', resources),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'btn primary', id: 'ev-send' }, 'Send')),
    outcome);
}

function recordSent(el, entry, eventId) {
  let list = el.querySelector('tbody');
  if (!list) {
    list = h('tbody');
    el.replaceChildren(h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['Time', 'Event ID', 'Bus', 'Source', 'Detail type'].map((t) => h('th', {}, t)))), list));
  }
  list.prepend(h('tr', {},
    h('td', {}, formatDate(Date.now())), h('td', {}, mono(eventId)),
    h('td', {}, h('a', { href: link(busPath(entry.EventBusName)) }, entry.EventBusName)),
    h('td', {}, entry.Source), h('td', {}, entry.DetailType)));
}

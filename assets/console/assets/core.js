// The console's foundations: the AWS API client (signed awsJson calls to this server), the
// router (one URL per view), the account/region in force, and small DOM helpers.
//
// Everything the console shows that came from data goes through text nodes (h() and text()):
// never innerHTML, so a log line or a name holding markup is displayed, not run.

import { sign, canonicalQuery } from './sigv4.js';

export const BASE = '/_watchtrail/console';

// ---------------------------------------------------------------------------------------------
// Session: account, region, credentials
// ---------------------------------------------------------------------------------------------

const stored = (key, fallback) => sessionStorage.getItem('watchtrail.' + key) ?? fallback;

export const session = {
  account: stored('account', ''),
  region: stored('region', ''),
  // Set when the server enforces signatures: kept for this browser session only.
  accessKeyId: stored('accessKeyId', ''),
  secretAccessKey: stored('secretAccessKey', ''),
  server: null, // /_watchtrail/health's answer
};

export function saveSession() {
  for (const key of ['account', 'region', 'accessKeyId', 'secretAccessKey']) {
    if (session[key]) sessionStorage.setItem('watchtrail.' + key, session[key]);
    else sessionStorage.removeItem('watchtrail.' + key);
  }
}

// ---------------------------------------------------------------------------------------------
// The AWS APIs
// ---------------------------------------------------------------------------------------------

const SERVICES = {
  cloudwatch: { signing: 'monitoring', target: 'GraniteServiceVersion20100801', json: '1.0' },
  logs: { signing: 'logs', target: 'Logs_20140328', json: '1.1' },
  events: { signing: 'events', target: 'AWSEvents', json: '1.1' },
  cloudtrail: { signing: 'cloudtrail', target: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101', json: '1.1' },
};

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
  toString() {
    return this.code ? `${this.code}: ${this.message}` : this.message;
  }
}

function credentials() {
  if (session.accessKeyId && session.secretAccessKey) {
    return { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey };
  }
  // Without enforced signatures a 12-digit access key is its own account: that is how the
  // account selector picks whose data is shown.
  return { accessKeyId: session.account || 'test', secretAccessKey: 'test' };
}

/**
 * Calls an AWS operation: `call('logs', 'DescribeLogGroups', {limit: 50})`. Resolves to the
 * output document; rejects with an ApiError carrying AWS's code and message.
 * Timestamps in outputs are epoch seconds (awsJson). `options.region` overrides the region in
 * force (a dashboard widget may name its own).
 */
export async function call(service, operation, input = {}, options = {}) {
  const spec = SERVICES[service];
  if (!spec) throw new ApiError('ConsoleError', `unknown service ${service}`);
  const body = JSON.stringify(input);
  const headers = {
    'content-type': `application/x-amz-json-${spec.json}`,
    'x-amz-target': `${spec.target}.${operation}`,
    'x-watchtrail-console': '1',
  };
  const signed = sign({
    host: location.host,
    headers,
    body,
    service: spec.signing,
    region: options.region || currentRegion(),
    ...credentials(),
  });
  let response;
  try {
    response = await fetch('/', { method: 'POST', headers: signed, body, credentials: 'omit' });
  } catch (e) {
    throw new ApiError('NetworkError', `The server could not be reached (${e.message}).`, 0);
  }
  const text = await response.text();
  let doc = {};
  try {
    doc = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError('ConsoleError', `Unreadable answer (HTTP ${response.status}).`, response.status);
  }
  if (!response.ok) {
    // Query-compatible services (CloudWatch) name the error in x-amzn-query-error as the query
    // protocol does (what aws-cli and boto3 show); elsewhere __type is the code.
    const queryCode = response.headers.get('x-amzn-query-error')?.split(';')[0];
    const type = queryCode || String(doc.__type || doc.code || 'Error').split('#').pop();
    throw new ApiError(type, doc.message || doc.Message || text, response.status);
  }
  return doc;
}

/**
 * Who the console's key is: STS GetCallerIdentity (a query-protocol call, XML answer). With
 * enforced signatures the account comes from the key, so the scope bar shows this one.
 */
export async function whoami() {
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signed = sign({
    host: location.host,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-watchtrail-console': '1' },
    body,
    service: 'sts',
    region: currentRegion(),
    ...credentials(),
  });
  const response = await fetch('/', { method: 'POST', headers: signed, body, credentials: 'omit' });
  const xml = new DOMParser().parseFromString(await response.text(), 'application/xml');
  const text = (tag) => xml.getElementsByTagName(tag)[0]?.textContent || '';
  if (!response.ok) throw new ApiError(text('Code') || 'Error', text('Message') || `HTTP ${response.status}`, response.status);
  return { account: text('Account'), arn: text('Arn'), userId: text('UserId') };
}

/** Follows NextToken-style paging and concatenates `listKey` from every page. */
export async function callAll(service, operation, input, listKey, { tokenKey = 'NextToken', outTokenKey, max = 5000 } = {}) {
  const out = [];
  let token;
  do {
    const page = await call(service, operation, token ? { ...input, [tokenKey]: token } : input);
    out.push(...(page[listKey] || []));
    token = page[outTokenKey || tokenKey];
  } while (token && out.length < max);
  return out;
}

/**
 * A request to the emulator's own endpoints, signed like an API call so that a server that
 * enforces signatures knows whose it is (it answers only that account's deliveries).
 */
function internalRequest(path, query, { method = 'GET', body = '', headers = {}, signal } = {}) {
  const pairs = Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, String(v)]);
  const qs = canonicalQuery(pairs);
  const url = `/_watchtrail/${path}`;
  const signed = sign({
    method,
    host: location.host,
    path: url,
    query: qs,
    headers: { ...headers, 'x-watchtrail-console': '1' },
    body,
    service: 'watchtrail',
    region: currentRegion(),
    ...credentials(),
  });
  return fetch(url + (qs ? '?' + qs : ''), { method, headers: signed, body: body || undefined, signal, credentials: 'omit' });
}

/** The emulator's own endpoints (/_watchtrail/...): deliveries, journal verification. */
export async function internal(path, { method = 'GET', query = {}, body } = {}) {
  const response = await internalRequest(path, query, {
    method,
    body: body ? JSON.stringify(body) : '',
    headers: body ? { 'content-type': 'application/json' } : {},
  });
  const doc = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(doc.__type || 'Error', doc.message || `HTTP ${response.status}`, response.status);
  return doc;
}

/**
 * Live tail of log groups (server push over server-sent events). `onEvents(events)` gets
 * arrays of {logGroupName, logStreamName, timestamp, ingestionTime, message}; `onStatus(s)` gets
 * 'open' | 'lagged' | 'closed' | an ApiError. Returns { close() }.
 */
export function tail({ logGroupNames, logStreamNames, logStreamNamePrefixes, filterPattern }, onEvents, onStatus = () => {}) {
  const controller = new AbortController();
  const query = {
    accountId: currentAccount(),
    region: currentRegion(),
    logGroupNames: logGroupNames.join(','),
    logStreamNames: logStreamNames?.join(','),
    logStreamNamePrefixes: logStreamNamePrefixes?.join(','),
    filterPattern,
  };
  (async () => {
    let response;
    try {
      response = await internalRequest('logs/tail', query, { signal: controller.signal });
    } catch (e) {
      if (!controller.signal.aborted) onStatus(new ApiError('NetworkError', e.message, 0));
      return;
    }
    if (!response.ok) {
      const doc = await response.json().catch(() => ({}));
      onStatus(new ApiError(doc.__type || 'Error', doc.message || `HTTP ${response.status}`, response.status));
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (event === 'started') onStatus('open');
          else if (event === 'events') onEvents(JSON.parse(data));
          else if (event === 'lagged') onStatus('lagged');
        }
      }
    } catch (e) {
      if (!controller.signal.aborted) onStatus(new ApiError('NetworkError', e.message, 0));
      return;
    }
    onStatus('closed');
  })();
  return { close: () => controller.abort() };
}

export function currentAccount() {
  return session.account || session.server?.defaultAccount || '000000000000';
}

export function currentRegion() {
  return session.region || session.server?.defaultRegion || 'us-east-1';
}

// ---------------------------------------------------------------------------------------------
// Router: paths under BASE, history API, query string as view state
// ---------------------------------------------------------------------------------------------

const routes = [];
let cleanup = null;
// Counts renders, so a view that finishes loading after the user left it cannot install its
// cleanup over the next view's.
let generation = 0;
let outlet = null;
let onRouteChange = () => {};

/**
 * Registers a view: `route('/alarms/:name', render)`. `render({params, query, root})` fills
 * `root` and may return a function called when the view is left (stop timers, close tails).
 */
export function route(pattern, render) {
  const names = [];
  const regex = new RegExp('^' + pattern.replace(/:([a-zA-Z]+)/g, (_, n) => (names.push(n), '([^/]+)')) + '/?$');
  routes.push({ pattern, regex, names, render });
}

/** The href of a view: `link('/alarms/' + encodeURIComponent(name), {tab: 'history'})`. */
export function link(path, query = {}) {
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  return BASE + path + (qs ? '?' + qs : '');
}

export function navigate(path, query = {}, { replace = false } = {}) {
  const href = link(path, query);
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  render();
}

export function currentQuery() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

/** Records view state (filters, ranges) in the URL without re-rendering: reloads keep it. */
export function setQuery(changes) {
  const query = { ...currentQuery(), ...changes };
  for (const [k, v] of Object.entries(query)) if (v === undefined || v === null || v === '') delete query[k];
  const qs = new URLSearchParams(query).toString();
  history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
}

export function startRouter(element, changed) {
  outlet = element;
  onRouteChange = changed || onRouteChange;
  window.addEventListener('popstate', render);
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a');
    if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    const url = new URL(a.href, location.href);
    if (url.origin === location.origin && url.pathname.startsWith(BASE)) {
      e.preventDefault();
      history.pushState(null, '', url.pathname + url.search);
      render();
    }
  });
  render();
}

export function render() {
  const mine = ++generation;
  if (cleanup) {
    try { cleanup(); } catch (e) { console.warn(e); }
    cleanup = null;
  }
  let path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  if (path === '' || path === '/') path = '/metrics';
  outlet.replaceChildren();
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) {
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      onRouteChange(path);
      try {
        const result = r.render({ params, query: currentQuery(), root: outlet });
        if (typeof result === 'function') cleanup = result;
        else if (result && typeof result.then === 'function') {
          result.then((c) => {
            if (typeof c !== 'function') return;
            if (mine === generation) cleanup = c;
            else c(); // the user already left this view
          }).catch((e) => { if (mine === generation) outlet.append(errorBox(e)); });
        }
      } catch (e) {
        outlet.append(errorBox(e));
      }
      return;
    }
  }
  onRouteChange(path);
  outlet.append(h('div', { class: 'panel' }, h('h2', {}, 'Not found'), h('p', {}, `No view at ${path}.`)));
}

// ---------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------

/**
 * Builds an element: `h('a', {href, class: 'x', onclick: fn}, 'text', childNode)`. Strings
 * become text nodes; null/false children are skipped; arrays are flattened.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'selected') el[key] = !!value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A page header: title, optional breadcrumb links [{text, href}] and action buttons. */
export function pageHeader(title, { crumbs = [], actions = [] } = {}) {
  return h('div', { class: 'page-header' },
    crumbs.length ? h('nav', { class: 'crumbs' }, crumbs.map((c, i) => [i ? ' / ' : '', h('a', { href: c.href }, c.text)])) : null,
    h('div', { class: 'page-title' }, h('h1', {}, title), h('div', { class: 'actions' }, actions)));
}

/** A bordered panel with a title line. */
export function panel(title, ...children) {
  return h('section', { class: 'panel' }, title ? h('h2', {}, title) : null, ...children);
}

export function button(label, onclick, { primary = false, danger = false, id, disabled } = {}) {
  return h('button', { class: ['btn', primary && 'primary', danger && 'danger'].filter(Boolean).join(' '), onclick, id, disabled, type: 'button' }, label);
}

/**
 * A table: columns [{title, render: row => Node|string, class?}], rows any[]. `empty` is shown
 * when there are no rows.
 */
export function table(columns, rows, { empty = 'Nothing to show.', rowClass } = {}) {
  if (!rows.length) return h('div', { class: 'empty' }, empty);
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class }, c.title)))),
    h('tbody', {}, rows.map((row) => h('tr', { class: rowClass ? rowClass(row) : undefined },
      columns.map((c) => h('td', { class: c.class }, c.render(row)))))));
}

/** An error as AWS answered it, shown where the action was taken. */
export function errorBox(error) {
  const text = error instanceof ApiError ? error.toString() : String(error?.message || error);
  return h('div', { class: 'error', role: 'alert' }, text);
}

export function spinner(label = 'Loading…') {
  return h('div', { class: 'spinner' }, label);
}

export function empty(message) {
  return h('div', { class: 'empty' }, message);
}

/** Replaces the content of `el` with what `load()` resolves to, a spinner meanwhile, and the
 *  error if it fails. */
export async function fill(el, load) {
  el.replaceChildren(spinner());
  try {
    const content = await load();
    el.replaceChildren(...[content].flat().filter(Boolean));
  } catch (e) {
    el.replaceChildren(errorBox(e));
  }
}

/** A coloured state badge: ALARM red, OK green, INSUFFICIENT_DATA grey, others neutral. */
export function badge(state) {
  const cls = { ALARM: 'bad', OK: 'good', INSUFFICIENT_DATA: 'unknown', ENABLED: 'good', DISABLED: 'unknown' }[state] || 'neutral';
  return h('span', { class: 'badge ' + cls, 'data-state': state }, state === 'INSUFFICIENT_DATA' ? 'Insufficient data' : state);
}

export function formatDate(value) {
  if (value === undefined || value === null || value === '') return '–';
  const ms = typeof value === 'number' ? (value < 1e11 ? value * 1000 : value) : Date.parse(value);
  if (!Number.isFinite(ms)) return String(value);
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC').replace('Z', ' UTC');
}

export function formatBytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

// ---------------------------------------------------------------------------------------------
// Time ranges
// ---------------------------------------------------------------------------------------------

export const RANGES = [
  ['1h', 3600e3], ['3h', 3 * 3600e3], ['12h', 12 * 3600e3], ['1d', 86400e3], ['1w', 7 * 86400e3],
];

/** The range in the query (`range=3h`, or `start`/`end` ISO strings for a custom one). */
export function rangeFromQuery(query, fallback = '3h') {
  if (query.start && query.end) {
    const start = Date.parse(query.start);
    const end = Date.parse(query.end);
    if (Number.isFinite(start) && Number.isFinite(end) && start < end) return { start, end, label: 'custom' };
  }
  const name = RANGES.some(([n]) => n === query.range) ? query.range : fallback;
  const span = RANGES.find(([n]) => n === name)[1];
  const end = Date.now();
  return { start: end - span, end, label: name };
}

/**
 * Range picker: buttons 1h 3h 12h 1d 1w and a custom start/end form. Keeps its state in the
 * URL (range, start, end) and calls onChange({start, end, label}).
 */
export function rangePicker(onChange, fallback = '3h') {
  const q = currentQuery();
  const current = rangeFromQuery(q, fallback);
  const toLocalInput = (ms) => new Date(ms).toISOString().slice(0, 16);
  const startInput = h('input', { type: 'datetime-local', value: toLocalInput(current.start), 'aria-label': 'Custom start (UTC)' });
  const endInput = h('input', { type: 'datetime-local', value: toLocalInput(current.end), 'aria-label': 'Custom end (UTC)' });
  const wrap = h('div', { class: 'range-picker', role: 'group', 'aria-label': 'Time range' });
  const select = (label) => {
    for (const b of wrap.querySelectorAll('button[data-range]')) b.classList.toggle('active', b.dataset.range === label);
  };
  for (const [name] of RANGES) {
    wrap.append(h('button', {
      type: 'button', class: 'btn seg', 'data-range': name, onclick: () => {
        setQuery({ range: name, start: null, end: null });
        select(name);
        onChange(rangeFromQuery({ range: name }));
      },
    }, name));
  }
  const custom = h('details', { class: 'custom-range' }, h('summary', {}, 'Custom'),
    h('label', {}, 'From ', startInput), h('label', {}, ' to ', endInput),
    button('Apply', () => {
      const start = Date.parse(startInput.value + 'Z');
      const end = Date.parse(endInput.value + 'Z');
      if (!(start < end)) return;
      setQuery({ range: null, start: new Date(start).toISOString(), end: new Date(end).toISOString() });
      select('custom');
      onChange({ start, end, label: 'custom' });
    }));
  wrap.append(custom);
  select(current.label);
  return wrap;
}

// ---------------------------------------------------------------------------------------------
// JSON and markdown
// ---------------------------------------------------------------------------------------------

/** A pretty-printed, foldable view of a JSON value (objects and arrays fold on click). */
export function jsonView(value, { open = 2 } = {}) {
  // `suffix` (a comma) goes inside a fold: Chromium lays a <details> out as a block, so text
  // after it would land on a line of its own.
  const node = (v, depth, suffix) => {
    const scalar = (cls, text) => h('span', { class: cls }, text, suffix);
    if (v === null) return scalar('j-null', 'null');
    if (typeof v === 'string') return scalar('j-str', JSON.stringify(v));
    if (typeof v === 'number') return scalar('j-num', String(v));
    if (typeof v === 'boolean') return scalar('j-bool', String(v));
    const isArray = Array.isArray(v);
    const entries = isArray ? v.map((x, i) => [i, x]) : Object.entries(v);
    const [openBr, closeBr] = isArray ? ['[', ']'] : ['{', '}'];
    if (!entries.length) return h('span', {}, openBr + closeBr, suffix);
    const details = h('details', { class: 'j-fold' });
    if (depth < open) details.open = true;
    details.append(h('summary', {}, openBr, h('span', { class: 'j-count' }, ` ${entries.length} ${isArray ? 'items' : 'keys'} `)));
    const list = h('div', { class: 'j-body' });
    entries.forEach(([k, x], i) => {
      list.append(h('div', { class: 'j-line' },
        isArray ? null : [h('span', { class: 'j-key' }, JSON.stringify(k)), ': '],
        node(x, depth + 1, i < entries.length - 1 ? ',' : '')));
    });
    details.append(list, h('span', {}, closeBr, suffix));
    return details;
  };
  return h('div', { class: 'json' }, node(value, 0, ''));
}

/** Parses `text` as JSON if it is an object or array, else undefined. */
export function tryJson(text) {
  const t = String(text).trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try { return JSON.parse(t); } catch { return undefined; }
}

/**
 * The markdown of text widgets, as DOM nodes built from text: headings, paragraphs, lists,
 * emphasis, inline code, code blocks, links (http(s) and relative only) and tables. Markup in
 * the source is shown as text.
 */
export function markdown(source) {
  const root = h('div', { class: 'markdown' });
  const lines = String(source).replace(/\r\n?/g, '\n').split('\n');
  const inline = (text) => {
    const out = [];
    const re = /(\*\*([^*]+)\*\*|\*([^*]+)\*|_([^_]+)_|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\))/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[2]) out.push(h('strong', {}, m[2]));
      else if (m[3] || m[4]) out.push(h('em', {}, m[3] || m[4]));
      else if (m[5]) out.push(h('code', {}, m[5]));
      else if (m[6]) {
        const safe = /^(https?:\/\/|\/|#)/i.test(m[7]) ? m[7] : null;
        out.push(safe ? h('a', { href: safe, target: '_blank', rel: 'noopener noreferrer' }, m[6]) : m[6]);
      }
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const body = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i])) body.push(lines[i++]);
      i++;
      root.append(h('pre', {}, h('code', {}, body.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      root.append(h('h' + Math.min(heading[1].length + 1, 6), {}, inline(heading[2])));
      i++;
      continue;
    }
    if (/^\s*[-*+]\s+/.test(line) || /^\s*\d+\.\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const list = h(ordered ? 'ol' : 'ul');
      while (i < lines.length && (/^\s*[-*+]\s+/.test(lines[i]) || /^\s*\d+\.\s+/.test(lines[i]))) {
        list.append(h('li', {}, inline(lines[i].replace(/^\s*([-*+]|\d+\.)\s+/, ''))));
        i++;
      }
      root.append(list);
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line)) {
      const rows = [];
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(lines[i++]);
      const cells = (r) => r.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      const body = rows.filter((r) => !/^\s*\|[\s:|-]+\|\s*$/.test(r));
      const [head, ...rest] = body;
      root.append(h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, cells(head || '').map((c) => h('th', {}, inline(c))))),
        h('tbody', {}, rest.map((r) => h('tr', {}, cells(r).map((c) => h('td', {}, inline(c))))))));
      continue;
    }
    if (/^\s*$/.test(line)) { i++; continue; }
    const para = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,6}\s|```|\s*[-*+]\s|\s*\|)/.test(lines[i])) para.push(lines[i++]);
    root.append(h('p', {}, inline(para.join(' '))));
  }
  return root;
}

/** Sets the page title (the tab's name) for the view. */
export function title(text) {
  document.title = `${text} · watchtrail`;
}

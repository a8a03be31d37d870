// watchtrail console charts: canvas line/bar/pie charts and single-value tiles.
// No dependencies. Text that comes from data reaches the DOM only via textContent,
// and the canvas only via fillText, so labels always render literally.

// d3 category10 followed by its light variants: the order CloudWatch uses.
export const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7', '#dbdb8d', '#9edae5',
];

const SEC = 1e3, MIN = 6e4, HOUR = 36e5, DAY = 864e5;
const TIME_STEPS = [SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN,
  30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY,
  182 * DAY, 365 * DAY];
const ALARM_RED = '#d13212';
const DASH = '\u2013'; // en dash for missing values
const SUFFIX = ['', 'K', 'M', 'B', 'T'];
const BYTE_SUFFIX = ['', 'K', 'M', 'G', 'T'];
const UNIT_ABBR = {
  Percent: '%', Seconds: ' s', Milliseconds: ' ms', Microseconds: ' \u00b5s',
  Bytes: 'B', Kilobytes: ' KB', Megabytes: ' MB', Gigabytes: ' GB', Terabytes: ' TB',
  Bits: ' b', 'Bytes/Second': 'B/s', 'Count/Second': '/s', Count: '', None: '',
};

// ---------------------------------------------------------------- formatting

export function formatValue(v, unit) {
  const n = typeof v === 'number' ? v : (v == null || v === '' ? NaN : Number(v));
  if (!Number.isFinite(n)) return DASH;
  const a = Math.abs(n);
  let s, e = 0;
  if (a >= 1e3) {
    e = Math.min(Math.floor(Math.log10(a) / 3), 4);
    let r = Number((n / 10 ** (3 * e)).toPrecision(3));
    // 999,999 rounds to "1000K"; promote it to "1M" instead.
    if (Math.abs(r) >= 1e3 && e < 4) { e++; r = Number((n / 10 ** (3 * e)).toPrecision(3)); }
    s = String(r);
  } else if (a >= 1 || a === 0) {
    s = String(Number(n.toFixed(3)));
  } else {
    s = String(Number(n.toPrecision(3)));
  }
  if (unit === 'Bytes' || unit === 'Bytes/Second') return `${s} ${BYTE_SUFFIX[e]}${UNIT_ABBR[unit]}`;
  s += SUFFIX[e];
  if (!unit) return s;
  return s + (unit in UNIT_ABBR ? UNIT_ABBR[unit] : ` ${unit}`);
}

const pad2 = (n) => String(n).padStart(2, '0');

export function formatTime(ms, spanMs = 0) {
  if (ms == null || !Number.isFinite(Number(ms))) return DASH;
  const d = new Date(Number(ms));
  const ymd = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  if (spanMs < DAY) return hm;
  if (spanMs < 7 * DAY) return `${ymd.slice(5)} ${hm}`;
  return ymd;
}

function fullTime(ms) {
  const d = new Date(ms);
  return `${formatTime(ms, 7 * DAY)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC`;
}

// Axis ticks are multiples of the step, so their decimals follow the step,
// not formatValue's significant digits (which would merge 102.5 and 103).
function tickFormatter(lo, hi, step) {
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const e = maxAbs >= 1e3 ? Math.min(Math.floor(Math.log10(maxAbs) / 3), 4) : 0;
  const scale = 10 ** (3 * e), s = step / scale;
  let dec = 0;
  while (dec < 10 && Math.abs(Math.round(s * 10 ** dec) - s * 10 ** dec) > 1e-6) dec++;
  return (v) => (Math.abs(v) < step / 2 ? '0' : (v / scale).toFixed(dec) + SUFFIX[e]);
}

function niceStep(raw) {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw)), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

// Rounds a data range out to tick multiples; explicit yMin/yMax are kept exactly.
function niceRange(lo, hi, count, yMin, yMax, floorAtZero) {
  if (yMin != null) lo = yMin;
  if (yMax != null) hi = yMax;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  if (hi <= lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    if (yMin == null) lo -= d;
    if (yMax == null || hi <= lo) hi = lo + 2 * d;
  }
  if (yMin == null && floorAtZero && lo >= 0) lo = 0;
  const step = niceStep((hi - lo) / Math.max(1, count));
  if (yMin == null) lo = Math.floor(lo / step + 1e-9) * step;
  if (yMax == null) hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(t);
  return { lo, hi, step, ticks };
}

// ---------------------------------------------------------------- helpers

function el(tag, style, text) {
  const e = document.createElement(tag);
  if (style) Object.assign(e.style, style);
  if (text != null) e.textContent = text;
  return e;
}

function lowerBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}

function nearestIndex(a, x) {
  const i = lowerBound(a, x);
  if (i === 0) return a.length ? 0 : -1;
  if (i === a.length) return i - 1;
  return x - a[i - 1] <= a[i] - x ? i - 1 : i;
}

// Theme comes from the container so the same code serves light and dark pages.
function theme(container) {
  const cs = getComputedStyle(container);
  const text = cs.color || '#16191f';
  const rgb = (text.match(/[\d.]+/g) || [22, 25, 31]).map(Number);
  const dark = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255 > 0.6;
  return { text, font: cs.fontFamily || 'sans-serif',
    grid: dark ? 'rgba(255,255,255,0.12)' : '#e9ebed', axis: dark ? 'rgba(255,255,255,0.3)' : '#b6bec9',
    bg: dark ? '#192534' : '#ffffff', border: dark ? '#414d5c' : '#e9ebed' };
}

function sizeCanvas(c, w, h) {
  const dpr = window.devicePixelRatio || 1;
  const W = Math.round(w * dpr), H = Math.round(h * dpr);
  if (c.width !== W || c.height !== H) { c.width = W; c.height = H; }
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

function ellipsize(ctx, s, maxW) {
  if (ctx.measureText(s).width <= maxW) return s;
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const m = (lo + hi + 1) >> 1;
    if (ctx.measureText(s.slice(0, m) + '\u2026').width <= maxW) lo = m; else hi = m - 1;
  }
  return lo ? s.slice(0, lo) + '\u2026' : '';
}

// Canvas text in one call; callers mix alignments, so every property is set each time.
function text(ctx, s, x, y, align, baseline, color, alpha = 1) {
  ctx.fillStyle = color; ctx.globalAlpha = alpha; ctx.textAlign = align; ctx.textBaseline = baseline;
  ctx.fillText(s, x, y); ctx.globalAlpha = 1;
}

function segment(ctx, xa, ya, xb, yb) {
  ctx.beginPath(); ctx.moveTo(xa, ya); ctx.lineTo(xb, yb); ctx.stroke();
}

function drawEmpty(ctx, x, y, env) {
  ctx.font = `14px ${env.font}`;
  text(ctx, 'No data available.', x, y, 'center', 'middle', env.text, 0.7);
  ctx.font = `12px ${env.font}`;
}

// Plot rectangle and y scale shared by line and bar charts; the widest tick label sets the left margin.
function yLayout(ctx, w, h, lo, hi, o, floorAtZero) {
  const T = 12, ph = Math.max(10, h - T - 26);
  const ys = niceRange(lo, hi, Math.max(2, Math.floor(ph / 45)), o.yMin, o.yMax, floorAtZero);
  const fmt = tickFormatter(ys.lo, ys.hi, ys.step), yLabel = o.yLabel ?? o.unit ?? '';
  let tw = 0;
  for (const v of ys.ticks) tw = Math.max(tw, ctx.measureText(fmt(v)).width);
  const L = Math.ceil(tw) + 14 + (yLabel ? 18 : 0), yb = T + ph, ky = ph / (ys.hi - ys.lo);
  return { T, ph, L, pw: Math.max(10, w - L - 16), ys, fmt, yLabel, yb, ky, Y: (v) => yb - (v - ys.lo) * ky };
}

// Horizontal gridlines, right-aligned tick labels and the rotated axis title.
function drawYAxis(ctx, f, env) {
  ctx.lineWidth = 1; ctx.strokeStyle = env.grid; ctx.beginPath();
  for (const v of f.ys.ticks) { const y = Math.round(f.Y(v)) + 0.5; ctx.moveTo(f.L, y); ctx.lineTo(f.L + f.pw, y); }
  ctx.stroke();
  for (const v of f.ys.ticks) text(ctx, f.fmt(v), f.L - 8, f.Y(v), 'right', 'middle', env.text, 0.75);
  if (!f.yLabel) return;
  ctx.save();
  ctx.translate(10, f.T + f.ph / 2);
  ctx.rotate(-Math.PI / 2);
  text(ctx, ellipsize(ctx, f.yLabel, f.ph), 0, 0, 'center', 'middle', env.text, 0.75);
  ctx.restore();
}

// ---------------------------------------------------------------- chart shell

// Shared lifecycle: DOM frame, legend, tooltip, hover, resize, timing.
// impl = { swatch, prep(data) -> model, entries(model, env) -> [{key, label, color, extra?}],
//          draw(ctx, w, h, model, opts, env) -> hit,
//          hover(x, y, hit, opts) -> {title, rows, info, overlay?} | null }
function createChart(container, data, options, impl) {
  const env = { hidden: new Set() };
  let opts = options || {}, model = null, hit = null, drawMs = 0, prepMs = 0, lastW = -1, raf = 0, pointer = null, hovered = false;

  container.replaceChildren();
  const root = el('div', { position: 'relative', fontSize: '12px', lineHeight: '1.4' });
  const title = el('div', { fontSize: '14px', fontWeight: '700', margin: '0 0 8px 4px', display: 'none' });
  const plot = el('div', { position: 'relative', width: '100%' });
  const fill = { position: 'absolute', left: '0', top: '0', width: '100%', height: '100%', display: 'block' };
  const canvas = el('canvas', fill), overlay = el('canvas', fill);
  const tip = el('div', { position: 'absolute', display: 'none', pointerEvents: 'none', zIndex: '10',
    padding: '8px 10px', borderRadius: '8px', border: '1px solid', whiteSpace: 'nowrap', maxWidth: '420px',
    boxShadow: '0 4px 20px 1px rgba(0,7,22,0.1)' });
  const legend = el('div', { display: 'flex', flexWrap: 'wrap', gap: '2px 10px', marginTop: '8px' });
  canvas.setAttribute('aria-hidden', 'true');
  overlay.setAttribute('role', 'img');
  plot.append(canvas, overlay, tip);
  root.append(title, plot, legend);
  container.append(root);

  function renderLegend(focusKey) {
    legend.replaceChildren();
    for (const e of impl.entries(model, env)) {
      const off = env.hidden.has(e.key), line = impl.swatch === 'line';
      const b = el('button', { display: 'inline-flex', alignItems: 'center', gap: '6px', padding: '2px 4px',
        border: '0', borderRadius: '4px', background: 'none', color: 'inherit', font: 'inherit', cursor: 'pointer',
        opacity: off ? '0.45' : '1', maxWidth: '100%' });
      b.type = 'button';
      b.title = off ? 'Show series' : 'Hide series';
      b.setAttribute('aria-pressed', String(!off));
      // Hidden entries keep an outlined swatch so the colour stays recognisable.
      b.append(el('span', { width: line ? '14px' : '10px', height: line ? '3px' : '10px', borderRadius: '2px',
        flex: 'none', background: off ? 'transparent' : e.color, boxShadow: `inset 0 0 0 1.5px ${e.color}` }),
      el('span', { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap',
        textDecoration: off ? 'line-through' : 'none' }, e.label));
      if (e.extra) b.append(el('span', { opacity: '0.7', flex: 'none' }, e.extra));
      b.addEventListener('click', () => {
        if (!env.hidden.delete(e.key)) env.hidden.add(e.key);
        draw();
        refreshHover();
        renderLegend(e.key);
      });
      legend.append(b);
      if (focusKey === e.key) b.focus();
    }
  }

  function setData(d, o) {
    const t0 = performance.now();
    if (o) opts = o;
    model = impl.prep(d);
    // Forget hidden keys that no longer exist so they can't resurface by surprise later.
    const keys = new Set(impl.entries(model, env).map((e) => e.key));
    for (const k of [...env.hidden]) if (!keys.has(k)) env.hidden.delete(k);
    title.textContent = opts.title || '';
    title.style.display = opts.title ? 'block' : 'none';
    overlay.setAttribute('aria-label', opts.title || 'chart');
    renderLegend();
    prepMs = performance.now() - t0;
  }

  function draw() {
    const h = opts.height || 260;
    plot.style.height = `${h}px`;
    // Read before timing starts: it flushes the page's pending layout, which is not drawing.
    const w = plot.clientWidth || 600; // hidden containers are redrawn by the ResizeObserver later
    const t0 = performance.now();
    Object.assign(env, theme(container));
    tip.style.background = env.bg;
    tip.style.borderColor = env.border;
    const ctx = sizeCanvas(canvas, w, h);
    ctx.font = `12px ${env.font}`;
    hit = impl.draw(ctx, w, h, model, opts, env);
    lastW = w;
    drawMs = performance.now() - t0;
  }

  function hideHover() {
    tip.style.display = 'none';
    // The overlay is only sized on hover, so clearing its whole backing store is enough.
    overlay.getContext('2d').clearRect(0, 0, overlay.width, overlay.height);
  }

  // Redraws (live updates, resizes) re-run the hover at the last pointer position.
  function refreshHover() { if (pointer) hoverAt(pointer.x, pointer.y); else hideHover(); }

  function hoverAt(x, y) {
    const r = overlay.getBoundingClientRect();
    const res = hit && impl.hover(x, y, hit, opts);
    const ctx = sizeCanvas(overlay, r.width, r.height);
    if (!res) { tip.style.display = 'none'; emit(null); return; }
    res.overlay?.(ctx, env);
    tip.replaceChildren(el('div', { fontWeight: '700', marginBottom: '4px' }, res.title));
    for (const row of res.rows) {
      const line = el('div', { display: 'flex', alignItems: 'center', gap: '6px' });
      line.append(el('span', { width: '10px', height: '10px', borderRadius: '2px', flex: 'none', background: row.color }),
        el('span', { flex: '1', overflow: 'hidden', textOverflow: 'ellipsis', maxWidth: '300px' }, row.label),
        el('span', { fontWeight: '700', marginLeft: '12px' }, row.value));
      tip.append(line);
    }
    tip.style.display = 'block';
    // Stay inside the plot: flip to the left of the pointer near the right edge.
    const tw = tip.offsetWidth, th = tip.offsetHeight;
    tip.style.left = `${x + 14 + tw > r.width ? Math.max(0, x - 14 - tw) : x + 14}px`;
    tip.style.top = `${Math.max(0, Math.min(y - th / 2, r.height - th))}px`;
    emit(res.info);
  }

  // onHover gets every position change, but only one null per exit.
  function emit(info) {
    if (info || hovered) opts.onHover?.(info);
    hovered = !!info;
  }

  function onMove(ev) {
    const r = overlay.getBoundingClientRect();
    pointer = { x: ev.clientX - r.left, y: ev.clientY - r.top };
    hoverAt(pointer.x, pointer.y);
  }
  function onLeave() { pointer = null; hideHover(); emit(null); }
  overlay.addEventListener('pointermove', onMove);
  overlay.addEventListener('pointerleave', onLeave);

  // Redraw on width changes only; drawing never changes the width, so this cannot loop.
  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => {
    if (plot.clientWidth === lastW || raf) return;
    raf = requestAnimationFrame(() => { raf = 0; draw(); refreshHover(); });
  }) : null;
  ro?.observe(plot);

  setData(data, opts);
  draw();
  drawMs += prepMs;

  return {
    update(d, o) { setData(d, o); draw(); drawMs += prepMs; refreshHover(); },
    destroy() {
      ro?.disconnect();
      if (raf) cancelAnimationFrame(raf);
      overlay.removeEventListener('pointermove', onMove);
      overlay.removeEventListener('pointerleave', onLeave);
      container.replaceChildren();
    },
    // Ms taken by the last render, including data preparation when the data changed.
    get lastDrawMs() { return drawMs; },
  };
}

// ---------------------------------------------------------------- line chart

// Typical spacing between points, and whether timestamps are already ascending.
function spacing(ts) {
  const diffs = new Float64Array(Math.max(0, ts.length - 1));
  let nd = 0, sorted = true;
  for (let k = 1; k < ts.length; k++) {
    const d = ts[k] - ts[k - 1];
    if (d > 0) diffs[nd++] = d; else if (d < 0) sorted = false;
  }
  return { sorted, med: nd ? diffs.subarray(0, nd).sort()[nd >> 1] : 0 };
}

function prepSeries(series) {
  return (Array.isArray(series) ? series : []).map((s, i) => {
    const t = s?.timestamps || [], v = s?.values || [];
    const n = Math.min(t.length, v.length);
    // Native bulk copies keep the cold first draw cheap; nulls become NaN, which breaks the line.
    let ts = Float64Array.from(t.length === n ? t : t.slice(0, n));
    let vs = Float64Array.from(v.length === n ? v : v.slice(0, n));
    for (let k = v.indexOf(null); k >= 0 && k < n; k = v.indexOf(null, k + 1)) vs[k] = NaN;
    let sp = spacing(ts);
    if (!sp.sorted) {
      const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => ts[a] - ts[b]);
      const ts2 = new Float64Array(n), vs2 = new Float64Array(n);
      for (let k = 0; k < n; k++) { ts2[k] = ts[order[k]]; vs2[k] = vs[order[k]]; }
      ts = ts2; vs = vs2; sp = spacing(ts);
    }
    const label = s?.label == null ? `Series ${i + 1}` : String(s.label);
    // gap: consecutive points further apart than 1.5x the typical spacing are not joined.
    return { key: `${i}\u0000${label}`, label, color: s?.color || PALETTE[i % PALETTE.length],
      ts, vs, y: vs, base: null, geo: null, med: sp.med, gap: sp.med ? sp.med * 1.5 : Infinity };
  });
}

// Stacks visible series by timestamp; a series missing a timestamp contributes 0 there.
function stack(vis) {
  const cum = new Map();
  for (const s of vis) {
    const n = s.ts.length, y = new Float64Array(n), base = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const b = cum.get(s.ts[k]) || 0, v = s.vs[k];
      base[k] = b;
      y[k] = v === v ? b + v : NaN;
      if (v === v) cum.set(s.ts[k], b + v);
    }
    s.y = y; s.base = base;
  }
}

// One pass over a series: line (and stacked area) geometry plus lone points and the value range.
// Coordinates are in data units relative to the first point, so Path2D's float32 storage keeps
// its precision; draws then map them to pixels natively instead of looping over points again.
function geometry(s) {
  const { ts, y, base, gap } = s, n = ts.length, line = new Path2D(), area = base ? new Path2D() : null;
  const dots = [], tb = n ? ts[0] : 0;
  let vb = NaN, lo = Infinity, hi = -Infinity, a = -1;
  for (let k = 0; k < n && vb !== vb; k++) vb = y[k];
  const endRun = (from, to) => {
    if (from === to) { dots.push(from); return; }
    if (!area) return;
    for (let k = to; k >= from; k--) area.lineTo(ts[k] - tb, base[k] - vb);
    area.closePath();
  };
  for (let k = 0; k < n; k++) {
    const v = y[k];
    if (v !== v) { if (a >= 0) endRun(a, k - 1); a = -1; continue; }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (area && base[k] < lo) lo = base[k];
    const px = ts[k] - tb, py = v - vb;
    if (a >= 0 && ts[k] - ts[k - 1] <= gap) { line.lineTo(px, py); area?.lineTo(px, py); continue; }
    if (a >= 0) endRun(a, k - 1);
    a = k;
    line.moveTo(px, py);
    area?.moveTo(px, py);
  }
  if (a >= 0) endRun(a, n - 1);
  return { line, area, dots, tb, vb, lo, hi };
}

// X range from options, else from all series (visible or not) so toggling doesn't rescale time.
function xRange(all, o) {
  let x0 = o.start, x1 = o.end;
  if (x0 == null || x1 == null) {
    let mn = Infinity, mx = -Infinity;
    for (const s of all) if (s.ts.length) { mn = Math.min(mn, s.ts[0]); mx = Math.max(mx, s.ts[s.ts.length - 1]); }
    if (x0 == null) x0 = Number.isFinite(mn) ? mn : (x1 ?? Date.now()) - 3 * HOUR;
    if (x1 == null) x1 = Number.isFinite(mx) ? mx : +x0 + 3 * HOUR;
  }
  x0 = +x0; x1 = +x1;
  return x1 > x0 ? [x0, x1] : [x0 - 30 * MIN, x1 + 30 * MIN];
}

function drawTimeAxis(ctx, w, f, x0, x1, X, env) {
  const { T, ph, L, pw } = f, span = x1 - x0;
  // The smallest nice step whose labels don't collide.
  const sample = ctx.measureText(formatTime(x0, span) + (span < 10 * MIN ? ':00' : '')).width + 28;
  const maxTicks = Math.max(2, Math.floor(pw / sample));
  const step = TIME_STEPS.find((s) => span / s <= maxTicks) || Math.ceil(span / maxTicks / (365 * DAY)) * 365 * DAY;
  const ticks = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) ticks.push(t);
  ctx.strokeStyle = env.grid; ctx.beginPath();
  for (const t of ticks) { const x = Math.round(X(t)) + 0.5; ctx.moveTo(x, T); ctx.lineTo(x, T + ph); }
  ctx.stroke();
  ctx.strokeStyle = env.axis;
  segment(ctx, L, T + ph + 0.5, L + pw, T + ph + 0.5);
  for (const t of ticks) {
    const s = formatTime(t, span) + (step < MIN ? `:${pad2(new Date(t).getUTCSeconds())}` : '');
    const half = ctx.measureText(s).width / 2, x = X(t);
    // Edge labels shift inwards instead of being cut off by the canvas.
    if (x - half < 0) text(ctx, s, 0, T + ph + 7, 'left', 'top', env.text, 0.75);
    else if (x + half > w) text(ctx, s, w, T + ph + 7, 'right', 'top', env.text, 0.75);
    else text(ctx, s, x, T + ph + 7, 'center', 'top', env.text, 0.75);
  }
}

function drawSeries(ctx, s, X, Y, kx, ky) {
  const g = s.geo;
  if (!(g.hi >= g.lo)) return; // nothing drawable
  // Path2D.addPath transforms geometry rather than the pen, so line width stays uniform.
  const m = new DOMMatrix([kx, 0, 0, -ky, X(g.tb), Y(g.vb)]);
  ctx.fillStyle = s.color; ctx.strokeStyle = s.color; ctx.lineWidth = 1.5;
  if (g.area) {
    const p = new Path2D();
    p.addPath(g.area, m);
    ctx.globalAlpha = 0.3; ctx.fill(p); ctx.globalAlpha = 1;
  }
  const p = new Path2D();
  p.addPath(g.line, m);
  ctx.stroke(p);
  // A lone point has no segment to stroke; show it as a dot.
  ctx.beginPath();
  for (const k of g.dots) {
    const x = X(s.ts[k]), y = Y(s.y[k]);
    ctx.moveTo(x + 2.5, y);
    ctx.arc(x, y, 2.5, 0, Math.PI * 2);
  }
  ctx.fill();
}

const lineImpl = {
  swatch: 'line',
  prep: (series) => ({ series: prepSeries(series) }),
  entries: (m) => m.series.map((s) => ({ key: s.key, label: s.label, color: s.color })),

  draw(ctx, w, h, m, o, env) {
    const all = m.series, vis = all.filter((s) => !env.hidden.has(s.key));
    const [x0, x1] = xRange(all, o);
    if (o.stacked) stack(vis); // options only change through update(), which re-preps the series

    // Y range over what is visible in the window (stacked: tops and bases).
    let lo = Infinity, hi = -Infinity;
    for (const s of vis) {
      // Unstacked geometry depends only on the data, so redraws reuse it.
      s.geo = o.stacked || !s.geo ? geometry(s) : s.geo;
      const n = s.ts.length;
      if (n && x0 <= s.ts[0] && x1 >= s.ts[n - 1]) { lo = Math.min(lo, s.geo.lo); hi = Math.max(hi, s.geo.hi); continue; }
      // Zoomed in: only points inside the window count.
      for (let k = lowerBound(s.ts, x0), b = lowerBound(s.ts, x1 + 1); k < b; k++) {
        const v = s.y[k];
        if (v === v) { if (v < lo) lo = v; if (v > hi) hi = v; }
        if (s.base && s.base[k] < lo) lo = s.base[k];
      }
    }
    const thr = o.threshold && Number.isFinite(+o.threshold.value) ? +o.threshold.value : null;
    if (thr != null) { lo = Math.min(lo, thr); hi = Math.max(hi, thr); }
    // Non-negative metrics (the usual case) get an axis that starts at zero.
    const nonNeg = !(lo < 0);
    if (Number.isFinite(lo) && hi > lo) { const p = (hi - lo) * 0.05; lo = nonNeg ? 0 : lo - p; hi += p; }

    const f = yLayout(ctx, w, h, lo, hi, o, nonNeg);
    const { T, ph, L, pw, Y } = f;
    const kx = pw / (x1 - x0), X = (t) => L + (t - x0) * kx;

    // Bands first so everything else stays readable on top of them.
    for (const b of o.bands || []) {
      const a = Math.max(x0, +b.start), e = Math.min(x1, b.end == null ? x1 : +b.end);
      if (!(e > a)) continue;
      ctx.fillStyle = b.color || 'rgba(209,50,18,0.12)';
      ctx.fillRect(X(a), T, Math.max(1, X(e) - X(a)), ph);
      if (b.label) text(ctx, ellipsize(ctx, String(b.label), X(e) - X(a) - 8), X(a) + 4, T + 4, 'left', 'top', ALARM_RED);
    }
    drawYAxis(ctx, f, env);
    drawTimeAxis(ctx, w, f, x0, x1, X, env);

    // Clipped so explicit yMin/yMax or start/end can't spill series into the axes.
    ctx.save();
    ctx.beginPath(); ctx.rect(L, T - 1, pw, ph + 2); ctx.clip();
    ctx.lineJoin = 'round';
    for (const s of vis) drawSeries(ctx, s, X, Y, kx, f.ky);
    ctx.restore();

    if (thr != null && thr >= f.ys.lo && thr <= f.ys.hi) {
      const y = Math.round(Y(thr)) + 0.5;
      ctx.strokeStyle = ALARM_RED; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
      segment(ctx, L, y, L + pw, y);
      ctx.setLineDash([]);
      const label = o.threshold.label != null ? String(o.threshold.label) : formatValue(thr, o.unit);
      const txt = ellipsize(ctx, label, pw - 8), tw = ctx.measureText(txt).width;
      const ty = y - 18 >= T ? y - 17 : y + 2;
      // A backing plate keeps the label legible over dense series.
      ctx.fillStyle = env.bg; ctx.globalAlpha = 0.85;
      ctx.fillRect(L + pw - tw - 8, ty, tw + 6, 15);
      text(ctx, txt, L + pw - 5, ty + 1, 'right', 'top', ALARM_RED);
    }
    if (!all.some((s) => s.ts.length)) drawEmpty(ctx, L + pw / 2, T + ph / 2, env);
    return { vis, x0, x1, L, T, pw, ph, X, Y };
  },

  hover(px, py, h, o) {
    if (px < h.L || px > h.L + h.pw || py < h.T - 4 || py > h.T + h.ph + 4) return null;
    // Snap to the nearest real timestamp of any visible series (binary search per series).
    const t = h.x0 + ((px - h.L) / h.pw) * (h.x1 - h.x0);
    let best = NaN, bd = Infinity;
    for (const s of h.vis) {
      const k = nearestIndex(s.ts, t);
      if (k >= 0 && Math.abs(s.ts[k] - t) < bd) { bd = Math.abs(s.ts[k] - t); best = s.ts[k]; }
    }
    if (!(best >= h.x0 && best <= h.x1)) return null;
    const pts = h.vis.map((s) => {
      const k = nearestIndex(s.ts, best);
      const ok = k >= 0 && Math.abs(s.ts[k] - best) <= s.med / 2 && s.vs[k] === s.vs[k];
      return { label: s.label, color: s.color, value: ok ? s.vs[k] : null, y: ok ? s.y[k] : null };
    });
    return {
      title: fullTime(best),
      rows: pts.map((p) => ({ label: p.label, color: p.color, value: formatValue(p.value, o.unit) })),
      info: { time: best, points: pts.map(({ label, color, value }) => ({ label, color, value })) },
      overlay(ctx, env) {
        const x = Math.round(h.X(best)) + 0.5;
        ctx.strokeStyle = env.text; ctx.lineWidth = 1; ctx.globalAlpha = 0.5;
        segment(ctx, x, h.T, x, h.T + h.ph);
        ctx.globalAlpha = 1; ctx.lineWidth = 2; ctx.strokeStyle = env.bg;
        for (const p of pts) {
          const y = p.y == null ? NaN : h.Y(p.y);
          if (!(y >= h.T && y <= h.T + h.ph)) continue;
          ctx.fillStyle = p.color;
          ctx.beginPath(); ctx.arc(x, y, 4, 0, Math.PI * 2); ctx.fill(); ctx.stroke();
        }
      },
    };
  },
};

export function lineChart(container, series, options) {
  return createChart(container, series, options, lineImpl);
}

// ---------------------------------------------------------------- bar chart

function prepItems(items) {
  return (Array.isArray(items) ? items : []).map((it, i) => {
    const label = it?.label == null ? `Item ${i + 1}` : String(it.label);
    const value = it?.value == null || it.value === '' ? NaN : +it.value;
    return { key: `${i}\u0000${label}`, label, value, color: it?.color || PALETTE[i % PALETTE.length] };
  });
}

const barImpl = {
  swatch: 'box',
  prep: (items) => ({ items: prepItems(items) }),
  entries: (m) => m.items.map((it) => ({ key: it.key, label: it.label, color: it.color })),

  draw(ctx, w, h, m, o, env) {
    const vis = m.items.filter((it) => !env.hidden.has(it.key) && Number.isFinite(it.value));
    let lo = 0, hi = 0;
    for (const it of vis) { lo = Math.min(lo, it.value); hi = Math.max(hi, it.value); }
    hi += (hi - lo) * 0.08; // headroom for the value labels above the bars
    const f = yLayout(ctx, w, h, lo, hi > lo ? hi : lo + 1, o, true);
    const { T, ph, L, pw, ys } = f;
    // Bars are not clipped, so explicit yMin/yMax clamp them instead.
    const Y = (v) => f.Y(Math.min(ys.hi, Math.max(ys.lo, v)));
    drawYAxis(ctx, f, env);

    const slot = vis.length ? pw / vis.length : pw, bw = Math.max(2, Math.min(slot * 0.6, 96));
    const y0 = Y(0), rects = [];
    vis.forEach((it, i) => {
      const x = L + i * slot + (slot - bw) / 2, y = Y(it.value), up = it.value >= 0;
      const top = Math.min(y, y0), bh = Math.max(1, Math.abs(y - y0));
      ctx.fillStyle = it.color; ctx.beginPath();
      ctx.roundRect(x, top, bw, bh, up ? [3, 3, 0, 0] : [0, 0, 3, 3]); ctx.fill();
      rects.push({ it, x: L + i * slot, w: slot, top, bh, bx: x, bw });
      const txt = formatValue(it.value, o.unit);
      if (ctx.measureText(txt).width < slot - 4) {
        text(ctx, txt, x + bw / 2, up ? top - 3 : top + bh + 3, 'center', up ? 'bottom' : 'top', env.text);
      }
      text(ctx, ellipsize(ctx, it.label, slot - 6), x + bw / 2, T + ph + 7, 'center', 'top', env.text, 0.75);
    });
    ctx.strokeStyle = env.axis;
    segment(ctx, L, Math.round(y0) + 0.5, L + pw, Math.round(y0) + 0.5);
    if (!m.items.some((it) => Number.isFinite(it.value))) drawEmpty(ctx, L + pw / 2, T + ph / 2, env);
    return { rects, T, ph };
  },

  hover(px, py, h, o) {
    const r = h.rects.find((r) => px >= r.x && px < r.x + r.w);
    if (!r || py < h.T || py > h.T + h.ph) return null;
    return {
      title: r.it.label,
      rows: [{ label: 'Value', color: r.it.color, value: formatValue(r.it.value, o.unit) }],
      info: { label: r.it.label, value: r.it.value, color: r.it.color },
      overlay(ctx, env) {
        ctx.strokeStyle = env.text; ctx.lineWidth = 1.5;
        ctx.strokeRect(r.bx - 1, r.top - 1, r.bw + 2, r.bh + 2);
      },
    };
  },
};

export function barChart(container, items, options) {
  return createChart(container, items, options, barImpl);
}

// ---------------------------------------------------------------- pie chart

const pct = (v, total) => `${(total > 0 ? (v / total) * 100 : 0).toFixed(1)}%`;

function pieSlices(m, env) {
  const vis = m.items.filter((it) => !env.hidden.has(it.key) && it.value > 0);
  return { vis, total: vis.reduce((s, it) => s + it.value, 0) };
}

const pieImpl = {
  swatch: 'box',
  prep: (items) => ({ items: prepItems(items) }),
  // Percentages follow the visible slices, so the shell rebuilds the legend on every toggle.
  entries(m, env) {
    const { total } = pieSlices(m, env);
    return m.items.map((it) => ({ key: it.key, label: it.label, color: it.color,
      extra: env.hidden.has(it.key) || !(it.value > 0) ? formatValue(it.value) : pct(it.value, total) }));
  },

  draw(ctx, w, h, m, o, env) {
    const { vis, total } = pieSlices(m, env);
    const cx = w / 2, cy = h / 2, r = Math.max(10, Math.min(w, h) / 2 - 12), slices = [];
    if (!(total > 0)) { drawEmpty(ctx, cx, cy, env); return { slices, cx, cy, r }; }
    let a = -Math.PI / 2;
    for (const it of vis) {
      const da = (it.value / total) * Math.PI * 2;
      slices.push({ it, a0: a, a1: a + da });
      ctx.fillStyle = it.color;
      ctx.beginPath(); ctx.moveTo(cx, cy); ctx.arc(cx, cy, r, a, a + da); ctx.closePath(); ctx.fill();
      a += da;
    }
    // Separators in the background colour read as gaps between slices.
    if (slices.length > 1) {
      ctx.strokeStyle = env.bg; ctx.lineWidth = 2; ctx.beginPath();
      for (const s of slices) { ctx.moveTo(cx, cy); ctx.lineTo(cx + r * Math.cos(s.a0), cy + r * Math.sin(s.a0)); }
      ctx.stroke();
    }
    ctx.font = `bold 12px ${env.font}`;
    for (const s of slices) {
      if (s.a1 - s.a0 < 0.3) continue; // too thin to hold a label; the legend has it
      const mid = (s.a0 + s.a1) / 2, d = slices.length === 1 ? 0 : r * 0.65;
      text(ctx, pct(s.it.value, total), cx + d * Math.cos(mid), cy + d * Math.sin(mid), 'center', 'middle', '#ffffff');
    }
    return { slices, cx, cy, r, total };
  },

  hover(px, py, h, o) {
    const dx = px - h.cx, dy = py - h.cy;
    if (!h.slices.length || dx * dx + dy * dy > h.r * h.r) return null;
    let a = Math.atan2(dy, dx);
    if (a < -Math.PI / 2) a += Math.PI * 2;
    const s = h.slices.find((s) => a >= s.a0 && a < s.a1) || h.slices[h.slices.length - 1];
    return {
      title: s.it.label,
      rows: [{ label: pct(s.it.value, h.total), color: s.it.color, value: formatValue(s.it.value, o.unit) }],
      info: { label: s.it.label, value: s.it.value, color: s.it.color, percent: (s.it.value / h.total) * 100 },
      // The hovered slice pops out a little along its bisector.
      overlay(ctx, env) {
        const mid = (s.a0 + s.a1) / 2, ox = h.cx + 6 * Math.cos(mid), oy = h.cy + 6 * Math.sin(mid);
        ctx.fillStyle = s.it.color; ctx.strokeStyle = env.bg; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(ox, oy); ctx.arc(ox, oy, h.r, s.a0, s.a1); ctx.closePath();
        ctx.fill(); ctx.stroke();
      },
    };
  },
};

export function pieChart(container, items, options) {
  return createChart(container, items, options, pieImpl);
}

// ---------------------------------------------------------------- single value

export function singleValue(container, items, options) {
  let opts = options || {}, drawMs = 0;
  const ellipsis = { whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' };
  function render(list) {
    const t0 = performance.now();
    const arr = Array.isArray(list) ? list : [];
    const root = el('div', { fontSize: '12px' });
    if (opts.title) root.append(el('div', { fontSize: '14px', fontWeight: '700', margin: '0 0 8px 4px' }, opts.title));
    const grid = el('div', { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(160px, 1fr))', gap: '12px' });
    if (!arr.length) grid.append(el('div', { opacity: '0.7', fontSize: '14px', padding: '16px 4px' }, 'No data available.'));
    for (const it of arr) {
      const tile = el('div', { padding: '8px 4px', minWidth: '0' });
      tile.append(el('div', { opacity: '0.75', ...ellipsis }, it?.label == null ? '' : String(it.label)),
        el('div', { fontSize: opts.fontSize || '36px', fontWeight: '300', lineHeight: '1.2',
          color: it?.color || 'inherit', ...ellipsis }, formatValue(it?.value, it?.unit ?? opts.unit)));
      grid.append(tile);
    }
    root.append(grid);
    container.replaceChildren(root);
    drawMs = performance.now() - t0;
  }
  render(items);
  return {
    update(list, o) { if (o) opts = o; render(list); },
    destroy() { container.replaceChildren(); },
    get lastDrawMs() { return drawMs; },
  };
}

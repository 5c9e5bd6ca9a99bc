// facecycle dashboard: a read-only view of facecycled's queue, runs and models. Vanilla JS, no
// build step. The token travels only in the Authorization header of fetch() calls (images too,
// shown as blob: URLs), never in a URL or a cookie.
'use strict';

const POLL_MS = 2000;
const PAIRS_PER_PAGE = 12;
const FAILURES_PER_PAGE = 20;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
  '#17becf', '#7f7f7f', '#bcbd22'];

const ui = {
  token: null,
  route: '',
  timer: null,
  generation: 0,          // bumped on navigation: a late answer for an old view is dropped
  blobs: new Map(),       // cache key -> blob: URL (bounded, oldest revoked)
  logScale: true,
  pages: {},              // 'pairs:ID' / 'failures:ID' -> page number
  compare: new Set(),     // run ids ticked on the runs page
};

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') Object.assign(el.style, v);  // CSSOM: allowed by the page's CSP
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') el.textContent = v; else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) if (c) el.append(c);
  return el;
}

const fmt = {
  time(ms) {
    if (!ms) return '–';
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  },
  duration(ms) {
    if (!ms || ms < 0) return '–';
    const sec = Math.round(ms / 1000);
    if (sec < 90) return `${sec} s`;
    if (sec < 5400) return `${Math.round(sec / 60)} min`;
    return `${(sec / 3600).toFixed(1)} h`;
  },
  num(v, digits = 3) {
    if (typeof v !== 'number' || !isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return String(Number(v.toFixed(digits)));
  },
  bytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / (1 << 20)).toFixed(1)} MB`;
  },
};

function basename(p) { return String(p || '').split('/').pop(); }

function jobTitle(j) {
  if (j.kind === 'train') return j.run_name || 'training run';
  return `${j.task || 'transform'} ${j.reverse ? 'reverse' : 'forward'}`;
}

function badge(state) { return h('span', { class: `badge state-${state}`, text: state }); }

function progressBar(fraction, label) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100);
  return h('div', { class: 'progress', title: label || `${pct} %` },
    h('div', { class: 'bar', style: { width: `${pct}%` } }),
    h('span', { text: `${pct} %` }));
}

function table(headers, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { text: t })))),
    h('tbody', {}, rows));
}

function section(title, ...children) {
  return h('section', {}, h('h2', { text: title }), children);
}

// ---------------------------------------------------------------- the API

class AuthError extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${ui.token}` } });
  if (res.status === 401) throw new AuthError((await res.json().catch(() => ({}))).error || '');
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.error || `${res.status} ${res.statusText}`);
  }
  return res.json();
}

// An image (or any file) of the API as a blob: URL; `key` says when the cached one is stale.
async function blobUrl(path, key) {
  const k = `${path}|${key || ''}`;
  if (ui.blobs.has(k)) return ui.blobs.get(k);
  const res = await fetch(path, { headers: { Authorization: `Bearer ${ui.token}` } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.error || `${res.status}`);
  }
  const url = URL.createObjectURL(await res.blob());
  ui.blobs.set(k, url);
  if (ui.blobs.size > 400) {  // a long session of paging must not hold every image
    const [oldKey, oldUrl] = ui.blobs.entries().next().value;
    ui.blobs.delete(oldKey);
    URL.revokeObjectURL(oldUrl);
  }
  return url;
}

// An <img> that loads through blobUrl; it shows the refusal instead when there is one.
function apiImage(path, key, alt, cls) {
  const img = h('img', { alt, class: cls || '', 'data-src': path });
  const box = h('figure', { class: `image ${cls || ''}` }, img);
  blobUrl(path, key).then((url) => {
    img.src = url;
    img.dataset.loaded = '1';
  }).catch((e) => {
    box.replaceChildren(h('div', { class: 'image-error', text: `${alt}: ${e.message}` }));
  });
  return box;
}

// ---------------------------------------------------------------- charts (SVG)

function niceStep(range, target) {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function linearTicks(lo, hi, target) {
  if (hi <= lo) return [lo];
  const step = niceStep(hi - lo, target);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

// Decades, and 2x/5x between them when the data spans less than two decades.
function logTicks(lo, hi) {
  const out = [];
  const span = Math.log10(hi) - Math.log10(lo);
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of span < 2 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out.length >= 3 ? out : linearTicks(lo, hi, 4).filter((v) => v > 0);
}

// A line chart: axes with ticks and labels, a legend, dashed marks (stage changes) and, when
// `log` is set and every value is positive, a log-scaled y axis.
function lineChart({ title, xLabel, yLabel, series, marks, log }) {
  const longest = Math.max(0, ...series.map((sr) => sr.name.length));
  const W = 640, H = 300, L = 62, T = 28, B = 44;
  const R = Math.min(210, 28 + longest * 6.4);  // the legend's column, right of the plot
  const pts = series.flatMap((sr) => sr.points);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': title });
  svg.append(s('text', { x: L, y: 18, class: 'chart-title', text: title }));
  if (!pts.length) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted',
      text: 'no points yet' }));
    return svg;
  }
  const useLog = log && pts.every((p) => p[1] > 0);
  const ty = useLog ? Math.log10 : (v) => v;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 = useLog ? y0 / 2 : y0 - 1; y1 = useLog ? y1 * 2 : y1 + 1; }
  const yt0 = ty(y0), yt1 = ty(y1);
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - (ty(v) - yt0) / (yt1 - yt0)) * (H - T - B);
  const axes = s('g', { class: 'axes' });
  axes.append(s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B }));
  axes.append(s('line', { x1: L, y1: T, x2: L, y2: H - B }));
  for (const v of linearTicks(x0, x1, 6)) {
    axes.append(s('line', { x1: X(v), y1: H - B, x2: X(v), y2: H - B + 4 }));
    axes.append(s('text', { x: X(v), y: H - B + 16, 'text-anchor': 'middle', text: fmt.num(v) }));
  }
  for (const v of useLog ? logTicks(y0, y1) : linearTicks(y0, y1, 5)) {
    axes.append(s('line', { x1: L, y1: Y(v), x2: W - R, y2: Y(v), class: 'grid' }));
    axes.append(s('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end', text: fmt.num(v) }));
  }
  axes.append(s('text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle',
    class: 'axis-label', text: xLabel }));
  axes.append(s('text', { x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'axis-label',
    transform: `rotate(-90 14 ${(T + H - B) / 2})`, text: yLabel + (useLog ? ' (log)' : '') }));
  svg.append(axes);
  for (const m of mergeMarks(marks || [])) {
    if (m.x <= x0 || m.x >= x1) continue;
    svg.append(s('line', { x1: X(m.x), y1: T, x2: X(m.x), y2: H - B, class: 'mark',
      stroke: m.color || '#888' }));
    svg.append(s('text', { x: X(m.x) + 3, y: T + 10, class: 'mark-label', text: m.label }));
  }
  for (const sr of series) {
    const p = sr.points.filter((q) => !useLog || q[1] > 0);
    svg.append(s('polyline', { fill: 'none', stroke: sr.color, 'stroke-width': 1.5,
      points: p.map((q) => `${X(q[0]).toFixed(1)},${Y(q[1]).toFixed(1)}`).join(' ') }));
  }
  const legend = s('g', { class: 'legend' });
  series.forEach((sr, i) => {
    const y = T + 6 + i * 15;
    legend.append(s('rect', { x: W - R + 10, y: y - 8, width: 10, height: 10, fill: sr.color }));
    legend.append(s('text', { x: W - R + 24, y: y + 1, text: sr.name }));
  });
  svg.append(legend);
  return svg;
}

// Marks at the same step (runs with the same stages) drawn once, in grey, without run names.
function mergeMarks(marks) {
  const byX = new Map();
  for (const m of marks) {
    if (!byX.has(m.x)) byX.set(m.x, []);
    byX.get(m.x).push(m);
  }
  return [...byX.values()].map((ms) => (ms.length === 1 ? ms[0]
    : { x: ms[0].x, label: ms[0].label.replace(/^#\d+ /, ''), color: '#888' }));
}

// metrics.csv (thinned by the daemon) as [step, value] points of one column.
function column(metrics, name) {
  const values = (metrics.series || {})[name] || [];
  const out = [];
  values.forEach((v, i) => { if (v !== null) out.push([metrics.steps[i], v]); });
  return out;
}

// Stage changes as chart marks: where each stage after the first begins.
function stageMarks(stages, color, prefix) {
  return (stages || []).filter((st) => st.start > 0)
    .map((st) => ({ x: st.start, label: `${prefix || ''}${st.size} px`, color }));
}

// The losses a run logs, one panel per task: "age/loss_G" -> panel "age".
function lossPanels(columns) {
  const panels = new Map();
  for (const c of columns) {
    const m = c.match(/^([^/]+)\/(loss_[^/]+)$/);
    if (!m) continue;
    if (!panels.has(m[1])) panels.set(m[1], []);
    panels.get(m[1]).push(c);
  }
  return panels;
}

function logToggle(rerender) {
  return h('label', { class: 'toggle' },
    h('input', { type: 'checkbox', checked: ui.logScale, onchange: (e) => {
      ui.logScale = e.target.checked;
      rerender();
    } }), ' log scale');
}

// ---------------------------------------------------------------- evaluation tables

// Every number of an evaluation, by path: "age/forward/judged_age_after" -> 50.7.
function flatten(prefix, v, out) {
  if (typeof v === 'number') out.set(prefix, v);
  else if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, c] of Object.entries(v)) {
      if (k === 'texture_source') continue;  // the input's, not the run's
      flatten(prefix ? `${prefix}/${k}` : k, c, out);
    }
  }
  return out;
}

// The headline of an evaluation: judged age after each age edit, share of faces read as the
// target race after each race edit.
function headline(tasks) {
  const cells = [];
  for (const [task, t] of Object.entries(tasks || {})) {
    for (const dir of ['forward', 'reverse']) {
      const d = t && t[dir];
      if (!d) continue;
      const arrow = dir === 'forward' ? '→' : '←';
      if (typeof d.judged_age_after === 'number') cells.push(`${task}${arrow} ${d.judged_age_after.toFixed(1)} y`);
      else if (typeof d.frac_target_after === 'number') cells.push(`${task}${arrow} ${Math.round(d.frac_target_after * 100)} %`);
    }
  }
  return cells.join('  ') || '–';
}

// Metrics side by side, one column per evaluation; the better value of a row is marked where
// better has a direction (share of target race: higher; cycle error: lower).
function evalTable(names, evaluations) {
  const flats = evaluations.map((e) => flatten('', e || {}, new Map()));
  const paths = [...new Set(flats.flatMap((f) => [...f.keys()]))].sort();
  if (!paths.length) return h('p', { class: 'muted', text: 'no evaluation (yet)' });
  const rows = paths.map((p) => {
    const vals = flats.map((f) => f.get(p));
    const nums = vals.filter((v) => typeof v === 'number');
    let best = null;
    if (nums.length > 1 && /frac_target_after$/.test(p)) best = Math.max(...nums);
    if (nums.length > 1 && /cycle_l1$/.test(p)) best = Math.min(...nums);
    return h('tr', {}, h('td', { class: 'metric', text: p }),
      vals.map((v) => h('td', { class: `num${v === best ? ' best' : ''}`, text: fmt.num(v, 4) })));
  });
  return table(['metric', ...names], rows, { class: 'eval' });
}

// ---------------------------------------------------------------- views

function jobRow(j) {
  const items = j.kind === 'train' ? (j.progress_message || '–') :
    `${j.items_done}/${j.items_total}` + (j.items_failed ? ` (${j.items_failed} failed)` : '');
  const when = j.finished_ms ? `ended ${fmt.time(j.finished_ms)}` : `submitted ${fmt.time(j.created_ms)}`;
  return h('tr', { class: 'job-row', 'data-job-id': j.id, 'data-state': j.state,
    'data-kind': j.kind, 'data-owner': j.owner, onclick: () => { location.hash = `#/job/${j.id}`; } },
  h('td', {}, h('a', { href: `#/job/${j.id}`, text: `#${j.id}` })),
  h('td', { text: j.kind }),
  h('td', { text: jobTitle(j) }),
  h('td', { text: j.owner }),
  h('td', { class: 'num', text: j.priority }),
  h('td', {}, badge(j.state)),
  h('td', {}, progressBar(j.progress)),
  h('td', { text: items }),
  h('td', { class: 'num', text: j.kind === 'transform' && j.items_per_s ? j.items_per_s.toFixed(2) : '–' }),
  h('td', { text: when }));
}

const JOB_HEADERS = ['job', 'kind', 'name / task', 'owner', 'priority', 'state', 'progress',
  'items', 'items/s', 'when'];

async function viewQueue() {
  const data = await api('/api/jobs');
  const groups = [['Running', ['running']], ['Queued', ['queued']],
    ['Finished', ['succeeded', 'failed', 'cancelled']]];
  const counts = Object.entries(data.counts).map(([st, n]) => h('span', { class: 'count' }, badge(st), ` ${n}`));
  const out = [h('div', { class: 'counts' }, counts.length ? counts : h('span', { class: 'muted', text: 'no jobs yet' }))];
  for (const [title, states] of groups) {
    const jobs = data.jobs.filter((j) => states.includes(j.state));
    out.push(section(`${title} (${jobs.length})`, jobs.length
      ? table(JOB_HEADERS, jobs.map(jobRow), { class: 'jobs', 'data-group': title.toLowerCase() })
      : h('p', { class: 'muted', text: 'none' })));
  }
  return { nodes: out, poll: true };
}

async function viewRuns() {
  const data = await api('/api/jobs?kind=train&limit=500');
  const runs = data.jobs;
  const go = h('button', { type: 'button', disabled: ui.compare.size < 2 || ui.compare.size > 4,
    onclick: () => { location.hash = `#/compare/${[...ui.compare].join(',')}`; } },
  `Compare ${ui.compare.size} run(s)`);
  const rows = runs.map((j) => h('tr', { class: 'job-row', 'data-job-id': j.id, 'data-state': j.state },
    h('td', {}, h('input', { type: 'checkbox', checked: ui.compare.has(j.id), onchange: (e) => {
      if (e.target.checked) ui.compare.add(j.id); else ui.compare.delete(j.id);
      go.disabled = ui.compare.size < 2 || ui.compare.size > 4;
      go.textContent = `Compare ${ui.compare.size} run(s)`;
    } })),
    h('td', {}, h('a', { href: `#/job/${j.id}`, text: `#${j.id}` })),
    h('td', { text: j.run_name || '–' }),
    h('td', { text: (j.tags || []).join(', ') || '–' }),
    h('td', {}, badge(j.state)),
    h('td', {}, progressBar(j.progress, j.progress_message)),
    h('td', { text: j.owner }),
    h('td', { text: fmt.time(j.finished_ms) }),
    h('td', { class: 'headline', text: headline(j.evaluation) })));
  return { nodes: [section('Training runs', h('p', { class: 'muted',
    text: 'Tick two to four runs to compare their curves and evaluations.' }), go,
  runs.length ? table(['', 'run', 'name', 'tags', 'state', 'progress', 'owner', 'finished',
    'evaluation (judge)'], rows, { class: 'jobs runs' }) : h('p', { class: 'muted', text: 'no training runs yet' }))],
  poll: true };
}

function jobHeader(j) {
  const facts = [['owner', j.owner], ['priority', j.priority], ['submitted', fmt.time(j.created_ms)],
    ['started', fmt.time(j.started_ms)], ['finished', fmt.time(j.finished_ms)],
    ['ran', j.started_ms ? fmt.duration((j.finished_ms || Date.now()) - j.started_ms) : '–']];
  if (j.kind === 'transform') facts.push(['items', `${j.items_done} done, ${j.items_failed} failed, ${j.items_total} in all`],
    ['items/s', j.items_per_s ? j.items_per_s.toFixed(2) : '–'], ['output folder', j.output_dir]);
  if (j.tags && j.tags.length) facts.push(['tags', j.tags.join(', ')]);
  return h('div', { class: 'job-header' },
    h('h2', {}, `#${j.id} ${jobTitle(j)} `, badge(j.state)),
    progressBar(j.progress, j.progress_message),
    j.progress_message ? h('p', { class: 'muted', text: j.progress_message }) : null,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: String(v) })])),
    j.error ? h('p', { class: 'error', text: j.error }) : null);
}

function pager(key, total, perPage, rerender) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const page = Math.min(ui.pages[key] || 0, pages - 1);
  const set = (p) => { ui.pages[key] = p; rerender(); };
  return h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: page === 0, onclick: () => set(page - 1) }, '‹ prev'),
    ` page ${page + 1} of ${pages} (${total}) `,
    h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => set(page + 1) }, 'next ›'));
}

async function transformSections(d, rerender) {
  const j = d.job;
  const pairsKey = `pairs:${j.id}`, failKey = `failures:${j.id}`;
  const [pairs, fails] = await Promise.all([
    api(`/api/jobs/${j.id}/items?state=succeeded&limit=${PAIRS_PER_PAGE}&offset=${(ui.pages[pairsKey] || 0) * PAIRS_PER_PAGE}`),
    api(`/api/jobs/${j.id}/items?state=failed&limit=${FAILURES_PER_PAGE}&offset=${(ui.pages[failKey] || 0) * FAILURES_PER_PAGE}`)]);
  const out = [];
  const pairNodes = pairs.items.map((it) => h('div', { class: 'pair' },
    apiImage(`/api/jobs/${j.id}/image?idx=${it.idx}&side=input`, '', `before ${basename(it.input)}`, 'before'),
    apiImage(`/api/jobs/${j.id}/image?idx=${it.idx}&side=output`, '', `after ${basename(it.output)}`, 'after'),
    h('p', { class: 'caption', text: `before · after — ${basename(it.output)}` +
      (it.faces_found !== null && it.faces_found !== undefined ? ` · ${it.faces_edited}/${it.faces_found} faces` : '') })));
  out.push(section('Before / after', pairs.total > PAIRS_PER_PAGE ? pager(pairsKey, pairs.total, PAIRS_PER_PAGE, rerender) : null,
    pairNodes.length ? h('div', { class: 'pairs' }, pairNodes) : h('p', { class: 'muted', text: 'no finished items yet' })));
  const failRows = fails.items.map((it) => h('tr', { class: 'failure' },
    h('td', { class: 'num', text: it.idx }), h('td', { class: 'path', text: it.input }),
    h('td', { class: 'num', text: it.attempts }), h('td', { class: 'error', text: it.error })));
  out.push(section(`Failures (${fails.total})`, fails.total > FAILURES_PER_PAGE ? pager(failKey, fails.total, FAILURES_PER_PAGE, rerender) : null,
    failRows.length ? table(['item', 'input', 'attempts', 'error'], failRows, { class: 'failures' })
      : h('p', { class: 'muted', text: 'none' })));
  if (d.transform.contact_sheet) {
    out.push(section('Contact sheet', apiImage(`/api/jobs/${j.id}/image?sheet=1`, j.finished_ms, 'contact sheet', 'sheet')));
  }
  return out;
}

function fileKey(files, path) {
  const f = files.find((x) => x.path === path);
  return f ? `${f.size}:${f.modified_ms}` : null;
}

async function trainSections(d, rerender) {
  const j = d.job, t = d.train;
  const metrics = await api(`/api/jobs/${j.id}/metrics?points=500`);
  const out = [];
  const panels = lossPanels(metrics.columns || []);
  const charts = [...panels.entries()].map(([task, cols]) => lineChart({
    title: `${task} losses`, xLabel: 'step', yLabel: 'loss', log: ui.logScale,
    marks: stageMarks(t.stages),
    series: cols.map((c, i) => ({ name: c.split('/')[1], color: COLORS[i % COLORS.length], points: column(metrics, c) })),
  }));
  for (const [key, title, yLabel] of [['judged_age_after', 'judged age after the edit', 'years'],
    ['frac_target_after', 'share read as the target race', 'fraction']]) {
    const cols = (metrics.columns || []).filter((c) => c.startsWith('eval/') && c.endsWith(key));
    if (!cols.length) continue;
    charts.push(lineChart({ title: `${title} (evaluation)`, xLabel: 'step', yLabel, log: false,
      marks: stageMarks(t.stages),
      series: cols.map((c, i) => ({ name: c.replace(/^eval\//, '').replace(`/${key}`, ''),
        color: COLORS[i % COLORS.length], points: column(metrics, c) })) }));
  }
  out.push(section('Loss curves', h('div', { class: 'chart-tools' }, logToggle(rerender),
    h('span', { class: 'muted', text: ` ${metrics.rows || 0} logged steps from metrics.csv` +
      (t.stages.length > 1 ? '; dashed lines: stage changes' : '') })),
  charts.length ? h('div', { class: 'charts', 'data-job-id': j.id }, charts) : h('p', { class: 'muted', text: 'no metrics logged yet' })));
  const pictures = t.files.filter((f) => /\.png$/.test(f.path) && !f.path.startsWith('model/'));
  out.push(section('Samples and curves', pictures.length
    ? h('div', { class: 'pictures' }, pictures.map((f) => h('div', {},
      h('p', { class: 'caption', text: `${f.path} · ${fmt.time(f.modified_ms)}` }),
      apiImage(`/api/jobs/${j.id}/file?path=${encodeURIComponent(f.path)}`, fileKey(t.files, f.path), f.path, 'sheet'))))
    : h('p', { class: 'muted', text: t.elsewhere || 'no pictures yet (written at each checkpoint)' })));
  out.push(section('Evaluation', evalTable(['value'], [t.evaluation])));
  out.push(section('Config', t.config_path ? h('p', { class: 'muted', text: t.config_path }) : null,
    h('pre', { class: 'config', text: t.config_toml })));
  out.push(section('Files', table(['file', 'size', 'modified'], t.files.map((f) => h('tr', {},
    h('td', {}, h('a', { href: '#', onclick: (e) => { e.preventDefault(); download(j.id, f.path); }, text: f.path })),
    h('td', { class: 'num', text: fmt.bytes(f.size) }), h('td', { text: fmt.time(f.modified_ms) }))))));
  return out;
}

async function download(id, path) {
  try {
    const url = await blobUrl(`/api/jobs/${id}/file?path=${encodeURIComponent(path)}`, Date.now());
    const a = h('a', { href: url, download: basename(path) });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    status(`${path}: ${e.message}`, true);
  }
}

async function viewJob(id, rerender) {
  const d = await api(`/api/jobs/${id}`);
  const open = ['queued', 'running'].includes(d.job.state);
  const body = d.job.kind === 'train' ? await trainSections(d, rerender) : await transformSections(d, rerender);
  return { nodes: [jobHeader(d.job), ...body], poll: open };
}

async function viewCompare(ids, rerender) {
  const data = await api(`/api/runs/compare?ids=${ids}`);
  const runs = data.runs;
  const metrics = await Promise.all(runs.map((r) => api(`/api/jobs/${r.job.id}/metrics?points=400`)));
  const names = runs.map((r) => `#${r.job.id} ${r.job.run_name || ''}`.trim());
  const losses = new Set();
  for (const m of metrics) for (const c of m.columns || []) if (/\/loss_(G|D_A|cycle_A|cls_fake)$/.test(c)) losses.add(c);
  const charts = [...losses].sort().map((c) => lineChart({
    title: c, xLabel: 'step', yLabel: 'loss', log: ui.logScale,
    marks: runs.flatMap((r, i) => stageMarks(r.stages, COLORS[i], `#${r.job.id} `)),
    series: runs.map((r, i) => ({ name: names[i], color: COLORS[i], points: column(metrics[i], c) }))
      .filter((sr) => sr.points.length),
  }));
  const summary = table(['run', 'state', 'owner', 'tags', 'finished', 'evaluation (judge)'], runs.map((r, i) => h('tr', {},
    h('td', {}, h('a', { href: `#/job/${r.job.id}`, text: names[i] })), h('td', {}, badge(r.job.state)),
    h('td', { text: r.job.owner }), h('td', { text: (r.job.tags || []).join(', ') || '–' }),
    h('td', { text: fmt.time(r.job.finished_ms) }), h('td', { class: 'headline', text: headline((r.evaluation || {}).tasks) }))));
  return { nodes: [section(`Comparing ${runs.length} runs`, summary),
    section('Loss curves', h('div', { class: 'chart-tools' }, logToggle(rerender)),
      charts.length ? h('div', { class: 'charts' }, charts) : h('p', { class: 'muted', text: 'no metrics logged yet' })),
    section('Evaluations side by side', evalTable(names, runs.map((r) => (r.evaluation || {}).tasks || {})))],
  poll: runs.some((r) => ['queued', 'running'].includes(r.job.state)) };
}

function modelCard(m) {
  const c = m.card || {};
  const tr = c.training || {};
  const facts = [['registered', fmt.time(m.registered_ms)], ['resolution', c.resolution],
    ['trained steps', tr.steps], ['data', tr.data], ['hardware', tr.hardware],
    ['licence', c.licence && (c.licence.name || c.licence)]];
  if (m.active) facts.unshift(['runs on', `${m.device || '?'} · ${m.precision || '?'}`]);
  const tasks = (c.metrics || {}).tasks;
  return h('article', { class: `card${m.active ? ' active' : ''}`, 'data-model': m.name },
    h('h3', {}, m.name, m.active ? h('span', { class: 'badge state-running', text: 'active' }) : null),
    c.notes ? h('p', { class: 'notes', text: String(c.notes).slice(0, 400) + (String(c.notes).length > 400 ? '…' : '') }) : null,
    h('dl', { class: 'facts' }, facts.filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => [h('dt', { text: k }), h('dd', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) })])),
    h('p', { class: 'headline', text: `evaluation: ${headline(tasks)}` }),
    tasks ? h('details', {}, h('summary', { text: 'full evaluation' }), evalTable([m.name], [tasks])) : null);
}

async function viewModels() {
  const data = await api('/api/models');
  return { nodes: [section('Models', h('p', { class: 'muted', text: `active: ${data.active || 'none'}` }),
    h('div', { class: 'cards' }, data.models.map(modelCard)))], poll: false };
}

// ---------------------------------------------------------------- routing and polling

function status(text, isError) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = isError ? 'error' : 'muted';
}

function viewFor(route) {
  let m;
  if ((m = route.match(/^\/job\/(\d+)$/))) return (re) => viewJob(m[1], re);
  if ((m = route.match(/^\/compare\/([\d,]+)$/))) return (re) => viewCompare(m[1], re);
  if (route === '/runs') return viewRuns;
  if (route === '/models') return viewModels;
  return viewQueue;
}

async function render() {
  clearTimeout(ui.timer);
  const gen = ++ui.generation;
  const route = location.hash.replace(/^#/, '') || '/';
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('current', a.getAttribute('href') === `#${route}` ||
      (route.startsWith('/compare') && a.dataset.view === 'runs'));
  }
  const main = document.getElementById('main');
  try {
    const { nodes, poll } = await viewFor(route)(render);
    if (gen !== ui.generation) return;
    const y = window.scrollY;
    main.replaceChildren(...nodes.flat().filter(Boolean));
    window.scrollTo(0, y);
    main.dataset.ready = '1';
    status(`updated ${new Date().toLocaleTimeString()}${poll ? ' · live' : ''}`);
    if (poll) ui.timer = setTimeout(render, POLL_MS);
  } catch (e) {
    if (gen !== ui.generation) return;
    if (e instanceof AuthError) return showLogin(e.message || 'the token was refused');
    main.replaceChildren(h('p', { class: 'error', text: e.message }));
    status('the daemon did not answer; retrying', true);
    ui.timer = setTimeout(render, POLL_MS * 2);
  }
}

function showLogin(message) {
  clearTimeout(ui.timer);
  sessionStorage.removeItem('fc-token');
  ui.token = null;
  document.getElementById('main').replaceChildren();
  document.getElementById('login').hidden = false;
  document.getElementById('login-error').textContent = message || '';
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
}

async function signedIn() {
  document.getElementById('login').hidden = true;
  document.getElementById('signout').hidden = false;
  try {
    const me = await api('/api/whoami');
    document.getElementById('who').textContent = `${me.user}${me.admin ? ' (admin: every user\'s jobs)' : ''}`;
  } catch (e) {
    if (e instanceof AuthError) return showLogin(e.message || 'the token was refused');
  }
  render();
}

// "#token=T" (or "#token=T&/job/5") gives the token without sending it anywhere: a fragment
// never leaves the browser. It is kept for this tab and removed from the address bar at once.
function tokenFromFragment() {
  const m = location.hash.match(/^#token=([^&]*)(?:&(.*))?$/);
  if (!m) return;
  sessionStorage.setItem('fc-token', decodeURIComponent(m[1]));
  history.replaceState(null, '', `${location.pathname}${location.search}#${m[2] || '/'}`);
}

function start() {
  tokenFromFragment();
  ui.token = sessionStorage.getItem('fc-token');
  document.getElementById('login').addEventListener('submit', (e) => {
    e.preventDefault();
    ui.token = document.getElementById('token').value.trim();
    document.getElementById('token').value = '';
    sessionStorage.setItem('fc-token', ui.token);
    signedIn();
  });
  document.getElementById('signout').addEventListener('click', () => showLogin(''));
  window.addEventListener('hashchange', () => { if (ui.token) render(); });
  if (ui.token) signedIn(); else showLogin('');
}

start();

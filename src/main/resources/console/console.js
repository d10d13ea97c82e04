// Sandflow's console: polls the daemon's JSON API and renders it. Every text that comes from a file, an agent or a
// result is set as text (never as HTML), and every such text may be Arabic, so it carries dir="auto".

const POLL_MS = 2000;
const CHART_MS = 10000;
// The lists and the chart read every job (and the results' files) on the server: while jobs keep finishing they are
// read again at most this often, and once more when the counts settle
const LISTS_MS = 10000;
const STATES = ['done', 'failed', 'running', 'pending', 'parked'];

const number = new Intl.NumberFormat();
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

let csrf = null;
let lastKey = null;
let lastChart = 0;
let lastLists = 0;
let listsBehind = false;
let results = { fields: [], rows: [], total: 0 };
let sort = { key: 'file', dir: 1 };

function money(value) {
  const n = Number(value) || 0;
  const small = n !== 0 && Math.abs(n) < 0.01;
  return new Intl.NumberFormat(undefined, {
    style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: small ? 4 : 2,
  }).format(n);
}

function human(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

function time(iso) {
  return iso ? when.format(new Date(iso)) : '—';
}

/** An element with attributes and children; strings become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** A JSON value as a reader sees it: text as it is, numbers in the reader's locale, lists joined. */
function shown(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return number.format(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.map(shown).join(', ');
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

async function getJSON(path, options = {}) {
  const response = await fetch(path, { cache: 'no-store', ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error || body.message || `${response.status} ${response.statusText}`);
    error.body = body;
    throw error;
  }
  return body;
}

function setText(id, text) {
  const node = document.getElementById(id);
  if (node.textContent !== text) node.textContent = text;
}

// ----------------------------------------------------------------------------------------------- live state

async function poll() {
  try {
    const state = await getJSON('/console/api/state');
    renderState(state);
    const key = JSON.stringify([state.status.counts, state.status.topFailures.length]);
    const changed = key !== lastKey;
    const first = lastKey === null;
    lastKey = key;
    listsBehind = listsBehind || changed;
    const due = Date.now() - lastLists >= LISTS_MS;
    if (listsBehind && (first || !changed || due)) {
      listsBehind = false;
      lastLists = Date.now();
      refreshLists();
      refreshChart();
    } else if (Date.now() - lastChart >= CHART_MS) {
      refreshChart();
    }
  } catch (e) {
    setText('live', `Cannot reach Sandflow: ${e.message}. Trying again…`);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function renderState(state) {
  const s = state.status;
  csrf = state.csrf;
  document.body.dataset.actions = state.actions ? 'on' : 'off';
  for (const name of STATES) {
    setText(`count-${name}`, number.format(s.counts[name]));
  }
  setText('count-total', number.format(s.total));
  setText('live', `${number.format(s.counts.done)} of ${number.format(s.total)} done, `
      + `${number.format(s.counts.failed)} failed, ${number.format(s.remaining)} to go`);
  setText('pace', oneDecimal.format(state.perMinute));
  setText('eta', s.etaSeconds === null ? s.eta : human(s.etaSeconds));
  setText('spend', money(s.spendUsd));
  setText('tokens-in', number.format(s.tokens.in));
  setText('tokens-out', number.format(s.tokens.out));
  setText('breaker', s.breaker);

  const holds = document.getElementById('holds');
  const list = document.getElementById('hold-list');
  holds.hidden = state.holds.length === 0;
  list.replaceChildren(...state.holds.map((h) => el('li', { dir: 'auto' },
      el('strong', { text: h.cause }), `: ${h.reason} (since ${time(h.since)})`)));

  const nodes = document.querySelector('#nodes tbody');
  nodes.replaceChildren(...s.nodes.map((n) => el('tr', {},
      el('td', { dir: 'auto', text: n.id }), el('td', { dir: 'auto', text: n.host }),
      el('td', { class: 'num', text: number.format(n.runningJobs) }),
      el('td', { text: `${human(n.heartbeatAgeSeconds)} ago` }),
      el('td', { text: n.alive ? 'running' : 'not running' }))));

  const causes = document.getElementById('causes');
  causes.replaceChildren(...(s.topFailures.length === 0 ? [el('li', { text: 'None.' })]
    : s.topFailures.map((c) => el('li', { dir: 'auto' },
        `${number.format(c.count)} ${c.state}: ${c.reason}`,
        c.files.length ? el('span', { class: 'note', text: ` (${c.files.join(', ')})` }) : null))));
}

async function refreshLists() {
  try {
    const [failed, found] = await Promise.all([getJSON('/console/api/failed'), getJSON('/console/api/results')]);
    renderFailed(failed.jobs);
    results = found;
    renderResults();
  } catch (e) {
    setText('live', `Cannot read the jobs: ${e.message}`);
  }
}

// ----------------------------------------------------------------------------------------------- failed jobs

function renderFailed(jobs) {
  document.getElementById('failed-empty').hidden = jobs.length > 0;
  document.querySelector('#failed-table tbody').replaceChildren(...jobs.map((j) => el('tr', {},
      el('td', { dir: 'auto' }, el('a', { href: `#job/${j.id}`, text: j.file })),
      el('td', { text: j.class || '' }),
      el('td', { dir: 'auto', text: j.reason || '' }),
      el('td', { class: 'num', text: number.format(j.attempts) }))));
}

// ----------------------------------------------------------------------------------------------- results

function columns() {
  return [{ key: 'file', label: 'File' }, ...results.fields.map((f) => ({ key: f, label: f, field: true })),
    { key: 'finished_at', label: 'Finished' }, { key: 'cost_usd', label: 'Cost', num: true }];
}

function cellValue(row, column) {
  return row[column.key];
}

function compare(a, b) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return shown(a).localeCompare(shown(b));
}

function renderResults() {
  const head = document.querySelector('#results-table thead tr');
  const cols = columns();
  head.replaceChildren(...cols.map((c) => {
    const th = el('th', { scope: 'col', dir: 'auto', class: c.num ? 'num' : null,
      'aria-sort': sort.key === c.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' });
    const button = el('button', { type: 'button', text: c.label });
    button.addEventListener('click', () => {
      sort = { key: c.key, dir: sort.key === c.key ? -sort.dir : 1 };
      renderResults();
      document.querySelector(`#results-table th[aria-sort]:not([aria-sort="none"]) button`).focus();
    });
    th.append(button);
    return th;
  }));
  const filter = document.getElementById('filter').value.trim().toLocaleLowerCase();
  const rows = results.rows.filter((r) => !filter || cols.some((c) => shown(cellValue(r, c))
      .toLocaleLowerCase().includes(filter)));
  rows.sort((a, b) => sort.dir * compare(cellValue(a, cols.find((c) => c.key === sort.key) || cols[0]),
      cellValue(b, cols.find((c) => c.key === sort.key) || cols[0])));
  document.querySelector('#results-table tbody').replaceChildren(...rows.map((r) => el('tr', {},
      ...cols.map((c) => {
        if (c.key === 'file') return el('td', { dir: 'auto' }, el('a', { href: `#job/${r.id}`, text: r.file }));
        if (c.key === 'finished_at') return el('td', { text: time(r.finished_at) });
        if (c.key === 'cost_usd') return el('td', { class: 'num', text: money(r.cost_usd) });
        return el('td', { dir: 'auto', 'data-field': c.key, class: typeof r[c.key] === 'number' ? 'num' : null,
          text: shown(r[c.key]) });
      }))));
  setText('results-count', results.total === 0 ? 'No result yet.'
    : `${number.format(rows.length)} of ${number.format(results.total)} result(s) shown`
      + (results.total > results.rows.length ? ` (the first ${number.format(results.rows.length)} are listed)` : ''));
}

// ----------------------------------------------------------------------------------------------- chart

async function refreshChart() {
  lastChart = Date.now();
  try {
    renderChart(await getJSON('/console/api/chart'));
  } catch (e) {
    setText('chart-summary', `Cannot read the chart: ${e.message}`);
  }
}

function renderChart(chart) {
  const area = document.getElementById('chart');
  const buckets = chart.buckets;
  const W = 720; const H = 240; const left = 40; const right = 64; const top = 12; const bottom = 28;
  const w = W - left - right; const h = H - top - bottom;
  const parts = [svg('line', { class: 'axis', x1: left, y1: top + h, x2: left + w, y2: top + h })];
  let spent = 0;
  const cumulative = buckets.map((b) => (spent += Number(b.spendUsd)));
  const most = Math.max(1, ...buckets.map((b) => b.done + b.failed));
  const maxSpend = Math.max(spent, 0.000001);
  const step = buckets.length ? w / buckets.length : w;
  buckets.forEach((b, i) => {
    const x = left + i * step + step * 0.1;
    const bw = Math.max(1, step * 0.8);
    const hd = (b.done / most) * h;
    const hf = (b.failed / most) * h;
    if (b.done) parts.push(svg('rect', { class: 'done', x, y: top + h - hd, width: bw, height: hd }));
    if (b.failed) parts.push(svg('rect', { class: 'failed', x, y: top + h - hd - hf, width: bw, height: hf }));
  });
  if (buckets.length) {
    const points = cumulative.map((c, i) => `${left + (i + 1) * step},${top + h - (c / maxSpend) * h}`);
    points.unshift(`${left},${top + h}`);
    parts.push(svg('polyline', { class: 'spend', points: points.join(' ') }));
    const first = new Date(buckets[0].start);
    const last = new Date(new Date(buckets[buckets.length - 1].start).getTime() + chart.bucketSeconds * 1000);
    parts.push(label(left, H - 8, clock.format(first), 'start'));
    parts.push(label(left + w, H - 8, clock.format(last), 'end'));
  }
  parts.push(label(left - 6, top + 10, number.format(most), 'end'));
  parts.push(label(left - 6, top + h, '0', 'end'));
  parts.push(label(left + w + 6, top + 10, money(spent), 'start'));
  area.replaceChildren(...parts);

  const finished = buckets.reduce((n, b) => n + b.done + b.failed, 0);
  const summary = document.getElementById('chart-summary');
  summary.replaceChildren(
      el('span', { class: 'legend-done', text: '■ done' }), ' ',
      el('span', { class: 'legend-failed', text: '■ failed' }),
      ` per ${human(chart.bucketSeconds)}; `, el('span', { class: 'legend-spend', text: '— spend' }),
      ` so far. ${number.format(finished)} job(s) finished, ${money(spent)} spent.`);
  document.querySelector('#chart-table tbody').replaceChildren(...buckets.filter((b) => b.done || b.failed
      || Number(b.spendUsd)).map((b) => el('tr', {}, el('td', { text: time(b.start) }),
      el('td', { class: 'num', text: number.format(b.done) }), el('td', { class: 'num', text: number.format(b.failed) }),
      el('td', { class: 'num', text: money(b.spendUsd) }))));
}

function label(x, y, text, anchor) {
  const t = svg('text', { x, y, 'text-anchor': anchor });
  t.textContent = text;
  return t;
}

// ----------------------------------------------------------------------------------------------- one job

async function showJob(id) {
  const section = document.getElementById('job');
  for (const s of document.querySelectorAll('main > section')) s.hidden = s !== section;
  setText('job-title', 'Job');
  document.getElementById('job-action').replaceChildren();
  try {
    renderJob(await getJSON(`/console/api/job?id=${encodeURIComponent(id)}`));
  } catch (e) {
    document.getElementById('job-facts').replaceChildren(el('div', {}, el('dt', { text: 'Error' }),
        el('dd', { text: e.message })));
  }
  document.getElementById('job-title').focus();
}

function renderJob(data) {
  const j = data.job;
  const title = document.getElementById('job-title');
  title.textContent = j.file;
  title.setAttribute('tabindex', '-1');
  const facts = [['State', j.state + (j.class ? ` (${j.class})` : '')], ['Reason', j.reason],
    ['Attempts', number.format(j.attempts)], ['Cost', money(j.costUsd)],
    ['Tokens in', number.format(j.tokensIn)], ['Tokens out', number.format(j.tokensOut)],
    ['Finished', time(j.finishedAt)], ['Took', j.durationSeconds === null ? '—' : human(j.durationSeconds)],
    ['Node', j.node], ['Result', j.resultFile], ['Report', j.reportFile], ['Content', j.sha256]];
  document.getElementById('job-facts').replaceChildren(...facts.filter(([, v]) => v !== null && v !== undefined
      && v !== '').map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { dir: 'auto', text: v }))));
  document.querySelector('#job-runs tbody').replaceChildren(...j.runs.map((r) => el('tr', {},
      el('td', { class: 'num', text: number.format(r.attempt) }), el('td', { text: time(r.startedAt) }),
      el('td', { text: human(r.seconds) }),
      el('td', { text: r.exitCode === null ? 'not started' : r.timedOut ? 'timed out' : String(r.exitCode) }),
      el('td', { text: r.class || 'ok' }), el('td', { dir: 'auto', text: r.reason || '' }),
      el('td', { class: 'num', text: money(r.costUsd) }), el('td', { class: 'num', text: number.format(r.tokensIn) }),
      el('td', { class: 'num', text: number.format(r.tokensOut) }), el('td', { dir: 'auto', text: r.node || '' }),
      el('td', { dir: 'auto', text: r.sandbox || '' }))));
  const doc = data.result || data.report;
  setText('job-doc-title', data.result ? 'Result' : data.report ? 'Report' : 'No result or report');
  document.getElementById('job-doc').textContent = doc ? JSON.stringify(doc, null, 2) : '';
  document.getElementById('job-doc').hidden = !doc;
  const action = document.getElementById('job-action');
  if (data.canRetry) {
    const status = el('p', { role: 'status', id: 'retry-status' });
    const button = el('button', { type: 'button', class: 'action', id: 'retry', text: 'Retry this job' });
    button.addEventListener('click', () => retry(j.id, button, status));
    action.replaceChildren(button, status);
  }
}

async function retry(id, button, status) {
  button.disabled = true;
  try {
    const done = await getJSON(`/console/api/retry?id=${encodeURIComponent(id)}`, {
      method: 'POST', headers: { 'X-Sandflow-CSRF': csrf || '' },
    });
    status.textContent = done.message;
    lastKey = null;
  } catch (e) {
    status.textContent = e.message;
    button.disabled = false;
  }
}

// ----------------------------------------------------------------------------------------------- navigation

function route() {
  const match = /^#job\/(\d+)$/.exec(location.hash);
  if (match) {
    showJob(match[1]);
    return;
  }
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id === 'job';
  const target = location.hash && document.getElementById(location.hash.slice(1));
  if (target) target.scrollIntoView();
}

document.addEventListener('DOMContentLoaded', () => {
  for (const dd of document.querySelectorAll('[data-count]')) dd.id = `count-${dd.dataset.count}`;
  document.getElementById('filter').addEventListener('input', renderResults);
  window.addEventListener('hashchange', route);
  route();
  poll();
});

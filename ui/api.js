// The REST API of eddy server (docs/rest-api.md) as the dashboard calls it, and small DOM and
// number helpers shared by the pages. Untrusted text (topic names, messages, SQL errors) only
// ever goes into the page as text nodes, never as HTML.

/** An API error: the server's {"error_code", "message"} or a network failure. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(res) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    throw new ApiError(res.status, (body && body.message) || `HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  return body;
}

// While a live page's update runs (every(), below): the JSON of the paths its stream pushed, and
// every path it read.
let live = null;

/**
 * GET a JSON document. Inside a live page's update, a path its Server-Sent Events stream
 * carries is answered from the last event instead of a request.
 */
export async function getJSON(path, signal) {
  if (live) {
    live.seen.add(path);
    const v = live.values && live.values[path];
    if (v) {
      if (v.status >= 400) throw new ApiError(v.status, (v.body && v.body.message) || `HTTP ${v.status}`);
      return v.body;
    }
  }
  return answer(await fetch(path, { signal, headers: { Accept: 'application/json' } }));
}

/** POST a JSON body; the JSON answer. */
export async function postJSON(path, body) {
  return answer(await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  }));
}

/** DELETE; the JSON answer. */
export async function del(path) {
  return answer(await fetch(path, { method: 'DELETE' }));
}

/**
 * Runs a push query (POST /v1/query, newline-delimited JSON): calls onRows(rows) with each
 * batch of rows as they arrive (each row has its changelog kind in "op"). Resolves when the
 * query ends; rejects with an ApiError when the SQL is refused or the query fails while it runs.
 * Aborting `signal` closes the connection, which cancels the query on the server.
 */
export async function pushQuery(sql, onRows, signal) {
  const res = await fetch('/v1/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
    body: JSON.stringify({ sql }),
    signal,
  });
  if (!res.ok) await answer(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop();
    const rows = [];
    for (const line of lines) {
      if (!line) continue;
      const row = JSON.parse(line);
      if (row.error !== undefined && row.op === undefined) {
        if (rows.length) onRows(rows);
        throw new ApiError(500, row.error);
      }
      rows.push(row);
    }
    if (rows.length) onRows(rows);
  }
}

/** A SQL string literal ('it''s'). */
export function sqlString(s) {
  return `'${String(s).replaceAll("'", "''")}'`;
}

/** Creates an HTML element: h('a', {href: '#/x', class: 'c'}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element, as h() does. */
export function s(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A table: headers (strings) and rows (arrays of cells: text or nodes). */
export function table(caption, headers, rows, attrs = {}) {
  return h('table', attrs,
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const rateFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function fmtInt(n) {
  return n === null || n === undefined ? '–' : intFormat.format(n);
}

/** A rate per second: 12.34 → "12.3", 12345.6 → "12,346". */
export function fmtRate(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return n >= 100 ? intFormat.format(n) : rateFormat.format(n);
}

/** 1536 → "1.5 KiB". */
export function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Seconds as "3d 4h", "2h 5m", "4m 10s", "12s". */
export function fmtDuration(sec) {
  sec = Math.max(0, Math.floor(sec));
  const d = Math.floor(sec / 86400), hr = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60), x = sec % 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${x}s`;
  return `${x}s`;
}

/** A state badge (RUNNING, FAILED, ...). */
export function stateBadge(state) {
  return h('span', { class: `badge state-${String(state).toLowerCase()}` }, state);
}

/**
 * Runs `fn` now and then every `ms`, live, until the returned stop() is called. The first run
 * reads the API with plain GETs; the /v1/ paths it read are then watched over one Server-Sent
 * Events stream (GET /v1/watch?path=...&interval_ms=ms, which pushes their JSON together every
 * `ms`), and each event runs `fn` again with its getJSON calls answered from the event. A path
 * read for the first time is fetched, and the stream reopened to carry it too. Never two runs at
 * once (an event that arrives during a run waits for it; later ones replace it). A failed run or
 * a broken stream shows in the header's connection status; EventSource reconnects by itself.
 */
export function every(ms, fn) {
  let stopped = false;
  let source = null;
  let watched = '';
  let running = false;
  let waiting = null;
  let timer = null;
  const conn = document.getElementById('conn');
  const status = (ok, text) => {
    if (!conn) return;
    conn.textContent = ok ? '● live' : `● ${text}`;
    conn.className = ok ? 'conn ok' : 'conn err';
  };
  const watch = (paths) => {
    const want = [...paths].filter((p) => p.startsWith('/v1/')).sort();
    if (want.join('\n') === watched && (source || !want.length)) return;
    if (source) source.close();
    source = null;
    watched = want.join('\n');
    if (!want.length) return;
    const q = want.map((p) => `path=${encodeURIComponent(p)}`).join('&');
    source = new EventSource(`/v1/watch?${q}&interval_ms=${ms}`);
    source.onmessage = (ev) => run(JSON.parse(ev.data));
    source.onerror = () => status(false, 'reconnecting…');
  };
  const run = async (values) => {
    if (stopped) return;
    if (running) {
      waiting = values;
      return;
    }
    running = true;
    const ctx = { values, seen: new Set() };
    live = ctx;
    try {
      await fn();
      status(true);
    } catch (e) {
      status(false, e.message);
    } finally {
      if (live === ctx) live = null;
      running = false;
    }
    if (stopped) return;
    watch(ctx.seen);
    // Nothing to watch (or the run failed before reading anything): poll.
    if (!source) timer = setTimeout(() => run(null), ms);
    if (waiting) {
      const next = waiting;
      waiting = null;
      run(next);
    }
  };
  run(null);
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (source) source.close();
  };
}

/** Shows an error message (or clears it with null) in `box`. */
export function showError(box, err) {
  box.replaceChildren();
  if (err) box.append(h('pre', { class: 'error', role: 'alert' }, err.message || String(err)));
}

/**
 * A table updated in place each poll: rows are keyed, and a cell is replaced only when its
 * content changed, so keyboard focus on a link in it survives the live updates.
 * Returns {el, update(rows)} where rows are {key, cells: [text or node, ...]}.
 */
export function liveTable(caption, headers, attrs = {}) {
  const tbody = h('tbody');
  const empty = h('tr', { class: 'empty' }, h('td', { colspan: headers.length }, 'None yet.'));
  const el = h('table', attrs, caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))), tbody);
  const byKey = new Map();
  const sig = (c) => (c instanceof Node ? (c.outerHTML ?? c.textContent) : String(c ?? ''));
  function update(rows) {
    const seen = new Set();
    rows.forEach((r, i) => {
      seen.add(r.key);
      let tr = byKey.get(r.key);
      if (!tr) {
        tr = h('tr', { 'data-key': r.key }, r.cells.map(() => h('td')));
        byKey.set(r.key, tr);
      }
      r.cells.forEach((c, k) => {
        const td = tr.children[k];
        const next = sig(c);
        if (td.dataset.sig !== next) {
          td.dataset.sig = next;
          td.replaceChildren(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
        }
      });
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    for (const [k, tr] of byKey) {
      if (!seen.has(k)) {
        tr.remove();
        byKey.delete(k);
      }
    }
    if (!rows.length) tbody.replaceChildren(empty);
    else empty.remove();
  }
  return { el, update };
}

// The SQL editor: runs a script as a push query and shows its rows as they arrive, with their
// changelog kinds (or the table they make up), explains it, or creates a pipeline from it.
// Ctrl+Enter (⌘+Enter) runs; Escape stops a running query.
import { h, getJSON, postJSON, pushQuery, showError, fmtInt, fmtRate } from '../api.js';

const MAX_ROWS = 500;
const KINDS = ['+I', '-U', '+U', '-D'];

// The text survives leaving the page (and reloading it).
const STORE = 'eddy.sql.text';

function flightsTable(bootstrap) {
  return `CREATE TABLE flights (
  \`date\`      TIMESTAMP(3),
  delay       INT,
  distance    INT,
  origin      STRING,
  destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = 'flights',
  'properties.bootstrap.servers' = '${bootstrap}',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json'
);
`;
}

/** Example scripts over the flights topic that examples/flights/replay.sh fills. */
export function examples(bootstrap) {
  return {
    'Flights: delays per airport (push query)': `${flightsTable(bootstrap)}
SELECT origin, COUNT(*) AS flights, MAX(delay) AS max_delay,
       ROUND(AVG(CAST(delay AS DOUBLE)), 2) AS avg_delay
FROM flights
GROUP BY origin;`,
    'Flights: hourly delays per airport (pipeline)': `${flightsTable(bootstrap)}
CREATE TABLE hourly_delays (
  origin        STRING,
  window_start  TIMESTAMP(3),
  window_end    TIMESTAMP(3),
  flights       BIGINT,
  avg_delay     DOUBLE,
  max_delay     INT
) WITH (
  'connector' = 'kafka',
  'topic' = 'hourly_delays',
  'properties.bootstrap.servers' = '${bootstrap}',
  'format' = 'json'
);

INSERT INTO hourly_delays
SELECT origin, window_start, window_end, COUNT(*), ROUND(AVG(CAST(delay AS DOUBLE)), 2), MAX(delay)
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;`,
  };
}

export function render(main) {
  const editor = h('textarea', {
    id: 'sql-text', class: 'editor', spellcheck: 'false', autocapitalize: 'off', rows: 16,
    'aria-describedby': 'sql-help',
  });
  editor.value = localStorage.getItem(STORE) || '';
  editor.addEventListener('input', () => localStorage.setItem(STORE, editor.value));
  const runBtn = h('button', { type: 'button', id: 'run', class: 'primary' }, 'Run');
  const stopBtn = h('button', { type: 'button', id: 'stop', disabled: true }, 'Stop');
  const explainBtn = h('button', { type: 'button', id: 'explain' }, 'Explain');
  const nameInput = h('input', { id: 'pipeline-name', type: 'text', pattern: '[A-Za-z0-9._\\-]{1,128}', placeholder: 'name', required: true });
  const createBtn = h('button', { type: 'button', id: 'create' }, 'Create pipeline');
  const example = h('select', { id: 'example' }, h('option', { value: '' }, 'Insert an example…'));
  const mode = h('select', { id: 'mode' }, h('option', { value: 'changelog' }, 'changelog (every row with its kind)'),
    h('option', { value: 'table' }, 'table (the changelog applied)'));
  const status = h('p', { id: 'query-status', role: 'status', 'aria-live': 'polite', class: 'muted' }, 'Ready.');
  const errBox = h('div', { id: 'sql-error' });
  const out = h('div', { id: 'results', class: 'scroll' });

  let controller = null;
  let columns = [];
  let changelog = [];        // the last MAX_ROWS rows, oldest first
  let counts = {};           // rows received per kind
  let materialized = new Map(); // the changelog applied: row values (JSON) → multiplicity
  let total = 0, started = 0, dirty = false, timer = null;

  getJSON('/v1/health').then((hl) => {
    for (const [label, text] of Object.entries(examples(hl.kafka_bootstrap))) {
      example.append(h('option', { value: text }, label));
    }
  }).catch(() => {});
  example.addEventListener('change', () => {
    if (!example.value) return;
    editor.value = example.value;
    localStorage.setItem(STORE, editor.value);
    example.value = '';
    editor.focus();
  });

  function renderResults() {
    dirty = false;
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    const kinds = KINDS.filter((k) => counts[k]).map((k) => `${k} ${fmtInt(counts[k])}`).join(', ');
    if (controller) status.textContent = `Running: ${fmtInt(total)} rows (${kinds || 'none yet'}), ${fmtRate(total / secs)} rows/s.`;
    const cols = columns;
    const head = h('thead', {}, h('tr', {}, mode.value === 'changelog' ? h('th', { scope: 'col' }, 'op') : null,
      cols.map((c) => h('th', { scope: 'col' }, c))));
    let rows;
    if (mode.value === 'changelog') {
      rows = changelog.slice().reverse().map((r) => h('tr', { class: `kind-${KINDS.indexOf(r.op)}` },
        h('td', { class: 'op' }, r.op), cols.map((c) => h('td', {}, cell(r[c])))));
    } else {
      const live = [];
      for (const [k, n] of materialized) for (let i = 0; i < n && live.length < MAX_ROWS; i++) live.push(JSON.parse(k));
      live.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      rows = live.map((vals) => h('tr', {}, vals.map((v) => h('td', {}, cell(v)))));
    }
    out.replaceChildren(h('table', { id: 'result-table', 'aria-label': 'Query results' }, head, h('tbody', {}, rows)));
  }
  const cell = (v) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const schedule = () => {
    if (!dirty) {
      dirty = true;
      timer = setTimeout(renderResults, 200);
    }
  };
  mode.addEventListener('change', renderResults);

  function stop() {
    if (controller) controller.abort();
  }

  async function run() {
    stop();
    showError(errBox, null);
    const mine = new AbortController();
    controller = mine;
    columns = [];
    changelog = [];
    counts = {};
    materialized = new Map();
    total = 0;
    started = Date.now();
    runBtn.disabled = true;
    stopBtn.disabled = false;
    status.textContent = 'Running…';
    out.replaceChildren();
    try {
      await pushQuery(editor.value, (rows) => {
        for (const r of rows) {
          if (!columns.length) columns = Object.keys(r).filter((k) => k !== 'op');
          counts[r.op] = (counts[r.op] || 0) + 1;
          const key = JSON.stringify(columns.map((c) => r[c]));
          const n = materialized.get(key) || 0;
          if (r.op === '+I' || r.op === '+U') materialized.set(key, n + 1);
          else if (n <= 1) materialized.delete(key);
          else materialized.set(key, n - 1);
        }
        total += rows.length;
        changelog.push(...rows.slice(-MAX_ROWS));
        if (changelog.length > MAX_ROWS) changelog.splice(0, changelog.length - MAX_ROWS);
        schedule();
      }, mine.signal);
      renderResults();
      status.textContent = `Done: ${fmtInt(total)} rows in ${((Date.now() - started) / 1000).toFixed(1)} s.`;
    } catch (e) {
      renderResults();
      if (e.name === 'AbortError') status.textContent = `Stopped after ${fmtInt(total)} rows.`;
      else {
        showError(errBox, e);
        status.textContent = 'Failed.';
      }
    } finally {
      if (controller === mine) controller = null;
      runBtn.disabled = false;
      stopBtn.disabled = true;
    }
  }

  async function explain() {
    showError(errBox, null);
    try {
      const { plan } = await postJSON('/v1/explain', { sql: editor.value });
      out.replaceChildren(h('pre', { class: 'plan', 'aria-label': 'Plan' }, plan));
      status.textContent = 'Explained.';
    } catch (e) {
      showError(errBox, e);
    }
  }

  async function create() {
    showError(errBox, null);
    const name = nameInput.value.trim();
    if (!name || !nameInput.checkValidity()) {
      showError(errBox, new Error('A pipeline name is 1 to 128 letters, digits, "-", "_" or "."'));
      nameInput.focus();
      return;
    }
    try {
      await postJSON('/v1/pipelines', { name, sql: editor.value });
      location.hash = `#/pipelines/${encodeURIComponent(name)}`;
    } catch (e) {
      showError(errBox, e);
    }
  }

  runBtn.addEventListener('click', run);
  stopBtn.addEventListener('click', stop);
  explainBtn.addEventListener('click', explain);
  createBtn.addEventListener('click', create);
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    } else if (e.key === 'Escape' && controller) {
      e.preventDefault();
      stop();
    }
  });

  main.append(
    h('h1', {}, 'SQL editor'),
    h('div', { class: 'editor-box' },
      h('label', { for: 'sql-text' }, 'SQL script (statements separated by ;)'),
      editor,
      h('p', { id: 'sql-help', class: 'muted' },
        'Ctrl+Enter runs the script as a push query (its SELECT rows stream here); Escape stops it. ',
        'Tab moves to the next control. Create pipeline runs the script (its INSERTs) on the server until cancelled.')),
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Query' },
      runBtn, stopBtn, explainBtn,
      h('label', { for: 'example', class: 'sr-only' }, 'Examples'), example,
      h('label', { for: 'mode' }, 'Show '), mode),
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Pipeline' },
      h('label', { for: 'pipeline-name' }, 'Pipeline name '), nameInput, createBtn),
    errBox, status, out);
  return () => {
    stop();
    clearTimeout(timer);
  };
}

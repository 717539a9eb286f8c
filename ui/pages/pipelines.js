// Pipelines: each with its state and, while it runs, its live rates of rows read and written.
import { h, getJSON, del, every, liveTable, fmtRate, stateBadge, showError } from '../api.js';
import { rateOf, record, history, sparkline } from '../charts.js';

/**
 * Fetches GET /v1/pipelines/{name} and records its live figures (shared by the pipeline page):
 * rows/s read (the sources' rows out, the server's 10 s rate), rows/s written (the sinks' rows
 * in, per poll) and late rows (a total). Sets rows_in_per_second on each vertex.
 */
export async function samplePipeline(name) {
  const p = await getJSON(`/v1/pipelines/${encodeURIComponent(name)}`);
  const t = Date.now();
  const vertices = (p.job && p.job.vertices) || [];
  if (p.state !== 'RUNNING' || !vertices.length) return p;
  const fed = new Set(vertices.flatMap((v) => v.inputs || []));
  let read = 0, written = 0, late = 0, wmLag = null, state = 0;
  for (const v of vertices) {
    if (v.watermark_lag_ms !== null && v.watermark_lag_ms !== undefined) wmLag = Math.max(wmLag ?? 0, v.watermark_lag_ms);
    state += v.state_bytes || 0;
    v.rows_in_per_second = rateOf(`pipe:${name}:v${v.id}:in`, v.rows_in, t) || 0;
    if (!(v.inputs || []).length) read += v.rows_out_per_second || 0;
    if (!fed.has(v.id) && (v.inputs || []).length) written += v.rows_in_per_second;
    late += v.late_rows || 0;
  }
  p.read_rate = read;
  p.written_rate = written;
  p.late_rows = late;
  record(`pipe:${name}:read`, read, t);
  record(`pipe:${name}:written`, written, t);
  record(`pipe:${name}:late`, late, t);
  if (wmLag !== null) record(`pipe:${name}:wmlag`, wmLag / 1000, t);
  record(`pipe:${name}:state`, state, t);
  return p;
}

/** Asks to confirm, then cancels pipeline `name` (DELETE /v1/pipelines/{name}). */
export async function cancelPipeline(name, errBox) {
  if (!window.confirm(`Cancel pipeline ${name}? Its job stops and its checkpoints are deleted.`)) return false;
  try {
    await del(`/v1/pipelines/${encodeURIComponent(name)}`);
    showError(errBox, null);
    return true;
  } catch (e) {
    showError(errBox, e);
    return false;
  }
}

export function render(main) {
  const errBox = h('div');
  const t = liveTable(null, ['Pipeline', 'State', 'Started', 'Ended', 'Restarts', 'Rows/s read', 'Last 5 minutes', 'Error', ''], { id: 'pipelines' });
  main.append(h('h1', {}, 'Pipelines'),
    h('p', {}, 'Create one in the ', h('a', { href: '#/sql' }, 'SQL editor'), ' or with POST /v1/pipelines.'),
    errBox, t.el);
  return every(1000, async () => {
    const { pipelines } = await getJSON('/v1/pipelines');
    const details = await Promise.all(pipelines.map((p) => (p.state === 'RUNNING' ? samplePipeline(p.name).catch(() => p) : p)));
    t.update(details.map((p) => {
      const ended = ['FINISHED', 'FAILED', 'CANCELED'].includes(p.state);
      return {
        key: p.name,
        cells: [
          h('a', { href: `#/pipelines/${encodeURIComponent(p.name)}` }, p.name), stateBadge(p.state),
          p.start_time ? new Date(p.start_time).toLocaleString() : '–',
          p.end_time ? new Date(p.end_time).toLocaleString() : '–', String(p.restarts ?? 0),
          h('span', { class: 'num rate' }, p.read_rate === undefined ? '–' : fmtRate(p.read_rate)),
          sparkline(history(`pipe:${p.name}:read`)), p.error || '',
          ended ? '' : h('button', { type: 'button', class: 'danger', 'data-cancel': p.name, onclick: () => cancelPipeline(p.name, errBox) }, `Cancel ${p.name}`),
        ],
      };
    }));
  });
}

// One pipeline: its state, the drawing of its job graph with live rates per vertex, live charts
// (rows/s read and written, late rows) over the last minutes, its SQL and its last job's summary.
import { h, every, fmtInt, fmtRate, stateBadge, table } from '../api.js';
import { history, lineChart } from '../charts.js';
import { jobGraph } from '../graph.js';
import { samplePipeline, cancelPipeline } from './pipelines.js';

function summary(j) {
  if (!j) return h('p', { class: 'muted' }, 'No job of this pipeline has ended yet.');
  return h('div', {},
    h('p', {}, `${j.ok ? 'Succeeded' : 'Failed'} after ${j.seconds.toFixed(2)} s; checkpoints completed ${j.checkpoints_completed}, failed ${j.checkpoints_failed}${j.restored_from ? `; restored from ${j.restored_from}` : ''}.`),
    table('Sources', ['Table', 'Rows read', 'Bad rows skipped', 'Dead-lettered'],
      j.sources.map((x) => [x.table, fmtInt(x.rows), fmtInt(x.bad_rows_skipped), fmtInt(x.bad_rows_dead_lettered)])),
    table('Sinks', ['Table', 'Rows written'], j.sinks.map((x) => [x.table, fmtInt(x.rows)])),
    j.late_rows.length ? table('Late rows', ['Operator', 'Rows'], j.late_rows.map((x) => [x.operator, fmtInt(x.rows)])) : null);
}

export function render(main, name) {
  const head = h('div', { class: 'pipe-head' });
  const errBox = h('div');
  const charts = h('div', { class: 'charts' });
  const graph = h('div', { id: 'graph' });
  const sqlBox = h('pre', { class: 'sql' });
  const last = h('div');
  const cancelBtn = h('button', { type: 'button', class: 'danger', id: 'cancel' }, 'Cancel pipeline');
  cancelBtn.addEventListener('click', () => cancelPipeline(name, errBox));
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/pipelines' }, 'Pipelines'), ' / '),
    h('div', { class: 'title-row' }, h('h1', {}, name), cancelBtn), head, errBox,
    h('section', { 'aria-labelledby': 'charts-h' }, h('h2', { id: 'charts-h' }, 'Live figures'), charts),
    h('section', { 'aria-labelledby': 'graph-h' }, h('h2', { id: 'graph-h' }, 'Job graph'), graph),
    h('section', { 'aria-labelledby': 'sql-h' }, h('h2', { id: 'sql-h' }, 'SQL'), sqlBox),
    h('section', { 'aria-labelledby': 'last-h' }, h('h2', { id: 'last-h' }, 'Last finished job'), last));
  let sqlShown = false;
  return every(1000, async () => {
    const p = await samplePipeline(name);
    const ended = ['FINISHED', 'FAILED', 'CANCELED'].includes(p.state);
    cancelBtn.hidden = ended;
    head.replaceChildren(h('p', { class: 'facts-line' }, stateBadge(p.state),
      ` started ${p.start_time ? new Date(p.start_time).toLocaleString() : '–'}`,
      p.end_time ? ` · ended ${new Date(p.end_time).toLocaleString()}` : '',
      ` · restarts ${p.restarts}`, ` · rows read by the running job ${fmtInt(p.job.rows_read)}`,
      p.state === 'RUNNING' ? ` · ${fmtRate(p.read_rate)} rows/s` : ''),
      p.error ? h('pre', { class: 'error' }, p.error) : '');
    charts.replaceChildren(
      lineChart('Rows/s read', history(`pipe:${name}:read`), 'rows/s', { id: 'chart-read' }),
      lineChart('Rows/s written', history(`pipe:${name}:written`), 'rows/s', { id: 'chart-written' }),
      lineChart('Late rows (total)', history(`pipe:${name}:late`), 'rows', { id: 'chart-late' }),
      lineChart('Watermark lag (s, the most behind vertex)', history(`pipe:${name}:wmlag`), 's', { id: 'chart-wmlag' }),
      lineChart('State size', history(`pipe:${name}:state`), 'bytes', { id: 'chart-state' }));
    graph.replaceChildren(jobGraph(p.job.vertices));
    if (!sqlShown) {
      sqlBox.textContent = p.sql;
      sqlShown = true;
    }
    last.replaceChildren(summary(p.last_finished_job));
  });
}

// The drawing of a pipeline's job graph: its vertices (operator chains, as GET
// /v1/pipelines/{name} gives them in topological order) laid out in columns by their distance
// from the sources, and its edges (each vertex's `inputs`) as arrows, with live figures per
// vertex.
import { h, s, fmtInt, fmtRate } from './api.js';

const W = 230, H = 78, GAP_X = 60, GAP_Y = 22, PAD = 12;

// "Source: flights -> Calc(...)" → up to two lines of at most `max` characters.
function labelLines(name, max = 34) {
  const parts = String(name).split(' -> ');
  const cut = (t) => (t.length > max ? `${t.slice(0, max - 1)}…` : t);
  if (parts.length === 1) return [cut(parts[0])];
  const rest = parts.slice(1).join(' → ');
  return [cut(parts[0]), cut(`→ ${rest}`)];
}

/** The vertices' columns: 0 for sources, else one more than the deepest input. */
export function layers(vertices) {
  const depth = [];
  vertices.forEach((v, i) => {
    const ins = (v.inputs || []).filter((j) => j >= 0 && j < i);
    depth[i] = ins.length ? 1 + Math.max(...ins.map((j) => depth[j])) : 0;
  });
  return depth;
}

/**
 * An SVG drawing of `vertices` ({id, name, parallelism, inputs, rows_in, rows_out, late_rows,
 * rows_out_per_second, and rows_in_per_second for the sinks}). Each vertex is a <g class="vertex"> with data-name and data-rate, its
 * full name in a <title>; the whole is a figure whose description lists the vertices.
 */
export function jobGraph(vertices) {
  if (!vertices || !vertices.length) {
    return h('p', { class: 'muted' }, 'No running job: the graph appears while the pipeline runs a job.');
  }
  const depth = layers(vertices);
  const rowsIn = [];
  const pos = vertices.map((v, i) => {
    const col = depth[i];
    const row = rowsIn[col] || 0;
    rowsIn[col] = row + 1;
    return { x: PAD + col * (W + GAP_X), y: PAD + row * (H + GAP_Y) };
  });
  const width = PAD * 2 + (Math.max(...depth) + 1) * (W + GAP_X) - GAP_X;
  const height = PAD * 2 + Math.max(...rowsIn) * (H + GAP_Y) - GAP_Y;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, class: 'graph', role: 'img',
    'aria-label': `Job graph with ${vertices.length} vertices: ${vertices.map((v) => v.name).join('; ')}`,
  });
  svg.append(s('defs', {}, s('marker', {
    id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrowhead' }))));
  vertices.forEach((v, i) => {
    for (const j of v.inputs || []) {
      if (!pos[j]) continue;
      const x1 = pos[j].x + W, y1 = pos[j].y + H / 2, x2 = pos[i].x, y2 = pos[i].y + H / 2;
      const mx = (x1 + x2) / 2;
      svg.append(s('path', {
        d: `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, class: 'edge', 'marker-end': 'url(#arrow)',
        'data-from': j, 'data-to': i,
      }));
    }
  });
  const fed = new Set(vertices.flatMap((v) => v.inputs || []));
  vertices.forEach((v, i) => {
    const { x, y } = pos[i];
    const kind = !(v.inputs || []).length ? 'source' : fed.has(i) ? 'op' : 'sink';
    // A sink emits nothing: its live figure is the rate of rows it receives.
    const rate = (kind === 'sink' ? v.rows_in_per_second : v.rows_out_per_second) || 0;
    const lines = labelLines(v.name);
    // Backpressure: the share of the last 10 s its busiest subtask waited for room downstream.
    const bp = v.backpressure_ratio || 0;
    const lag = v.watermark_lag_ms;
    const g = s('g', {
      class: `vertex ${kind}${rate > 0 ? ' busy' : ''}${bp >= 0.5 ? ' backpressured' : ''}`,
      'data-name': v.name, 'data-rate': rate, 'data-id': v.id, 'data-backpressure': bp,
    },
      s('title', {}, `${v.name}\nparallelism ${v.parallelism}\nrows in ${fmtInt(v.rows_in)}, out ${fmtInt(v.rows_out)}, late ${fmtInt(v.late_rows)}\n${fmtRate(rate)} rows/s ${kind === 'sink' ? 'in' : 'out'}` +
        `\nbackpressure ${Math.round(bp * 100)} %` +
        (lag === null || lag === undefined ? '' : `\nwatermark lag ${(lag / 1000).toFixed(1)} s`) +
        `\nstate ${fmtInt(v.state_keys || 0)} keys, ${fmtInt(v.state_bytes || 0)} bytes`),
      s('rect', { x, y, width: W, height: H, rx: 6 }),
      lines.map((t, k) => s('text', { x: x + 8, y: y + 16 + k * 15, class: k ? 'vname2' : 'vname' }, t)),
      s('text', { x: x + 8, y: y + H - 24, class: 'vstat' }, `×${v.parallelism} · in ${fmtInt(v.rows_in)} · out ${fmtInt(v.rows_out)}`),
      s('text', { x: x + 8, y: y + H - 8, class: 'vrate' },
        `${fmtRate(rate)} rows/s ${kind === 'sink' ? 'in' : 'out'}${v.late_rows ? ` · late ${fmtInt(v.late_rows)}` : ''}${bp >= 0.05 ? ` · bp ${Math.round(bp * 100)}%` : ''}`));
    svg.append(g);
  });
  return h('div', { class: 'graph-scroll' }, svg);
}

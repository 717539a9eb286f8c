// Hand-drawn SVG time-series charts, and the in-page history of the figures they show (kept
// while the page is open, so a chart has its last minutes when the user comes back to it).
import { h, s, fmtRate } from './api.js';

/** How long charts look back, in seconds. */
export const WINDOW_SECONDS = 300;

const histories = new Map();

/**
 * The history of series `key`: an array of {t (ms), v} over the last WINDOW_SECONDS, shared by
 * every page that samples it.
 */
export function history(key) {
  let hist = histories.get(key);
  if (!hist) {
    hist = [];
    histories.set(key, hist);
  }
  return hist;
}

/** Appends a sample to the history of `key`, dropping samples older than the window. */
export function record(key, v, t = Date.now()) {
  const hist = history(key);
  hist.push({ t, v });
  while (hist.length && hist[0].t < t - WINDOW_SECONDS * 1000) hist.shift();
  return hist;
}

/**
 * The rate per second of a growing counter: records `total` under `key + ':total'` and returns
 * (total - previous total) / seconds between them, or null for the first sample. A counter that
 * goes down (a restarted job) gives 0.
 */
export function rateOf(key, total, t = Date.now()) {
  const hist = history(`${key}:total`);
  const last = hist[hist.length - 1];
  record(`${key}:total`, total, t);
  if (!last || t <= last.t) return null;
  return Math.max(0, ((total - last.v) * 1000) / (t - last.t));
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * A line chart of `samples` ({t, v}) over the last WINDOW_SECONDS, `unit` after the numbers.
 * A figure with a title, the current value (also in its data-current attribute) and an SVG
 * with role="img" whose label says what it shows.
 */
export function lineChart(title, samples, unit, { width = 460, height = 150, id } = {}) {
  const now = Date.now();
  const pad = { l: 52, r: 10, t: 10, b: 22 };
  const w = width - pad.l - pad.r, hgt = height - pad.t - pad.b;
  const last = samples.length ? samples[samples.length - 1].v : null;
  const max = niceMax(Math.max(0, ...samples.map((p) => p.v)));
  const x = (t) => pad.l + ((t - (now - WINDOW_SECONDS * 1000)) / (WINDOW_SECONDS * 1000)) * w;
  const y = (v) => pad.t + hgt - (v / max) * hgt;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'aria-label': `${title}: ${last === null ? 'no data yet' : `${fmtRate(last)} ${unit} now`}, over the last ${WINDOW_SECONDS / 60} minutes`,
  });
  // Grid lines and their values.
  for (const f of [0, 0.5, 1]) {
    const gy = y(max * f);
    svg.append(s('line', { x1: pad.l, x2: pad.l + w, y1: gy, y2: gy, class: 'grid' }));
    svg.append(s('text', { x: pad.l - 6, y: gy + 4, class: 'axis', 'text-anchor': 'end' }, fmtRate(max * f)));
  }
  for (const m of [5, 4, 3, 2, 1, 0]) {
    svg.append(s('text', { x: x(now - m * 60000), y: height - 6, class: 'axis', 'text-anchor': 'middle' },
      m ? `-${m}m` : 'now'));
  }
  if (samples.length) {
    const d = samples.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
    const area = `${d}L${x(samples[samples.length - 1].t).toFixed(1)},${y(0)}L${x(samples[0].t).toFixed(1)},${y(0)}Z`;
    svg.append(s('path', { d: area, class: 'area' }));
    svg.append(s('path', { d, class: 'line' }));
  }
  return h('figure', { class: 'chart-box', id, 'data-current': last === null ? '' : String(last) },
    h('figcaption', {}, h('span', {}, title),
      h('strong', { class: 'current' }, last === null ? '–' : `${fmtRate(last)} ${unit}`)),
    svg);
}

/** A small sparkline of samples ({t, v}) for tables (decorative: the number is beside it). */
export function sparkline(samples, { width = 120, height = 24 } = {}) {
  const now = Date.now();
  const max = niceMax(Math.max(0, ...samples.map((p) => p.v)));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'spark', 'aria-hidden': 'true', width, height });
  if (samples.length > 1) {
    const d = samples.map((p, i) => {
      const px = ((p.t - (now - WINDOW_SECONDS * 1000)) / (WINDOW_SECONDS * 1000)) * width;
      const py = height - 2 - (p.v / max) * (height - 4);
      return `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
    }).join('');
    svg.append(s('path', { d, class: 'line' }));
  }
  return svg;
}

// Overview: the server (version, uptime, Kafka listener, what runs), its topics with their live
// rates of records in, and its pipelines.
import { h, getJSON, every, liveTable, fmtInt, fmtBytes, fmtRate, fmtDuration, stateBadge } from '../api.js';
import { record, history, sparkline } from '../charts.js';

/**
 * Polls GET /v1/topics and records each topic's records/s in (the server's rate over the last
 * 10 s) for the charts (shared with the topics page).
 */
export async function sampleTopics() {
  const { topics } = await getJSON('/v1/topics');
  const t = Date.now();
  for (const x of topics) {
    x.rate = x.records_per_second;
    if (x.rate !== null && x.rate !== undefined) record(`topic:${x.name}:rate`, x.rate, t);
  }
  return topics;
}

export function render(main) {
  const server = h('dl', { class: 'facts' });
  const topicTable = liveTable(null, ['Topic', 'Partitions', 'Records', 'Size', 'Records/s in', 'Last 5 minutes'], { id: 'overview-topics', 'aria-labelledby': 'topics-h' });
  const pipeTable = liveTable(null, ['Pipeline', 'State', 'Started', 'Error'], { id: 'overview-pipelines', 'aria-labelledby': 'pipes-h' });
  main.append(
    h('h1', {}, 'Overview'),
    h('section', { 'aria-labelledby': 'server-h' }, h('h2', { id: 'server-h' }, 'Server'), server),
    h('section', { 'aria-labelledby': 'topics-h' }, h('h2', { id: 'topics-h' }, 'Topics'), topicTable.el),
    h('section', { 'aria-labelledby': 'pipes-h' }, h('h2', { id: 'pipes-h' }, 'Pipelines'), pipeTable.el));
  return every(1000, async () => {
    const [health, topics, pipes] = await Promise.all([
      getJSON('/v1/health'), sampleTopics(), getJSON('/v1/pipelines')]);
    const fact = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
    const total = topics.reduce((a, x) => a + (x.rate || 0), 0);
    server.replaceChildren(
      ...fact('Version', `eddy ${health.version || '?'}`),
      ...fact('Up for', fmtDuration(health.uptime_seconds || 0)),
      ...fact('Kafka bootstrap', h('code', {}, health.kafka_bootstrap || '–')),
      ...fact('Pipelines running', fmtInt(health.pipelines_running)),
      ...fact('Push queries running', fmtInt(health.push_queries_running)),
      ...fact('Records/s in (all topics)', fmtRate(total)));
    topicTable.update(topics.map((x) => ({
      key: x.name,
      cells: [h('a', { href: `#/topics/${encodeURIComponent(x.name)}` }, x.name), fmtInt(x.partitions),
        fmtInt(x.records), fmtBytes(x.bytes), h('span', { class: 'num rate' }, fmtRate(x.rate)),
        sparkline(history(`topic:${x.name}:rate`))],
    })));
    pipeTable.update(pipes.pipelines.map((p) => ({
      key: p.name,
      cells: [h('a', { href: `#/pipelines/${encodeURIComponent(p.name)}` }, p.name), stateBadge(p.state),
        p.start_time ? new Date(p.start_time).toLocaleString() : '–', p.error || ''],
    })));
  });
}

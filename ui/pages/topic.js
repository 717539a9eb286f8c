// One topic: its partitions with their offsets and sizes, its rate in, and a live tail of its
// messages through a push query over the topic (POST /v1/query on a kafka table of this server).
import { h, getJSON, every, liveTable, pushQuery, sqlString, fmtInt, fmtBytes, fmtRate, showError } from '../api.js';
import { record, history, lineChart } from '../charts.js';

const MAX_TAIL = 200;

/** The push query that tails `topic` on the server's Kafka listener `bootstrap`. */
export function tailSql(topic, bootstrap, fromBeginning) {
  return `CREATE TABLE tail_src (
  \`partition\` INT METADATA VIRTUAL,
  \`offset\` BIGINT METADATA VIRTUAL,
  \`timestamp\` TIMESTAMP_LTZ(3) METADATA VIRTUAL,
  k STRING,
  v STRING
) WITH (
  'connector' = 'kafka',
  'topic' = ${sqlString(topic)},
  'properties.bootstrap.servers' = ${sqlString(bootstrap)},
  'scan.startup.mode' = '${fromBeginning ? 'earliest-offset' : 'latest-offset'}',
  'key.format' = 'raw',
  'key.fields' = 'k',
  'value.fields-include' = 'EXCEPT_KEY',
  'format' = 'raw'
);
SELECT \`partition\`, \`offset\`, \`timestamp\`, k, v FROM tail_src`;
}

export function render(main, name) {
  const facts = h('p', { class: 'facts-line' });
  const chartBox = h('div', { class: 'charts' });
  const parts = liveTable('Partitions', ['Partition', 'Start offset', 'End offset', 'Records', 'Size'], { id: 'partitions' });
  const tailBody = h('tbody');
  const tailStatus = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' }, 'Not tailing.');
  const tailErr = h('div');
  const fromStart = h('input', { type: 'checkbox', id: 'tail-from-start' });
  const startBtn = h('button', { type: 'button', id: 'tail-start' }, 'Start live tail');
  const stopBtn = h('button', { type: 'button', id: 'tail-stop', disabled: true }, 'Stop');
  let controller = null;
  let count = 0;

  const stopTail = () => {
    if (controller) controller.abort();
    controller = null;
    startBtn.disabled = false;
    stopBtn.disabled = true;
  };
  startBtn.addEventListener('click', async () => {
    stopTail();
    showError(tailErr, null);
    tailBody.replaceChildren();
    count = 0;
    startBtn.disabled = true;
    stopBtn.disabled = false;
    const mine = new AbortController();
    controller = mine;
    tailStatus.textContent = 'Waiting for messages…';
    try {
      const { kafka_bootstrap: bootstrap } = await getJSON('/v1/health');
      await pushQuery(tailSql(name, bootstrap, fromStart.checked), (rows) => {
        count += rows.length;
        for (const r of rows.slice(-MAX_TAIL)) {
          tailBody.prepend(h('tr', {}, h('td', {}, String(r.partition)), h('td', {}, String(r.offset)),
            h('td', {}, r.timestamp ?? ''), h('td', { class: 'key' }, r.k ?? ''), h('td', { class: 'msg' }, r.v ?? '')));
        }
        while (tailBody.children.length > MAX_TAIL) tailBody.lastChild.remove();
        tailStatus.textContent = `${fmtInt(count)} messages received (the newest ${Math.min(count, MAX_TAIL)} shown, newest first).`;
      }, mine.signal);
      tailStatus.textContent = `The tail ended after ${fmtInt(count)} messages.`;
    } catch (e) {
      if (e.name !== 'AbortError') showError(tailErr, e);
      tailStatus.textContent = `Stopped after ${fmtInt(count)} messages.`;
    } finally {
      if (controller === mine) stopTail();
    }
  });
  stopBtn.addEventListener('click', stopTail);

  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/topics' }, 'Topics'), ' / '),
    h('h1', {}, name), facts, chartBox, parts.el,
    h('section', { 'aria-labelledby': 'tail-h' },
      h('h2', { id: 'tail-h' }, 'Live tail'),
      h('div', { class: 'toolbar' }, startBtn, stopBtn,
        h('label', { for: 'tail-from-start' }, fromStart, ' from the beginning')),
      tailStatus, tailErr,
      h('div', { class: 'scroll' }, h('table', { id: 'tail' },
        h('caption', { class: 'sr-only' }, `Messages of ${name}, newest first`),
        h('thead', {}, h('tr', {}, ['Partition', 'Offset', 'Timestamp', 'Key', 'Value'].map((x) => h('th', { scope: 'col' }, x)))),
        tailBody))));

  const stopPoll = every(1000, async () => {
    const t = await getJSON(`/v1/topics/${encodeURIComponent(name)}`);
    const now = Date.now();
    const rate = t.records_per_second;
    if (rate !== null && rate !== undefined) record(`topic:${name}:rate`, rate, now);
    facts.textContent = `${t.partitions.length} partitions · ${fmtInt(t.records)} records · ${fmtBytes(t.bytes)} · ${fmtRate(rate)} records/s in`;
    chartBox.replaceChildren(lineChart('Records/s in', history(`topic:${name}:rate`), 'records/s', { id: 'chart-topic-rate' }));
    parts.update(t.partitions.map((p) => ({
      key: String(p.partition),
      cells: [String(p.partition), fmtInt(p.start_offset), fmtInt(p.end_offset), fmtInt(p.end_offset - p.start_offset), fmtBytes(p.bytes)],
    })));
  });
  return () => {
    stopPoll();
    stopTail();
  };
}

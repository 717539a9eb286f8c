// Topics: every topic of the log with its partitions, records, size and live rate in.
import { h, every, liveTable, fmtInt, fmtBytes, fmtRate } from '../api.js';
import { history, sparkline } from '../charts.js';
import { sampleTopics } from './overview.js';

export function render(main) {
  const t = liveTable(null, ['Topic', 'Partitions', 'Records', 'Size', 'Records/s in', 'Last 5 minutes'], { id: 'topics' });
  main.append(h('h1', {}, 'Topics'), t.el);
  return every(1000, async () => {
    const topics = await sampleTopics();
    t.update(topics.map((x) => ({
      key: x.name,
      cells: [h('a', { href: `#/topics/${encodeURIComponent(x.name)}` }, x.name), fmtInt(x.partitions),
        fmtInt(x.records), fmtBytes(x.bytes), h('span', { class: 'num rate' }, fmtRate(x.rate)),
        sparkline(history(`topic:${x.name}:rate`))],
    })));
  });
}

// Consumer groups: state, members and lag, per partition.
import { h, getJSON, every, liveTable, fmtInt } from '../api.js';

export function render(main) {
  const groups = liveTable(null, ['Group', 'State', 'Protocol', 'Members', 'Lag (records)'], { id: 'groups' });
  const parts = liveTable('Committed offsets and lag per partition', ['Group', 'Topic', 'Partition', 'Committed offset', 'End offset', 'Lag'], { id: 'group-partitions' });
  main.append(h('h1', {}, 'Consumer groups'), groups.el, h('h2', {}, 'Partitions'), parts.el);
  return every(1000, async () => {
    const { groups: list } = await getJSON('/v1/groups');
    groups.update(list.map((g) => ({
      key: g.group,
      cells: [g.group, g.state, g.protocol_type || '–', fmtInt(g.members), h('span', { class: g.lag > 0 ? 'num lag' : 'num' }, fmtInt(g.lag))],
    })));
    parts.update(list.flatMap((g) => g.partitions.map((p) => ({
      key: `${g.group}\u0000${p.topic}\u0000${p.partition}`,
      cells: [g.group, h('a', { href: `#/topics/${encodeURIComponent(p.topic)}` }, p.topic), String(p.partition),
        fmtInt(p.committed_offset), fmtInt(p.end_offset), fmtInt(p.lag)],
    }))));
  });
}

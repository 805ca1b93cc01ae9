/** The fields of an SRV record that decide its place. */
export interface SrvOrderable {
  priority: number;
  weight: number;
}

/**
 * Orders SRV records for trying one after the other (RFC 2782, "Usage rules"): lowest priority first;
 * within one priority a weighted random draw, where weight-0 records are placed first in the list and
 * so are chosen only when the draw lands on 0 or nothing else is left.
 *
 * `random` returns a number in [0, 1); inject a fixed one in tests.
 */
export function orderSrv<T extends SrvOrderable>(records: readonly T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const record of records) {
    const group = byPriority.get(record.priority);
    if (group) group.push(record);
    else byPriority.set(record.priority, [record]);
  }
  const ordered: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority)!;
    const remaining = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
    while (remaining.length > 0) {
      let total = 0;
      for (const record of remaining) total += record.weight;
      const draw = Math.floor(random() * (total + 1));
      let sum = 0;
      let chosen = remaining.length - 1;
      for (let i = 0; i < remaining.length; i++) {
        sum += remaining[i]!.weight;
        if (sum >= draw) {
          chosen = i;
          break;
        }
      }
      ordered.push(remaining[chosen]!);
      remaining.splice(chosen, 1);
    }
  }
  return ordered;
}

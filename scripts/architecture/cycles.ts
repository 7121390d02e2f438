/**
 * Import cycles: Tarjan's strongly connected components over the `src/` import graph, with one
 * shortest witness cycle per component.
 *
 * @module
 */

/** Tarjan's strongly connected components; returns one witness cycle per non-trivial SCC. */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];

  // Iterative DFS, so deep graphs cannot overflow the call stack.
  for (const root of [...graph.keys()].sort()) {
    if (idx.has(root)) continue;
    const work: { v: string; it: Iterator<string> }[] = [];
    const enter = (v: string) => {
      idx.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      work.push({ v, it: [...(graph.get(v) ?? [])].sort()[Symbol.iterator]() });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const nx = top.it.next();
      if (!nx.done) {
        const w = nx.value;
        if (!idx.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === idx.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        const selfLoop = graph.get(top.v)?.has(top.v) ?? false;
        if (scc.length > 1 || selfLoop) sccs.push(scc);
      }
    }
  }
  return sccs.map((scc) => witnessCycle(graph, new Set(scc)));
}

/** A shortest cycle through the smallest member of an SCC, by BFS inside the SCC. */
function witnessCycle(graph: ReadonlyMap<string, ReadonlySet<string>>, scc: Set<string>): string[] {
  const start = [...scc].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

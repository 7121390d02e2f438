/**
 * Level-triggered reconciliation of cluster bounds, as Kubernetes controllers do it: each loop,
 * every node compares the cluster-wide instance count of each service in its merged gossip view
 * with the service's `MinInstances`/`MaxInstances`, and the nodes act for exactly the gap. Pure:
 * no I/O, clock or randomness (ages come in measured).
 *
 * The rule (documented in docs/gossip.md, "Cluster bounds"), for a service with `n` instances
 * (running + pending, summed over every share, this node's own actions of this loop included):
 *
 * 1. **Within bounds** (`min ≤ n`, and `n ≤ max` or `max = 0`): nothing to do.
 * 2. **Cut off**: a node that considers itself partitioned (etcd unreachable, or most peers
 *    unreachable) neither fills a deficit nor stops an excess; it keeps its base services
 *    (upkeep does that apart).
 * 3. **Incomplete view**: while a live member's share has not arrived (or not been refreshed
 *    lately), nothing is done: that node may hold or just have started the instances in
 *    question.
 * 4. **No reversal within a cooldown**: a deficit is not filled within `ScaleOutCooldown` of any
 *    node's stop of the service, an excess not stopped within `ScaleInCooldown` of any node's
 *    start (ages on this node's clock, see aggregate.ts). This is the hysteresis that rules out
 *    oscillation when views briefly disagree.
 * 5. **Deficit** `d = min − n`: the nodes that can host one more instance (active, with room)
 *    are ranked by instances held (fewest first), then by a stable hash of (service, node);
 *    the first `d` start one each. A node starts at most one per loop: what remains is the
 *    next loop's deficit.
 * 6. **Excess** `e = n − max > 0` (`max > 0`): stops are dealt out one at a time to the active node holding
 *    the most removable instances (instances above the floor it keeps for its base services),
 *    ties by the same hash; a node stops what it was dealt.
 *
 * Every node computes the same ranking from the same view, so together they act for exactly
 * the gap: no gate, no herd. Views differ only while a change spreads (milliseconds: an action
 * is pushed at once; at worst a few gossip rounds), which the cooldowns cover.
 *
 * @module
 */

/** What the reconciliation knows of one service. */
export interface BoundsService {
  name: string;
  /** `MinInstances` (0: no floor). */
  min: number;
  /** `MaxInstances` (0: unlimited). */
  max: number;
  /** Per origin of the view (this node included): instances, floor kept, whether active. */
  perNode: Readonly<Record<string, { instances: number; keep: number; active: boolean }>>;
  /** Active origins with room for one more instance (from their shares). */
  canHost: readonly string[];
  /** Recent actions on the service by every node, with their ages on this node's clock, ms. */
  recent: readonly { origin: string; action: "start" | "stop"; age: number }[];
}

/** What the reconciliation knows of this node and its view. */
export interface BoundsContext {
  self: string;
  /** Why this node considers itself cut off, or undefined. */
  partitioned?: string | undefined;
  /** Live members whose share has not arrived. */
  unknownPeers: readonly string[];
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
}

/** What this node knows of itself for one service, fresher than its share. */
export interface BoundsHere {
  /** Instances this node started (+) or stopped (−) earlier in this loop. */
  done: number;
  /** Whether this node can host one more instance now (its resource ledger). */
  canHost: boolean;
  /** Instances this node keeps whatever the cluster (its base-service floor). */
  keep: number;
}

/** The verdict for this node. */
export type BoundsVerdict =
  | { action: "none"; why: string }
  | { action: "start" | "stop"; count: number; why: string };

/**
 * FNV-1a (32 bits, finalized) of `service` NUL `node`: the same rank on every node, spread over
 * the nodes from one service to the next.
 */
export function rank(service: string, node: string): number {
  let h = 0x811c9dc5;
  const s = `${service}\u0000${node}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Murmur3's finalizer: names that differ in their last character rank far apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function byRank(service: string): (a: string, b: string) => number {
  return (a, b) => rank(service, a) - rank(service, b) || (a < b ? -1 : a > b ? 1 : 0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function list(names: readonly string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(", ")}, …` : names.join(", ");
}

/** The instances per node with this node's own actions of this loop applied. */
function counts(svc: BoundsService, ctx: BoundsContext, here: BoundsHere): Map<string, number> {
  const out = new Map<string, number>();
  for (const [node, n] of Object.entries(svc.perNode)) out.set(node, n.instances);
  out.set(ctx.self, Math.max(0, (out.get(ctx.self) ?? 0) + here.done));
  return out;
}

/** Deals the deficit out: the first `d` hosts, fewest instances first, then by rank. */
export function fillers(
  svc: BoundsService,
  ctx: BoundsContext,
  here: BoundsHere,
  deficit: number,
): string[] {
  const n = counts(svc, ctx, here);
  const hosts = new Set(svc.canHost.filter((h) => h !== ctx.self && svc.perNode[h]?.active));
  if (here.canHost) hosts.add(ctx.self);
  const order = byRank(svc.name);
  return [...hosts]
    .sort((a, b) => (n.get(a) ?? 0) - (n.get(b) ?? 0) || order(a, b))
    .slice(0, Math.max(0, deficit));
}

/** Deals the excess out, one stop at a time, to the active node with the most removable. */
export function stoppers(
  svc: BoundsService,
  ctx: BoundsContext,
  here: BoundsHere,
  excess: number,
): Map<string, number> {
  const n = counts(svc, ctx, here);
  const removable = new Map<string, number>();
  for (const [node, held] of n) {
    const info = svc.perNode[node];
    const active = node === ctx.self || info?.active === true;
    const keep = node === ctx.self ? here.keep : info?.keep ?? 0;
    if (active && held > keep) removable.set(node, held - keep);
  }
  const order = byRank(svc.name);
  const dealt = new Map<string, number>();
  for (let k = 0; k < excess; k++) {
    let best: string | undefined;
    for (const [node, left] of removable) {
      if (left <= 0) continue;
      if (best === undefined) {
        best = node;
        continue;
      }
      const diff = left - removable.get(best)!;
      if (diff > 0 || (diff === 0 && order(node, best) < 0)) best = node;
    }
    if (best === undefined) break;
    removable.set(best, removable.get(best)! - 1);
    dealt.set(best, (dealt.get(best) ?? 0) + 1);
  }
  return dealt;
}

/** What this node should do now to bring `svc` back within its cluster-wide bounds. */
export function reconcileBounds(
  svc: BoundsService,
  ctx: BoundsContext,
  here: BoundsHere,
): BoundsVerdict {
  let total = 0;
  for (const held of counts(svc, ctx, here).values()) total += held;
  const deficit = svc.min - total;
  const excess = svc.max > 0 ? total - svc.max : 0;
  const bounds = `${total} in the cluster for [${svc.min}, ${svc.max > 0 ? svc.max : "∞"}]`;
  if (deficit <= 0 && excess <= 0) return { action: "none", why: `within bounds: ${bounds}` };
  if (ctx.partitioned) {
    return { action: "none", why: `cut off (${ctx.partitioned}): no cluster-wide action` };
  }
  if (ctx.unknownPeers.length > 0) {
    return {
      action: "none",
      why: `view incomplete: no share yet from ${list(ctx.unknownPeers)}`,
    };
  }
  const reversing = deficit > 0 ? "stop" : "start";
  const cooldown = deficit > 0 ? ctx.scaleOutCooldownMs : ctx.scaleInCooldownMs;
  const recent = svc.recent.find((a) => a.action === reversing && a.age < cooldown);
  if (recent) {
    return {
      action: "none",
      why: `${bounds}, but ${recent.origin} ${reversing === "stop" ? "stopped" : "started"} ` +
        `one ${seconds(recent.age)} ago (cooldown ${seconds(cooldown)})`,
    };
  }
  if (deficit > 0) {
    const chosen = fillers(svc, ctx, here, deficit);
    if (chosen.includes(ctx.self)) {
      return { action: "start", count: 1, why: `cluster min: ${bounds}` };
    }
    return {
      action: "none",
      why: chosen.length === 0
        ? `${bounds}, and no node can host one more`
        : `${bounds}: ${list(chosen)} start${chosen.length === 1 ? "s" : ""} the missing`,
    };
  }
  const dealt = stoppers(svc, ctx, here, excess);
  const mine = dealt.get(ctx.self) ?? 0;
  if (mine > 0) return { action: "stop", count: mine, why: `cluster max: ${bounds}` };
  return {
    action: "none",
    why: dealt.size === 0
      ? `${bounds}, and no active node holds a removable instance`
      : `${bounds}: ${list([...dealt.keys()])} stop the excess`,
  };
}

/**
 * This node's share of a target-tracking step (planner/target_tracking.ts). Every node computes
 * the same cluster-wide step from the same gossiped view; this deals it out deterministically,
 * as the bounds reconciliation deals a deficit (reconcile.ts), so N nodes together add or
 * remove what the formula asks, not N times. Pure.
 *
 * 1. **Cooldown** (anti_flap.ts, `cooldownHolder`): a scale-out waits for the service's
 *    scale-out `Cooldown` after any node's start; a scale-in for its scale-in `Cooldown` after
 *    any action. A peer's action in the same direction since this node's previous loop is the
 *    round this node still takes part in: it does not hold this node back.
 * 2. **Cut off**: a node that considers itself partitioned never scales in.
 * 3. **Starts**: one at a time to the host with the fewest instances (held + dealt so far), ties
 *    by the stable hash of (service, node) (`rank`); hosts are the active nodes with room for one
 *    more (their shares), this node when its ledger has room. A node may be dealt several.
 * 4. **Stops**: as the reconciliation deals an excess (`stoppers`): to the active node with the
 *    most instances above the floor it keeps for its base services.
 *
 * @module
 */

import type { ClusterService } from "../gossip/aggregate.ts";
import { cooldownHolder } from "../planner/anti_flap.ts";
import type { Tracking } from "../planner/types.ts";
import { type BoundsContext, rank, stoppers } from "./reconcile.ts";

/** What this node knows besides the view. */
export interface TrackShareInput {
  track: Tracking;
  self: string;
  view: ClusterService | undefined;
  /** The direction's cooldown, ms. */
  cooldownMs: number;
  /** Time since this node's previous loop, ms (0 on the first). */
  roundMs: number;
  /** Whether this node's ledger has room for one more instance. */
  canHost: boolean;
  /** Instances this node keeps whatever the cluster (base-service floor). */
  keep: number;
  partitioned?: string | undefined;
}

/** This node's part: how many to start or stop, or why none. */
export type TrackShare =
  | { ok: true; count: number; why: string }
  | { ok: false; why: string };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Deals `n` starts among `hosts`, fewest instances first, ties by rank. */
export function dealStarts(
  service: string,
  held: ReadonlyMap<string, number>,
  hosts: readonly string[],
  n: number,
): Map<string, number> {
  const dealt = new Map<string, number>();
  const load = (h: string) => (held.get(h) ?? 0) + (dealt.get(h) ?? 0);
  for (let k = 0; k < n && hosts.length > 0; k++) {
    let best = hosts[0]!;
    for (const h of hosts) {
      const diff = load(h) - load(best);
      if (
        diff < 0 ||
        (diff === 0 && (rank(service, h) - rank(service, best) || (h < best ? -1 : 1)) < 0)
      ) {
        best = h;
      }
    }
    dealt.set(best, (dealt.get(best) ?? 0) + 1);
  }
  return dealt;
}

/** This node's share of `track.step`. */
export function trackShare(input: TrackShareInput): TrackShare {
  const { track, self, view } = input;
  const out = track.step > 0;
  const direction = out ? "out" : "in";
  const name = track.service;
  const holder = cooldownHolder(view?.recentActions ?? [], {
    direction,
    cooldownMs: input.cooldownMs,
    roundMs: input.roundMs,
    self,
  });
  if (holder) {
    return {
      ok: false,
      why: `scale-${direction} cooldown of ${name}: ${holder.origin} ${
        holder.action === "start" ? "started" : "stopped"
      } one ${seconds(holder.age)} ago (Cooldown ${seconds(input.cooldownMs)})`,
    };
  }
  if (!out && input.partitioned) return { ok: false, why: `no scale-in: ${input.partitioned}` };
  const perNode = view?.perNode ?? {};
  const held = new Map<string, number>();
  for (const [node, info] of Object.entries(perNode)) held.set(node, info.instances);
  if (out) {
    const hosts = new Set(
      (view?.canHost ?? []).filter((h) => h !== self && perNode[h]?.active !== false),
    );
    if (input.canHost) hosts.add(self);
    const dealt = dealStarts(name, held, [...hosts].sort(), track.step);
    const mine = dealt.get(self) ?? 0;
    const others = [...dealt].filter(([n]) => n !== self).map(([n, k]) => `${n} ${k}`);
    const rest = others.length > 0 ? `; ${others.join(", ")}` : "";
    return mine > 0
      ? { ok: true, count: mine, why: `my share of +${track.step}: ${mine}${rest}` }
      : {
        ok: false,
        why: hosts.size === 0
          ? `+${track.step} wanted, and no node can host one more`
          : `+${track.step} dealt to others: ${others.join(", ")}`,
      };
  }
  const ctx: BoundsContext = {
    self,
    unknownPeers: [],
    scaleOutCooldownMs: 0,
    scaleInCooldownMs: 0,
  };
  const dealt = stoppers(
    { name, min: 0, max: 0, perNode, canHost: [], recent: [] },
    ctx,
    { done: 0, canHost: input.canHost, keep: input.keep },
    -track.step,
  );
  const mine = dealt.get(self) ?? 0;
  const others = [...dealt].filter(([n]) => n !== self).map(([n, k]) => `${n} ${k}`);
  return mine > 0 ? { ok: true, count: mine, why: `my share of ${track.step}: ${mine}` } : {
    ok: false,
    why: others.length === 0
      ? `${track.step} wanted, and no active node holds a removable instance`
      : `${track.step} dealt to others: ${others.join(", ")}`,
  };
}

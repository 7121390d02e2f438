/**
 * The loop's window on the rest of the cluster. The `Gossiper` implements it over HTTP gossip;
 * a node without gossip plans as a cluster of one with {@link soloCluster}.
 *
 * @module
 */

import type { ClusterService } from "./aggregate.ts";
import type { Clock } from "../../domain/clock.ts";
import type { LedgerAction, LocalShare, NodeShare } from "./types.ts";

/** What the loop asks of the cluster each tick. */
export interface ClusterContext {
  /** Publishes this node's share and returns the cluster's view of every service. */
  update(local: LocalShare, now: number): Record<string, ClusterService>;
  /** Records an action this node took, for the cluster-wide ledger. */
  recordAction(service: string, action: "start" | "stop", reason: string, time: number): void;
  /** Why this node considers itself cut off (no scale-in then), or undefined. */
  partitioned(): string | undefined;
  /** Live nodes (etcd) whose share is not in the view yet, or not refreshed lately. */
  unknownPeers(): string[];
  /**
   * The other nodes' shares, each with how long ago this node accepted it (ms, this node's
   * clock): the metric sources' readings are aged with it. Absent: no peers.
   */
  peerShares?(now: number): { share: NodeShare; heldMs: number }[];
  /** The live members (etcd) with their `active` flag, or undefined while unknown. */
  liveMembers?(): { name: string; active: boolean }[] | undefined;
}

/** How long a node's own actions count for the cluster cooldown, ms. */
const LEDGER_MS = 120_000;

/**
 * A cluster of one: the view is this node's own share and its own recent actions. With a
 * `clock`, the actions' ages are measured on its monotonic clock; without, on the wall times
 * given to `recordAction` and `update`.
 */
export function soloCluster(self: string, clock?: Pick<Clock, "monotonic">): ClusterContext {
  let ledger: (LedgerAction & { at: number })[] = [];
  const at = (wall: number) => clock?.monotonic() ?? wall;
  return {
    update(local, now) {
      const mono = at(now);
      ledger = ledger.filter((a) => mono - a.at < LEDGER_MS);
      const out: Record<string, ClusterService> = {};
      for (const [name, s] of Object.entries(local.services)) {
        const here = s.running + s.pending > 0;
        out[name] = {
          nodes: here ? [self] : [],
          running: s.running,
          pending: s.pending,
          canHost: local.resources.freeCpus >= s.cpuNumber ? [self] : [],
          perNode: {
            [self]: { instances: s.running + s.pending, keep: s.keep ?? 0, active: local.active },
          },
          recentActions: ledger.filter((a) => a.service === name).map((a) => ({
            origin: self,
            action: a.action,
            time: a.time,
            age: Math.max(0, mono - a.at),
            reason: a.reason,
          })),
          ...(s.cpu_avg !== undefined ? { cpu_avg: s.cpu_avg } : {}),
          ...(s.memory_avg !== undefined ? { memory_avg: s.memory_avg } : {}),
          analytics: s.analytics,
        };
      }
      return out;
    },
    recordAction(service, action, reason, time) {
      ledger.unshift({ service, action, time, reason, at: clock ? clock.monotonic() : time });
    },
    partitioned: () => undefined,
    unknownPeers: () => [],
  };
}

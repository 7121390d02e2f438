/**
 * The agent's own metrics (served in Prometheus text format at `/metrics`). Agent code calls
 * these; the Prometheus registry in `src/adapters/prometheus/` implements them. Calls are cheap
 * and never throw.
 *
 * @module
 */

/** Loop phases. */
export type LoopPhase = "monitor" | "analyze" | "plan" | "execute" | "total";

/** Dependencies whose errors are counted. */
export type Dependency = "etcd" | "docker" | "metrics" | "gossip";

/**
 * Why a gossip entry (or a whole message, for `sender`) was dropped: its origin has no public
 * key in the membership, it carries no or a wrong signature, its version, time or an action
 * lies beyond now + the allowed skew, it is over the size limit, the view is full, or the
 * message's sender is not a live member (or not its certificate's name).
 */
export type GossipRejection =
  | "unknown_origin"
  | "unsigned"
  | "bad_signature"
  | "future_version"
  | "future_time"
  | "future_action"
  | "too_large"
  | "capacity"
  | "sender";

/** The agent's self-metrics. */
export interface Telemetry {
  /** One loop phase took `ms`. */
  loopPhase(phase: LoopPhase, ms: number): void;
  /** A decision was made: its policy and outcome (executed, blocked, dry-run, failed, none). */
  decision(policy: string, outcome: string): void;
  /**
   * A shadow strategy (`Autonomic.ShadowStrategies`) would have chosen `policy`; `agrees` when
   * that is what the chosen strategy chose. Optional: telemetry without it drops the count.
   */
  shadowDecision?(strategy: string, policy: string, agrees: boolean): void;
  /** A container action ended: `ok` or `failed`. */
  action(action: "start" | "stop", outcome: "ok" | "failed"): void;
  /** A gossip round ended with `reached` of `asked` friends. */
  gossipRound(reached: number, asked: number): void;
  /** A call to a dependency failed. */
  dependencyError(dependency: Dependency): void;
  /** Gossip entries (or a message) dropped, by reason. */
  gossipRejected(reason: GossipRejection, count?: number): void;
}

/** A telemetry that records nothing. */
export const noTelemetry: Telemetry = {
  loopPhase() {},
  decision() {},
  action() {},
  gossipRound() {},
  dependencyError() {},
  gossipRejected() {},
};

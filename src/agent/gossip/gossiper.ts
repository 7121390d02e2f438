/**
 * Gossip between agents: every `Communication.LoopTimeInterval` seconds, push-pull with up to
 * `MaxFriends` random live peers (membership from the etcd watch), exchanging versioned
 * per-node shares (services, resources, recent actions). Each exchange has a timeout, so a hung
 * or dead peer never stalls a round (docs/compat.md#d33). The merged view feeds the loop through the
 * `ClusterContext` it implements.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../../domain/clock.ts";
import { repeat } from "../../domain/repeat.ts";
import type { Prng } from "../../domain/random.ts";
import { errorMessage, ValidationError } from "../../domain/errors.ts";
import type { Membership } from "../membership.ts";
import type { ClusterContext } from "./cluster_context.ts";
import { GossipView } from "./view.ts";
import { pickFriends } from "./friends.ts";
import { aggregateServices, type ClusterService } from "./aggregate.ts";
import { gossipRequest, replyTo } from "./exchange.ts";
import type { GossipMessage, LedgerAction, LocalShare, NodeShare } from "./types.ts";
import type { Telemetry } from "../../ports/telemetry.ts";

const log = getLogger(["gru", "agent", "gossip"]);

/** Sends a message to a peer and returns its reply. */
export type GossipTransport = (
  address: string,
  message: GossipMessage,
  timeoutMs: number,
) => Promise<GossipMessage>;

/** Gossip settings, read every round. */
export interface GossipSettings {
  intervalMs: number;
  maxFriends: number;
}

/** Options of `Gossiper`. */
export interface GossiperOptions {
  self: string;
  cluster: string;
  clock: Clock;
  prng: Prng;
  membership: Membership;
  transport: GossipTransport;
  settings: () => GossipSettings;
  /** Whether this node is registered in etcd now. */
  registered: () => boolean;
  /** This node's share when the loop has not published one lately (loop inactive). */
  fallbackShare: () => LocalShare;
  telemetry?: Telemetry | undefined;
}

/** Counters for /metrics and tests. */
export interface GossipStats {
  rounds: number;
  exchanges: number;
  failures: number;
  received: number;
  /** Friends reached / asked in the last round. */
  lastReached: number;
  lastAsked: number;
}

/** The gossip participant of one agent. */
export class Gossiper implements ClusterContext {
  readonly view: GossipView;
  readonly stats: GossipStats = {
    rounds: 0,
    exchanges: 0,
    failures: 0,
    received: 0,
    lastReached: 0,
    lastAsked: 0,
  };
  #options: GossiperOptions;
  #ledger: LedgerAction[] = [];
  #lastPublish = 0;
  #abort = new AbortController();
  #task: Promise<void> | undefined;
  #recentReach: { reached: number; asked: number }[] = [];
  #lastLocal: LocalShare | undefined;
  #inRound = false;
  #again = false;

  constructor(options: GossiperOptions) {
    this.#options = options;
    // Dead nodes leave with their etcd lease (membership); the age limit is a backstop for
    // entries that stop being refreshed while etcd cannot be read.
    this.view = new GossipView({ self: options.self, maxAgeMs: 60_000 });
  }

  /** Starts the rounds. */
  start(): void {
    this.#task ??= this.#run();
  }

  /** Stops the rounds. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    await this.#task?.catch(() => {});
  }

  #publish(local: LocalShare, now: number): NodeShare {
    this.#lastLocal = structuredClone(local);
    this.#ledger = this.#ledger.filter((a) => now - a.time < 120_000);
    this.#lastPublish = now;
    return this.view.publish({
      time: now,
      active: local.active,
      services: local.services,
      resources: local.resources,
      actions: [...this.#ledger],
    });
  }

  /** Publishes this node's share (called by the loop) and returns the cluster view. */
  update(local: LocalShare, now: number): Record<string, ClusterService> {
    this.#publish(local, now);
    this.view.expire(now, this.#live());
    return aggregateServices(this.view.entries());
  }

  /**
   * Adds an action of this node to its ledger and spreads it at once (an extra round), so
   * peers see the cluster cooldown before their next loop rather than after a gossip interval.
   */
  recordAction(service: string, action: "start" | "stop", reason: string, time: number): void {
    this.#ledger.unshift({ service, action, time, reason: reason.slice(0, 200) });
    if (this.#lastLocal) {
      const local = this.#lastLocal;
      const s = local.services[service];
      if (s && action === "start") s.pending++;
      this.#publish(local, this.#options.clock.now());
    }
    this.#kick();
  }

  #kick(): void {
    if (this.#abort.signal.aborted || !this.#task) return;
    if (this.#inRound) {
      this.#again = true;
      return;
    }
    this.round().catch((err) =>
      log.debug("Extra gossip round failed: {error}", { error: errorMessage(err) })
    );
  }

  /** Why this node should not scale in: etcd unreachable, or most peers unreachable. */
  partitioned(): string | undefined {
    if (!this.#options.registered()) return "this node cannot reach etcd";
    const asked = this.#recentReach.reduce((s, r) => s + r.asked, 0);
    const reached = this.#recentReach.reduce((s, r) => s + r.reached, 0);
    if (asked >= 2 && reached * 2 < asked) {
      return `reached only ${reached} of ${asked} peers in the last rounds`;
    }
    return undefined;
  }

  /** Live nodes (etcd) whose share has not reached this node yet. */
  unknownPeers(): string[] {
    const held = new Set(this.view.origins());
    return [...this.#options.membership.nodes.keys()].filter((n) =>
      n !== this.#options.self && !held.has(n)
    );
  }

  #live(): ReadonlySet<string> | undefined {
    const m = this.#options.membership;
    return m.healthy ? new Set(m.nodes.keys()) : undefined;
  }

  /** Handles a peer's push: merges its entries and replies with ours (push-pull). */
  receive(message: GossipMessage): GossipMessage {
    if (message.cluster !== this.#options.cluster) {
      throw new ValidationError(
        `Gossip for cluster "${message.cluster}" reached a node of cluster "${this.#options.cluster}"`,
      );
    }
    this.stats.received++;
    const now = this.#options.clock.now();
    // Reply from what we held before the merge: with a digest (delta request), exactly the
    // entries newer than the sender's; without one, those newer than what it sent.
    let reply: GossipMessage;
    if (message.digest !== undefined) {
      reply = replyTo(this.view, message, { cluster: this.#options.cluster });
    } else {
      const sent = new Map(message.entries.map((e) => [e.origin, e.version]));
      reply = {
        cluster: this.#options.cluster,
        from: this.#options.self,
        entries: this.view.entries().filter((e) => (sent.get(e.origin) ?? -1) < e.version),
      };
    }
    this.view.merge(message.entries, now);
    return reply;
  }

  /** One round: expire, publish, exchange with up to MaxFriends random peers. */
  async round(): Promise<void> {
    if (this.#inRound) {
      this.#again = true;
      return;
    }
    this.#inRound = true;
    try {
      do {
        this.#again = false;
        await this.#round();
      } while (this.#again && !this.#abort.signal.aborted);
    } finally {
      this.#inRound = false;
    }
  }

  async #round(): Promise<void> {
    const now = this.#options.clock.now();
    const settings = this.#options.settings();
    this.view.expire(now, this.#live());
    if (now - this.#lastPublish > 2 * settings.intervalMs) {
      this.#publish(this.#options.fallbackShare(), now);
    }
    const peers = [...this.#options.membership.nodes.values()].filter((n) =>
      n.config.name !== this.#options.self
    );
    this.stats.rounds++;
    if (peers.length === 0) {
      this.#noteReach(0, 0);
      return;
    }
    const names = pickFriends(
      peers.map((p) => p.config.name),
      settings.maxFriends,
      this.#options.prng,
    );
    const byName = new Map(peers.map((p) => [p.config.name, p]));
    // Delta: push what changed lately (two intervals, for timer drift) and the digest of all
    // held versions; the friend answers with exactly what is newer than the digest.
    const message = gossipRequest(this.view, {
      cluster: this.#options.cluster,
      now,
      mode: "delta",
      pushWindowMs: 2 * settings.intervalMs,
    });
    const timeout = Math.max(200, Math.min(2000, settings.intervalMs));
    const results = await Promise.allSettled(names.map(async (name) => {
      const peer = byName.get(name)!;
      const reply = await this.#options.transport(peer.config.address, message, timeout);
      this.view.merge(reply.entries, this.#options.clock.now());
    }));
    let reached = 0;
    results.forEach((r, i) => {
      this.stats.exchanges++;
      if (r.status === "fulfilled") reached++;
      else {
        this.stats.failures++;
        log.debug("Gossip with {peer} failed: {error}", {
          peer: names[i],
          error: errorMessage(r.reason),
        });
      }
    });
    this.#noteReach(reached, names.length);
  }

  #noteReach(reached: number, asked: number) {
    this.#options.telemetry?.gossipRound(reached, asked);
    this.stats.lastReached = reached;
    this.stats.lastAsked = asked;
    this.#recentReach.push({ reached, asked });
    if (this.#recentReach.length > 3) this.#recentReach.shift();
  }

  #run(): Promise<void> {
    return repeat(() => this.round(), {
      clock: this.#options.clock,
      signal: this.#abort.signal,
      delayMs: () => this.#options.settings().intervalMs,
      onError: (err) => log.warn("Gossip round failed: {error}", { error: errorMessage(err) }),
    });
  }
}

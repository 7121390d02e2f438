/**
 * Gossip between agents: every `Communication.LoopTimeInterval` seconds, push-pull with up to
 * `MaxFriends` random live peers (membership from the etcd watch), exchanging versioned
 * per-node shares (services, resources, recent actions). Each exchange has a timeout, so a hung
 * or dead peer never stalls a round (docs/compat.md#d33). The merged view feeds the loop through the
 * `ClusterContext` it implements.
 *
 * Every share this node publishes is signed with its key (signing.ts); what it receives goes
 * through its intake (intake.ts): every entry is checked before it is merged (admission.ts) and
 * every message's sender must be a live member (and the peer certificate's name, when the API
 * knows it).
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
import { gossipRequest } from "./exchange.ts";
import type { GossipMessage, LedgerAction, LocalShare, NodeShare } from "./types.ts";
import type { Telemetry } from "../../ports/telemetry.ts";
import { canonicalShare, type ShareSigner, ShareVerifier } from "./signing.ts";
import { DEFAULT_MAX_SKEW_MS, GossipIntake, type IntakeStats } from "./intake.ts";
import { GOSSIP_LIMITS } from "./types.ts";

export { DEFAULT_MAX_SKEW_MS } from "./intake.ts";

const log = getLogger(["gru", "agent", "gossip"]);

/** How long this node's actions stay in its ledger (and count for cluster cooldowns), ms. */
const LEDGER_MS = 120_000;

/** Gossip intervals without a fresh share after which a live peer counts as unknown. */
const STALE_ROUNDS = 8;

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
  /**
   * How far ahead of this node's clock a received version, time or action may be, ms
   * (`Communication.MaxClockSkew`); absent: the `maxSkewMs` option.
   */
  maxSkewMs?: number;
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
  /** Signs this node's shares (its key pair from the identity file). */
  signer: ShareSigner;
  /** How far ahead of this node's clock a received version or action time may be, ms. @default 30000 */
  maxSkewMs?: number;
  /** Other origins (and tombstones) the view holds at most. @default 1024 */
  maxOrigins?: number;
  telemetry?: Telemetry | undefined;
}

/** Counters for /metrics and tests (`received` and `rejected` are the intake's). */
export interface GossipStats extends IntakeStats {
  rounds: number;
  exchanges: number;
  failures: number;
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
    rejected: {},
  };
  readonly verifier: ShareVerifier;
  #options: GossiperOptions;
  #intake: GossipIntake;
  /** This node's recent actions; `at` is the monotonic clock when it was taken. */
  #ledger: (LedgerAction & { at: number })[] = [];
  #lastPublish = 0;
  #abort = new AbortController();
  #task: Promise<void> | undefined;
  #recentReach: { reached: number; asked: number }[] = [];
  #lastLocal: LocalShare | undefined;
  #inRound = false;
  #again = false;
  /** The signature of the last published share, in flight. */
  #signing: Promise<void> = Promise.resolve();
  #tooLargeWarned = false;

  constructor(options: GossiperOptions) {
    this.#options = options;
    const maxOrigins = options.maxOrigins ?? 1024;
    // Dead nodes leave with their etcd lease (membership); the age limit is a backstop for
    // entries that stop being refreshed while etcd cannot be read.
    this.view = new GossipView({ self: options.self, maxAgeMs: 60_000, maxOrigins });
    this.verifier = new ShareVerifier(options.cluster, { maxOrigins: maxOrigins + 1 });
    this.#intake = new GossipIntake({
      ...options,
      maxSkewMs: () => options.settings().maxSkewMs ?? options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
      view: this.view,
      verifier: this.verifier,
      stats: this.stats,
      signed: () => this.#signing,
    });
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
    // Ages on the monotonic clock: an NTP step here neither ages nor rejuvenates an action.
    const mono = this.#options.clock.monotonic();
    this.#ledger = this.#ledger.filter((a) => mono - a.at < LEDGER_MS);
    this.#lastPublish = now;
    const share = this.view.publish({
      time: now,
      active: local.active,
      services: local.services,
      resources: local.resources,
      actions: this.#ledger.map(({ at, ...a }) => ({
        ...a,
        age: Math.max(0, Math.round(mono - at)),
      })),
    });
    const previous = this.#signing;
    if (!this.#tooLargeWarned && canonicalShare(share).length > GOSSIP_LIMITS.maxEntryBytes) {
      this.#tooLargeWarned = true;
      log.warn("This node's gossip share is over {max} bytes: peers will drop it", {
        max: GOSSIP_LIMITS.maxEntryBytes,
      });
    }
    this.#signing = this.#options.signer.sign(share).then(async (sig) => {
      await previous;
      this.view.attachSignature(share.version, sig);
    }).catch((err) => {
      log.error("Cannot sign this node's gossip share: {error}", { error: errorMessage(err) });
    });
    return share;
  }

  /** Resolves once this node's latest share carries its signature. */
  signed(): Promise<void> {
    return this.#signing;
  }

  /** Publishes this node's share (called by the loop) and returns the cluster view. */
  update(local: LocalShare, now: number): Record<string, ClusterService> {
    this.#publish(local, now);
    this.view.expire(now, this.#live());
    return aggregateServices(this.view.entries(), {
      now,
      receivedAt: (origin) => this.view.receivedAt(origin),
    });
  }

  /**
   * Adds an action of this node to its ledger and spreads it at once (an extra round), so
   * peers see the cluster cooldown before their next loop rather than after a gossip interval.
   */
  recordAction(service: string, action: "start" | "stop", reason: string, time: number): void {
    const at = this.#options.clock.monotonic();
    this.#ledger.unshift({ service, action, time, reason: reason.slice(0, 200), at });
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

  /** The other nodes' shares with how long ago each was accepted (for source readings' ages). */
  peerShares(now: number): { share: NodeShare; heldMs: number }[] {
    return this.view.entries().filter((e) => e.origin !== this.#options.self).map((share) => ({
      share,
      heldMs: Math.max(0, now - (this.view.receivedAt(share.origin) ?? now)),
    }));
  }

  /** The live members with their `active` flag, or undefined while etcd cannot be read. */
  liveMembers(): { name: string; active: boolean }[] | undefined {
    const m = this.#options.membership;
    if (!m.healthy) return undefined;
    return [...m.nodes.values()].map((n) => ({ name: n.config.name, active: n.active }));
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

  /**
   * Live nodes (etcd) this node has not heard from lately: no share yet, or none accepted
   * within the last `STALE_ROUNDS` gossip intervals (peers publish at least every two), as
   * after a partition healed. Their counts may be out of date, so cluster-wide bounds wait.
   */
  unknownPeers(): string[] {
    const now = this.#options.clock.now();
    const limit = STALE_ROUNDS * this.#options.settings().intervalMs;
    return [...this.#options.membership.nodes.keys()].filter((n) => {
      if (n === this.#options.self) return false;
      const at = this.view.receivedAt(n);
      return at === undefined || now - at > limit;
    });
  }

  #live(): ReadonlySet<string> | undefined {
    const m = this.#options.membership;
    if (!m.healthy) return undefined;
    const live = new Set(m.nodes.keys());
    this.verifier.prune(live);
    return live;
  }

  /**
   * Checks who sent a gossip message: a live member of the cluster other than this node, and
   * the name of the peer's client certificate when the API knows it (mutual TLS).
   *
   * @throws {UnauthorizedError} otherwise; counted as `sender`.
   */
  checkSender(message: GossipMessage, peerName?: string): void {
    this.#intake.checkSender(message, peerName);
  }

  /**
   * Handles a peer's push: checks the sender, replies with the entries it lacks, and merges the
   * entries that pass admission (push-pull).
   *
   * @throws {ValidationError} for another cluster's message.
   * @throws {UnauthorizedError} when the sender is not a live member (see `checkSender`).
   */
  receive(message: GossipMessage, peerName?: string): Promise<GossipMessage> {
    return this.#intake.receive(message, peerName);
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
    await this.#signing;
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
      if (reply.cluster !== this.#options.cluster) {
        throw new ValidationError(`Gossip reply from ${name} is for another cluster`);
      }
      await this.#intake.admitAndMerge(reply.entries, name);
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

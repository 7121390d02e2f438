/**
 * What a gossip node takes in: a peer's push (its sender checked, answered with what the peer
 * lacks) and the entries of its friends' replies. Every entry passes admission (admission.ts)
 * before it is merged into the view, and every refusal, of an entry or of a whole message
 * (`sender`), is counted in the gossip stats and the telemetry.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../../domain/clock.ts";
import { UnauthorizedError, ValidationError } from "../../domain/errors.ts";
import type { GossipRejection, Telemetry } from "../../ports/telemetry.ts";
import type { Membership } from "../membership.ts";
import { admit } from "./admission.ts";
import { replyTo } from "./exchange.ts";
import { isPublicKey, type ShareVerifier } from "./signing.ts";
import { GOSSIP_LIMITS, type GossipMessage, type NodeShare } from "./types.ts";
import type { GossipView } from "./view.ts";

const log = getLogger(["gru", "agent", "gossip"]);

/** Default allowed clock skew for received versions and action times, ms. */
export const DEFAULT_MAX_SKEW_MS = 30_000;

/** The counters the intake keeps (part of the gossiper's stats). */
export interface IntakeStats {
  /** Pushes received from peers. */
  received: number;
  /** Entries (and messages, `sender`) dropped, by reason. */
  rejected: Partial<Record<GossipRejection, number>>;
}

/** Options of `GossipIntake`. */
export interface IntakeOptions {
  self: string;
  cluster: string;
  clock: Clock;
  membership: Membership;
  /** This node's signer: its public key checks the entries that claim to be this node's. */
  signer: { readonly publicKey: string };
  /**
   * How far ahead of this node's clock a received version or action time may be, ms, read at
   * each admission (a setting may change). @default 30000
   */
  maxSkewMs?: number | (() => number);
  telemetry?: Telemetry | undefined;
  /** The view entries are merged into and replies are taken from. */
  view: GossipView;
  verifier: ShareVerifier;
  /** Counted into; shared with the gossiper. */
  stats: IntakeStats;
  /** Resolves once this node's latest share carries its signature. */
  signed: () => Promise<void>;
}

/** Checks and merges what a gossip node receives. */
export class GossipIntake {
  #options: IntakeOptions;

  constructor(options: IntakeOptions) {
    this.#options = options;
  }

  /**
   * Checks who sent a gossip message: a live member of the cluster other than this node, and
   * the name of the peer's client certificate when the API knows it (mutual TLS).
   *
   * @param message The parsed message.
   * @param peerName The verified client-certificate name of the caller, if any.
   * @throws {UnauthorizedError} when the sender is not a live member or not the certificate's
   *   name; counted as `sender`.
   */
  checkSender(message: GossipMessage, peerName?: string): void {
    const from = message.from;
    const shown = JSON.stringify(from.length > 64 ? `${from.slice(0, 64)}…` : from);
    if (peerName !== undefined && peerName !== from) {
      this.#reject("sender");
      throw new UnauthorizedError(
        `POST /gru/v1/gossip: $.from is ${shown} but the client certificate is for ` +
          `${JSON.stringify(peerName.slice(0, 64))}`,
      );
    }
    if (from === this.#options.self || !this.#options.membership.nodes.has(from)) {
      this.#reject("sender");
      throw new UnauthorizedError(
        `POST /gru/v1/gossip: $.from ${shown} is not a live member of cluster ` +
          `"${this.#options.cluster}"`,
      );
    }
  }

  /**
   * Handles a peer's push: checks the sender, replies with the entries it lacks, and merges the
   * entries that pass admission (push-pull).
   *
   * @param message The parsed message.
   * @param peerName The verified client-certificate name of the caller, if any.
   * @throws {ValidationError} for another cluster's message.
   * @throws {UnauthorizedError} when the sender is not a live member (see `checkSender`).
   */
  async receive(message: GossipMessage, peerName?: string): Promise<GossipMessage> {
    const { cluster, self, view } = this.#options;
    if (message.cluster !== cluster) {
      throw new ValidationError(
        `Gossip for cluster "${message.cluster}" reached a node of cluster "${cluster}"`,
      );
    }
    this.checkSender(message, peerName);
    this.#options.stats.received++;
    await this.#options.signed();
    // Reply from what we held before the merge: with a digest (delta request), exactly the
    // entries newer than the sender's; without one, those newer than what it sent.
    let reply: GossipMessage;
    if (message.digest !== undefined) {
      reply = replyTo(view, message, { cluster });
    } else {
      const sent = new Map(message.entries.map((e) => [e.origin, e.version]));
      reply = {
        cluster,
        from: self,
        entries: view.entries().filter((e) => (sent.get(e.origin) ?? -1) < e.version),
      };
    }
    await this.admitAndMerge(message.entries, message.from);
    return reply;
  }

  /** Checks received entries (keys, signatures, skew, size) and merges those that pass. */
  async admitAndMerge(entries: readonly NodeShare[], from: string): Promise<void> {
    const { clock, view } = this.#options;
    const { accepted, rejected, samples } = await admit(view, entries, clock.now(), {
      verifier: this.#options.verifier,
      publicKeyOf: (origin) => this.#publicKeyOf(origin),
      maxSkewMs: this.#skewMs(),
      maxEntryBytes: GOSSIP_LIMITS.maxEntryBytes,
    });
    for (const [reason, n] of Object.entries(rejected)) this.#reject(reason as GossipRejection, n);
    if (samples.length > 0) {
      log.debug("Dropped gossip entries from {from}: {samples}", {
        from,
        samples: samples.map((s) => `${JSON.stringify(s.origin.slice(0, 64))} (${s.reason})`)
          .join(", "),
      });
    }
    const { refused } = view.merge(accepted, clock.now());
    this.#reject("capacity", refused);
  }

  #skewMs(): number {
    const skew = this.#options.maxSkewMs;
    return (typeof skew === "function" ? skew() : skew) ?? DEFAULT_MAX_SKEW_MS;
  }

  #publicKeyOf(origin: string): string | undefined {
    if (origin === this.#options.self) return this.#options.signer.publicKey;
    const key = this.#options.membership.nodes.get(origin)?.config.publicKey;
    return isPublicKey(key) ? key : undefined;
  }

  #reject(reason: GossipRejection, count = 1): void {
    if (count <= 0) return;
    const stats = this.#options.stats;
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + count;
    this.#options.telemetry?.gossipRejected(reason, count);
  }
}

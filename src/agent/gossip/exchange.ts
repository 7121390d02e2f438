/**
 * One push-pull exchange between two agents, as pure steps around a `GossipView`; the HTTP
 * layer only moves the messages (`POST /gru/v1/gossip`, request body → reply body).
 *
 * 1. The initiator builds a request (`gossipRequest`) and sends it to a friend.
 * 2. The friend checks it (`parseGossipMessage` first), answers with what the initiator lacks
 *    and merges the request's entries (`answerGossip`).
 * 3. The initiator merges the reply (`acceptReply`).
 *
 * Two modes:
 *
 * - `full`: the request carries every entry the initiator holds; the reply every entry the
 *   friend holds. Simple; each message grows with the cluster (O(N) entries).
 * - `delta`: the request carries the initiator's digest (origin → version) and only the entries
 *   that changed in its view within `pushWindowMs` (the rumours); the reply carries exactly the
 *   entries newer than the digest. Anti-entropy is still complete (the pull repairs anything
 *   the pushes missed), but a message carries a few bytes per origin plus the changes.
 *
 * @module
 */

import { ValidationError } from "../../domain/errors.ts";
import type { GossipMessage } from "./types.ts";
import type { GossipView } from "./view.ts";

/** How requests are built. */
export type GossipMode = "full" | "delta";

/** Options of `gossipRequest`. */
export interface RequestOptions {
  cluster: string;
  /** The initiator's clock, ms. */
  now: number;
  mode: GossipMode;
  /** `delta` only: push the entries accepted within this many ms (>= 0). */
  pushWindowMs?: number;
}

/**
 * The request an agent sends to a friend.
 *
 * @param view The initiator's view.
 * @param options Cluster, clock and mode.
 * @returns The message to POST.
 */
export function gossipRequest(view: GossipView, options: RequestOptions): GossipMessage {
  const base = { cluster: options.cluster, from: view.self };
  if (options.mode === "full") return { ...base, entries: view.entries() };
  const since = options.now - (options.pushWindowMs ?? 0);
  return { ...base, entries: view.changedSince(since), digest: view.digest() };
}

function checkCluster(message: GossipMessage, cluster: string): void {
  if (message.cluster !== cluster) {
    throw new ValidationError(
      `Gossip from ${message.from} is for cluster ${message.cluster}, not ${cluster}`,
    );
  }
}

/**
 * The reply to a friend's (validated) request, without merging it: every entry held that is
 * newer than the request's digest (all entries when it sent none). Entries the request carries
 * are never needed back, so the reply is built from the state before the merge.
 *
 * @param view This agent's view (not modified).
 * @param request The parsed request.
 * @param options This agent's cluster.
 * @returns The reply.
 * @throws {ValidationError} when the request is for another cluster.
 */
export function replyTo(
  view: GossipView,
  request: GossipMessage,
  options: { cluster: string },
): GossipMessage {
  checkCluster(request, options.cluster);
  const entries = request.digest === undefined ? view.entries() : view.newerThan(request.digest);
  return { cluster: options.cluster, from: view.self, entries };
}

/**
 * Handles a friend's (validated) request: builds the reply (`replyTo`), then merges the
 * request's entries.
 *
 * @param view This agent's view.
 * @param request The parsed request.
 * @param options This agent's cluster and clock.
 * @returns The reply and the origins the request updated.
 * @throws {ValidationError} when the request is for another cluster.
 */
export function answerGossip(
  view: GossipView,
  request: GossipMessage,
  options: { cluster: string; now: number },
): { reply: GossipMessage; updated: string[] } {
  const reply = replyTo(view, request, options);
  const { updated } = view.merge(request.entries, options.now);
  return { reply, updated };
}

/**
 * Merges a friend's (validated) reply.
 *
 * @param view This agent's view.
 * @param reply The parsed reply.
 * @param options This agent's cluster and clock.
 * @returns The origins the reply updated.
 * @throws {ValidationError} when the reply is for another cluster.
 */
export function acceptReply(
  view: GossipView,
  reply: GossipMessage,
  options: { cluster: string; now: number },
): { updated: string[] } {
  checkCluster(reply, options.cluster);
  return view.merge(reply.entries, options.now);
}

/**
 * A seeded, in-process gossip simulation: N agents, each with a `GossipView`, exchange over a
 * fake transport that counts the JSON bytes of every message (request and reply). Phases:
 *
 * 1. **converge**: every agent publishes its share at round 0; rounds until every view holds
 *    every origin;
 * 2. **settle**: `pushWindowRounds + 1` rounds with no change; the last one gives the idle
 *    traffic (nothing new anywhere);
 * 3. **update**: one agent publishes a new version; rounds until every view holds it;
 * 4. **steady**: `steadyRounds` rounds in which each agent republishes with probability
 *    `1 / publishEveryRounds` at the start of each round (an autonomic loop slower than the gossip
 *    interval); gives the traffic and the freshness of a working cluster.
 *
 * Model: synchronous rounds (the textbook model): each round every agent picks `maxFriends`
 * random peers among all the others and does one push-pull exchange with each; every message of a
 * round is built from the views as they were at the start of the round, and all merges happen at
 * its end. Real agents run unsynchronised timers, so news can travel two hops within a round; the
 * figures are therefore slightly pessimistic. No agent fails and membership is static, so nothing
 * expires. The clock advances `intervalMs` per round.
 *
 * @module
 */

import { type Prng, seededPrng } from "../../src/domain/random.ts";
import {
  acceptReply,
  type GossipMode,
  gossipRequest,
  replyTo,
} from "../../src/agent/gossip/exchange.ts";
import { pickFriends } from "../../src/agent/gossip/friends.ts";
import {
  type GossipMessage,
  type NodeShare,
  parseGossipMessage,
} from "../../src/agent/gossip/types.ts";
import { GossipView } from "../../src/agent/gossip/view.ts";

/** Options of `simulate`. */
export interface SimulationOptions {
  /** Number of agents (>= 2). */
  agents: number;
  /** Friends per agent per round (>= 1). */
  maxFriends: number;
  seed: number;
  /** Give up after this many rounds, in the converge and in the update phase (default 100). */
  maxRounds?: number;
  /** Exchange mode (default `full`: every message carries every entry held). */
  mode?: GossipMode;
  /** Gossip interval, ms: the clock's step per round (default 1000). */
  intervalMs?: number;
  /** `delta` only: rounds during which a newly accepted entry is pushed (default 1: the next round). */
  pushWindowRounds?: number;
  /** Rounds of the steady phase (default 10; 0 skips it). */
  steadyRounds?: number;
  /** Steady phase: an agent republishes every this many rounds on average (default 5). */
  publishEveryRounds?: number;
  /**
   * Send every message as real JSON (stringify, parse, `parseGossipMessage`) instead of
   * computing its size from cached entry sizes. Same results, much slower (default false).
   */
  wire?: boolean;
}

/** What `simulate` measured. Bytes per agent per round = bytes sent (= received, on average). */
export interface SimulationResult {
  /** Rounds until every view held every origin (`maxRounds` if it never did). */
  rounds: number;
  converged: boolean;
  /** Bytes per agent per round until convergence. */
  bytesPerAgentPerRound: number;
  /** Bytes of every message until convergence. */
  totalBytes: number;
  /** Bytes per agent per round when nothing changes. */
  idleBytesPerAgentPerRound: number;
  /** After convergence: rounds until one agent's new version reached every view. */
  updateRounds: number;
  updateConverged: boolean;
  /** Bytes per agent per round while the update spread. */
  updateBytesPerAgentPerRound: number;
  /** Bytes per agent per round in the steady phase. */
  steadyBytesPerAgentPerRound: number;
  /** End of the steady phase: the fraction of (view, origin) pairs holding the newest version. */
  steadyFreshness: number;
}

const CLUSTER = "sim";
const T0 = 1_700_000_000_000;
const SERVICES = ["web", "db", "cache"] as const;
const encoder = new TextEncoder();

function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** What agent `i` shares: 3 services with random figures, like a small real node. */
function shareOf(prng: Prng, time: number): Omit<NodeShare, "origin" | "version"> {
  const services: NodeShare["services"] = {};
  let usedCpus = 0;
  for (const name of SERVICES) {
    const running = Math.floor(prng() * 3);
    const pending = prng() < 0.2 ? 1 : 0;
    usedCpus += running + pending;
    services[name] = running > 0
      ? {
        running,
        pending,
        cpu_avg: prng(),
        memory_avg: prng(),
        analytics: { resp_time: prng() * 200, load: prng() },
        cpuNumber: 1,
      }
      : { running, pending, analytics: {}, cpuNumber: 1 };
  }
  const actions: NodeShare["actions"] = prng() < 0.5
    ? [{ service: "web", action: "start", time: time - 4000, reason: "scaleout" }]
    : [];
  return {
    time,
    active: true,
    services,
    resources: {
      totalCpus: 8,
      freeCpus: 8 - usedCpus,
      totalMemory: 17_179_869_184,
      freeMemory: Math.floor(prng() * 17_179_869_184),
    },
    actions,
  };
}

/** Measures the JSON size of messages, caching each (immutable) entry's size. */
class ByteCounter {
  readonly #sizes = new WeakMap<NodeShare, number>();

  size(message: GossipMessage): number {
    let sum = utf8Length(JSON.stringify({ ...message, entries: [] }));
    for (const entry of message.entries) {
      let size = this.#sizes.get(entry);
      if (size === undefined) {
        size = utf8Length(JSON.stringify(entry));
        this.#sizes.set(entry, size);
      }
      sum += size;
    }
    return sum + Math.max(0, message.entries.length - 1);
  }
}

/**
 * Runs the simulation.
 *
 * @param options Agents, friends, seed and limits.
 * @returns Rounds and bytes of every phase.
 * @throws {RangeError} when `agents` < 2, `maxFriends` < 1 or `maxRounds` < 1.
 */
export function simulate(options: SimulationOptions): SimulationResult {
  const n = options.agents;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError("agents must be a whole number >= 2");
  const maxRounds = options.maxRounds ?? 100;
  if (!(maxRounds >= 1)) throw new RangeError("maxRounds must be >= 1");
  const mode = options.mode ?? "full";
  const intervalMs = options.intervalMs ?? 1000;
  const pushWindowRounds = options.pushWindowRounds ?? 1;
  const pushWindowMs = pushWindowRounds * intervalMs;
  const publishEvery = options.publishEveryRounds ?? 5;
  const prng = seededPrng(options.seed);
  const counter = new ByteCounter();
  const cluster = { cluster: CLUSTER };

  const names = Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(4, "0")}`);
  const views = names.map((self) => new GossipView({ self, maxAgeMs: 3_600_000 }));
  for (const view of views) view.publish(shareOf(prng, T0));
  const viewOf = new Map(views.map((view) => [view.self, view]));

  /** The fake transport: one message one way, as the receiver sees it, and its size. */
  const send = (message: GossipMessage): { message: GossipMessage; bytes: number } => {
    if (options.wire !== true) return { message, bytes: counter.size(message) };
    const json = JSON.stringify(message);
    return { message: parseGossipMessage(JSON.parse(json)), bytes: utf8Length(json) };
  };

  let round = 0;
  const clock = () => T0 + round * intervalMs;
  /** One synchronous round; returns the bytes sent. */
  const runRound = (): number => {
    round++;
    const now = clock();
    const exchanges = [];
    for (const [i, from] of views.entries()) {
      // Synchronous round: the request is the same for every friend of this agent.
      const request = send(gossipRequest(from, { ...cluster, now, mode, pushWindowMs }));
      const peers = names.filter((_, j) => j !== i);
      for (const friend of pickFriends(peers, options.maxFriends, prng)) {
        const to = viewOf.get(friend) as GossipView;
        exchanges.push({ from, to, request, reply: send(replyTo(to, request.message, cluster)) });
      }
    }
    let bytes = 0;
    for (const { from, to, request, reply } of exchanges) {
      to.merge(request.message.entries, now);
      acceptReply(from, reply.message, { ...cluster, now });
      bytes += request.bytes + reply.bytes;
    }
    return bytes;
  };

  const phase = (done: () => boolean, limit: number) => {
    let rounds = 0;
    let bytes = 0;
    while (!done() && rounds < limit) {
      bytes += runRound();
      rounds++;
    }
    return { rounds, bytes, converged: done() };
  };
  const perAgentRound = (bytes: number, rounds: number) => rounds > 0 ? bytes / (n * rounds) : 0;

  const result: SimulationResult = {
    rounds: 0,
    converged: false,
    bytesPerAgentPerRound: 0,
    totalBytes: 0,
    idleBytesPerAgentPerRound: 0,
    updateRounds: 0,
    updateConverged: false,
    updateBytesPerAgentPerRound: 0,
    steadyBytesPerAgentPerRound: 0,
    steadyFreshness: 0,
  };

  const first = phase(() => views.every((v) => v.size === n), maxRounds);
  result.rounds = first.rounds;
  result.converged = first.converged;
  result.bytesPerAgentPerRound = perAgentRound(first.bytes, first.rounds);
  result.totalBytes = first.bytes;
  if (!first.converged) return result;

  let idle = 0;
  for (let r = 0; r <= pushWindowRounds; r++) idle = runRound();
  result.idleBytesPerAgentPerRound = perAgentRound(idle, 1);

  const update = (views[0] as GossipView).publish(shareOf(prng, clock()));
  const second = phase(
    () => views.every((v) => v.get(update.origin)?.version === update.version),
    maxRounds,
  );
  result.updateRounds = second.rounds;
  result.updateConverged = second.converged;
  result.updateBytesPerAgentPerRound = perAgentRound(second.bytes, second.rounds);

  const steadyRounds = options.steadyRounds ?? 10;
  if (steadyRounds > 0) {
    let bytes = 0;
    for (let r = 0; r < steadyRounds; r++) {
      for (const view of views) {
        if (prng() < 1 / publishEvery) view.publish(shareOf(prng, clock()));
      }
      bytes += runRound();
    }
    result.steadyBytesPerAgentPerRound = perAgentRound(bytes, steadyRounds);
    let fresh = 0;
    for (const view of views) {
      for (const origin of views) {
        if (view.get(origin.self)?.version === origin.get(origin.self)?.version) fresh++;
      }
    }
    result.steadyFreshness = fresh / (n * n);
  }
  return result;
}

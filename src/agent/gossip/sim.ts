/**
 * A seeded, in-process gossip simulation: N agents, each with a `GossipView`, exchange over a
 * fake transport that counts the JSON bytes of every message (request and reply). It measures
 * how many rounds it takes until every view holds every origin, then how many rounds a single
 * update (one agent publishing a new version) takes to reach every view.
 *
 * Model: rounds are asynchronous, as with unsynchronised timers: each round the agents act one
 * after another in a fresh random order, each picking `maxFriends` random peers (among all the
 * others) and doing one push-pull exchange with each; an exchange sees the effects of the earlier
 * ones in the same round. No agent fails and membership is static, so nothing expires. The
 * clock advances `intervalMs` per round.
 *
 * @module
 */

import { type Prng, seededPrng } from "../../domain/random.ts";
import { acceptReply, answerGossip, type GossipMode, gossipRequest } from "./exchange.ts";
import { pickFriends } from "./friends.ts";
import { type GossipMessage, type NodeShare, parseGossipMessage } from "./types.ts";
import { GossipView } from "./view.ts";

/** Options of `simulate`. */
export interface SimulationOptions {
  /** Number of agents (>= 2). */
  agents: number;
  /** Friends per agent per round (>= 1). */
  maxFriends: number;
  seed: number;
  /** Give up after this many rounds, per phase (default 100). */
  maxRounds?: number;
  /** Exchange mode (default `full`: every message carries every entry held). */
  mode?: GossipMode;
  /** Gossip interval, ms: the clock's step per round (default 1000). */
  intervalMs?: number;
  /** `delta` only: rounds during which a newly accepted entry is pushed (default 2). */
  pushWindowRounds?: number;
  /**
   * Send every message as real JSON (stringify, parse, `parseGossipMessage`) instead of
   * computing its size from cached entry sizes. Same results, much slower (default false).
   */
  wire?: boolean;
}

/** What `simulate` measured. */
export interface SimulationResult {
  /** Rounds until every view held every origin (`maxRounds` if it never did). */
  rounds: number;
  converged: boolean;
  /** Bytes sent per agent per round until convergence (= bytes received, on average). */
  bytesPerAgentPerRound: number;
  /** Bytes of every message until convergence. */
  totalBytes: number;
  /** After convergence: rounds until one agent's new version reached every view. */
  updateRounds: number;
  updateConverged: boolean;
  /** Bytes sent per agent per round while the update spread. */
  updateBytesPerAgentPerRound: number;
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
 * @returns Rounds and bytes of both phases.
 * @throws {RangeError} when `agents` < 2, `maxFriends` < 1 or `maxRounds` < 1.
 */
export function simulate(options: SimulationOptions): SimulationResult {
  const n = options.agents;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError("agents must be a whole number >= 2");
  const maxRounds = options.maxRounds ?? 100;
  if (!(maxRounds >= 1)) throw new RangeError("maxRounds must be >= 1");
  const mode = options.mode ?? "full";
  const intervalMs = options.intervalMs ?? 1000;
  const pushWindowMs = (options.pushWindowRounds ?? 2) * intervalMs;
  const prng = seededPrng(options.seed);
  const counter = new ByteCounter();

  const names = Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(4, "0")}`);
  const index = new Map(names.map((name, i) => [name, i]));
  const views = names.map((self) =>
    new GossipView({ self, maxAgeMs: 3_600_000, initialVersion: T0 })
  );
  for (const view of views) view.publish(shareOf(prng, T0));

  /** The fake transport: one message one way, returned as the receiver sees it. */
  const send = (message: GossipMessage): { message: GossipMessage; bytes: number } => {
    if (options.wire !== true) return { message, bytes: counter.size(message) };
    const json = JSON.stringify(message);
    return { message: parseGossipMessage(JSON.parse(json)), bytes: utf8Length(json) };
  };

  const exchange = (from: GossipView, to: GossipView, now: number): number => {
    const request = send(gossipRequest(from, { cluster: CLUSTER, now, mode, pushWindowMs }));
    const { reply } = answerGossip(to, request.message, { cluster: CLUSTER, now });
    const answer = send(reply);
    acceptReply(from, answer.message, { cluster: CLUSTER, now });
    return request.bytes + answer.bytes;
  };

  let round = 0;
  const runRound = (): number => {
    round++;
    const now = T0 + round * intervalMs;
    let bytes = 0;
    for (const name of pickFriends(names, Infinity, prng)) {
      const self = index.get(name) as number;
      const peers = names.filter((_, j) => j !== self);
      for (const friend of pickFriends(peers, options.maxFriends, prng)) {
        const other = views[index.get(friend) as number] as GossipView;
        bytes += exchange(views[self] as GossipView, other, now);
      }
    }
    return bytes;
  };

  const phase = (done: () => boolean) => {
    let rounds = 0;
    let bytes = 0;
    while (!done() && rounds < maxRounds) {
      bytes += runRound();
      rounds++;
    }
    return { rounds, bytes, converged: done() };
  };

  const first = phase(() => views.every((v) => v.size === n));
  let second = { rounds: 0, bytes: 0, converged: false };
  if (first.converged) {
    const source = views[0] as GossipView;
    const update = source.publish(shareOf(prng, T0 + round * intervalMs));
    second = phase(() => views.every((v) => v.get(update.origin)?.version === update.version));
  }
  const perAgentRound = (bytes: number, rounds: number) => rounds > 0 ? bytes / (n * rounds) : 0;
  return {
    rounds: first.rounds,
    converged: first.converged,
    bytesPerAgentPerRound: perAgentRound(first.bytes, first.rounds),
    totalBytes: first.bytes,
    updateRounds: second.rounds,
    updateConverged: second.converged,
    updateBytesPerAgentPerRound: perAgentRound(second.bytes, second.rounds),
  };
}

/**
 * Runs the seeded gossip simulation (`scripts/gossip_sim/sim.ts`) for 10, 100 and 1000 agents in
 * both exchange modes and prints a Markdown table: rounds until every view holds every origin,
 * rounds for one update to reach every view, bytes per agent per round (while converging, idle,
 * while the update spreads, and in a steady cluster where each agent republishes every 5 rounds),
 * the wall time those rounds take at a 1 s gossip interval, and log2(N) for comparison. Asserts
 * nothing.
 *
 * Usage: `deno run scripts/gossip_sim.ts [--agents 10,100,1000] [--friends 3] [--seed 1]
 * [--modes full,delta]`.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import type { GossipMode } from "../src/agent/gossip/exchange.ts";
import { simulate } from "./gossip_sim/sim.ts";

function option(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] ?? fallback : fallback;
}

const agentCounts = option("agents", "10,100,1000").split(",").map(Number);
const friends = Number(option("friends", "3"));
const seed = Number(option("seed", "1"));
const modes = option("modes", "full,delta").split(",") as GossipMode[];
const INTERVAL_S = 1;

function bytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n.toFixed(0)} B`;
}

console.log(
  `Seed ${seed}, maxFriends ${friends}, gossip interval ${INTERVAL_S} s; bytes = JSON sent per ` +
    `agent per round (= received, on average).\n`,
);
console.log(
  "| agents | mode | rounds to converge | rounds for an update | log2 N | converge wall s | " +
    "update wall s | B/agent/round converging | idle | update | steady | freshness | compute s |",
);
console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const agents of agentCounts) {
  for (const mode of modes) {
    const started = performance.now();
    const r = simulate({ agents, maxFriends: friends, seed, mode });
    const compute = (performance.now() - started) / 1000;
    const rounds = r.converged ? String(r.rounds) : `> ${r.rounds}`;
    const update = r.updateConverged ? String(r.updateRounds) : "n/a";
    console.log(
      `| ${agents} | ${mode} | ${rounds} | ${update} | ${Math.log2(agents).toFixed(1)} | ` +
        `${r.rounds * INTERVAL_S} | ${r.updateRounds * INTERVAL_S} | ` +
        `${bytes(r.bytesPerAgentPerRound)} | ${bytes(r.idleBytesPerAgentPerRound)} | ` +
        `${bytes(r.updateBytesPerAgentPerRound)} | ${bytes(r.steadyBytesPerAgentPerRound)} | ` +
        `${(r.steadyFreshness * 100).toFixed(0)} % | ${compute.toFixed(1)} |`,
    );
  }
}

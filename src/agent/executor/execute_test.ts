/**
 * The executor's local guards on a fake clock whose wall time is stepped (as NTP may): the
 * cooldowns are measured on the monotonic clock, so a step neither stretches nor cuts them.
 */

import assert from "node:assert/strict";
import {
  parseAgentConfig,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../../config/documents.ts";
import { FakeClock } from "../../domain/clock.ts";
import { seededPrng } from "../../domain/random.ts";
import { soloCluster } from "../gossip/cluster_context.ts";
import type { Candidate } from "../planner/types.ts";
import type { ActionRecord } from "../record/decisions.ts";
import { type ExecutionInput, Executor } from "./execute.ts";
import { ResourceLedger } from "./resources.ts";

const web = parseServiceDescriptor({ Name: "web", Image: "i" }, "web.json");

function rig() {
  const clock = new FakeClock(1_700_000_000_000);
  const acted: ActionRecord[] = [];
  const executor = new Executor({
    instances: { list: () => [], ledger: new ResourceLedger({ cpus: 4, memory: 1 << 30 }) },
    act: (svc, action, why) => {
      const r = { service: svc.name, action, ok: true, instance: `${svc.name}-x`, why };
      acted.push(r);
      return Promise.resolve(r);
    },
    cluster: soloCluster("n1"),
    clock,
    prng: seededPrng(1),
  });
  const scaleOut: Candidate = {
    name: "scaleout",
    targets: ["web"],
    weight: 0.9,
    actions: { web: ["start"] },
    reasons: [],
  };
  const input: ExecutionInput = {
    decision: { chosen: scaleOut, candidates: [scaleOut], strategy: "dummy", draw: undefined },
    merged: { cluster: {}, planner: {}, partitioned: undefined, unknownPeers: [] },
    self: "n1",
    services: new Map([["web", web]]),
    policy: parsePolicyConfig({}, "policy.json"),
    autonomic: parseAgentConfig({ Autonomic: { ScaleOutCooldown: 10 } }, "config.json").autonomic,
    baseServices: [],
    dryRun: false,
  };
  return { clock, acted, run: () => executor.execute(input) };
}

Deno.test("a wall clock stepped back an hour does not stretch the scale-out cooldown", async () => {
  const r = rig();
  assert.equal((await r.run()).outcome, "executed");
  r.clock.stepWall(-3_600_000);
  r.clock.advance(4_000);
  const held = await r.run();
  assert.equal(held.outcome, "blocked");
  assert.match(held.why, /scale-out cooldown of web: 6\.0 s left/);
  r.clock.advance(6_000);
  const again = await r.run();
  assert.equal(again.outcome, "executed", again.why);
  assert.equal(r.acted.length, 2);
});

Deno.test("a wall clock stepped forward an hour does not cut the scale-out cooldown", async () => {
  const r = rig();
  assert.equal((await r.run()).outcome, "executed");
  r.clock.stepWall(3_600_000);
  r.clock.advance(1_000);
  const held = await r.run();
  assert.equal(held.outcome, "blocked", held.why);
  assert.equal(r.acted.length, 1);
});

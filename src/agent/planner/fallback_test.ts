import assert from "node:assert/strict";
import { descriptor, rule, service } from "../../../tests/helpers/planner_fixtures.ts";
import { seededPrng } from "../../domain/random.ts";
import type { SourceFailureRule } from "../../domain/model.ts";
import { applySourceRules, type SourceStatus } from "./fallback.ts";
import { plan } from "./plan.ts";
import type { Candidate, PlannerInput, ServiceState } from "./types.ts";

const FAILING: SourceStatus = {
  metric: "rps",
  state: "failing",
  reason: "timeout: no answer within 2000 ms",
  ageMs: 0,
  origin: "n1",
  queried: true,
};
const STALE: SourceStatus = { ...FAILING, state: "stale", reason: "newest reading 90 s old" };
const FRESH: SourceStatus = { metric: "rps", state: "fresh", value: 3, queried: false };

/**
 * Service `web` with 2 running instances here (3 in the cluster), with the given source status
 * and rule; `cpu` and `load` drive the policies (`LOAD` is the analytic over the source).
 */
function web(
  status: SourceStatus | undefined,
  onSourceFailure: SourceFailureRule | undefined,
  cpu: number | undefined,
  load: number | undefined,
  clusterInstances = 3,
): ServiceState {
  const s = service(
    { ...descriptor("web", { cpuNumber: 1 }), ...(onSourceFailure ? { onSourceFailure } : {}) },
    2,
    0,
    cpu,
    load,
  );
  s.cluster.instances = clusterInstances;
  if (status) s.sources = [status];
  return s;
}

function input(state: ServiceState, scaleout = true): PlannerInput {
  return {
    services: { web: state, other: service(descriptor("other", { cpuNumber: 1 }), 0, 0, 0.5, 0.5) },
    node: { totalCpus: 8, freeCpus: 4, totalMemory: 8e9, freeMemory: 4e9, baseServices: [] },
    policy: { scaleout: rule(0.7, scaleout), scalein: rule(0.3), swap: rule(0.6, false) },
  };
}

function of(candidates: readonly Candidate[], name: string, target = "web"): Candidate {
  const c = candidates.find((x) => x.name === name && x.targets[0] === target);
  assert.ok(c, `${name} ${target}`);
  return c;
}

function rawCandidates(i: PlannerInput): Candidate[] {
  // Without a failing source, the rules change nothing: the plan's own candidates.
  const clean = structuredClone(i);
  for (const s of Object.values(clean.services)) delete s.sources;
  return plan(clean, { strategy: "dummy", prng: seededPrng(1) }).candidates
    .filter((c) => c.name !== "noaction");
}

Deno.test("a fresh source changes nothing", () => {
  const i = input(web(FRESH, "hold", 0.9, 0.9));
  const raw = rawCandidates(i);
  const { candidates, held } = applySourceRules(i, raw);
  assert.deepEqual(candidates, raw);
  assert.deepEqual(held, []);
});

Deno.test("hold: neither scale-out nor scale-in, and the record names the rule", () => {
  // cpu 0.9 asks for scale-out; with cpu 0.1 and LOAD 0.1 scale-in would win.
  for (const [cpu, busy] of [[0.9, "scaleout"], [0.1, "scalein"]] as const) {
    const i = input(web(FAILING, undefined, cpu, cpu));
    const raw = rawCandidates(i);
    assert.ok(of(raw, busy).weight > 0, `${busy} wanted without the rule`);
    const { candidates, held } = applySourceRules(i, raw);
    assert.equal(of(candidates, "scaleout").weight, 0);
    assert.equal(of(candidates, "scalein").weight, 0);
    assert.match(of(candidates, busy).reasons.at(-1)!, /source rule "hold" for web \(rps failing/);
    assert.equal(held.length, 1);
    assert.match(
      held[0]!,
      new RegExp(
        `^source rule "hold" for web .* held ${busy === "scaleout" ? "scaleout" : "scale-in"}`,
      ),
    );
    // Other services are left alone.
    assert.deepEqual(of(candidates, "scaleout", "other"), of(raw, "scaleout", "other"));
    const decision = plan(i, { strategy: "dummy", prng: seededPrng(1) });
    assert.equal(decision.chosen.targets.includes("web"), false);
    assert.ok(decision.candidates.at(-1)!.reasons.some((r) => r.startsWith('source rule "hold"')));
  }
});

Deno.test("scale-out-only: scale-out on known metrics goes on, scale-in never", () => {
  const out = input(web(STALE, "scale-out-only", 0.9, undefined));
  const raw = rawCandidates(out);
  const ruled = applySourceRules(out, raw).candidates;
  assert.equal(of(ruled, "scaleout").weight, of(raw, "scaleout").weight);
  assert.ok(of(ruled, "scaleout").weight > 0);

  const idle = input(web(STALE, "scale-out-only", 0.05, 0.05));
  const rawIn = rawCandidates(idle);
  assert.ok(of(rawIn, "scalein").weight > 0, "scale-in wanted without the rule");
  const ruledIn = applySourceRules(idle, rawIn);
  assert.equal(of(ruledIn.candidates, "scalein").weight, 0);
  assert.match(
    of(ruledIn.candidates, "scalein").reasons.at(-1)!,
    /"scale-out-only" for web \(rps stale/,
  );
  assert.match(ruledIn.held[0]!, /held scale-in/);
});

Deno.test("a fixed fallback count scales out towards it, then holds; never in", async (t) => {
  await t.step("below the count: a scale-out of weight 1, even with the policy off", () => {
    for (const scaleout of [true, false]) {
      const i = input(web(FAILING, 5, 0.1, undefined, 3), scaleout);
      const { candidates, held } = applySourceRules(i, rawCandidates(i));
      const c = of(candidates, "scaleout");
      assert.equal(c.weight, 1);
      assert.match(c.reasons[0]!, /"fallback 5" .*3 of 5 instances in the cluster: scale out/);
      assert.equal(of(candidates, "scalein").weight, 0);
      assert.ok(held.some((h) => /scale out towards 5/.test(h)));
      const decision = plan(i, { strategy: "probdelta", prng: seededPrng(7) });
      assert.deepEqual(decision.chosen.actions, { web: ["start"] });
    }
  });
  await t.step("at or above the count: hold, even when cpu asks for more or less", () => {
    for (const cpu of [0.95, 0.05]) {
      const i = input(web(FAILING, 3, cpu, undefined, 4));
      const { candidates } = applySourceRules(i, rawCandidates(i));
      assert.equal(of(candidates, "scaleout").weight, 0);
      assert.match(of(candidates, "scaleout").reasons[0]!, /4 of 3 instances in the cluster: hold/);
      assert.equal(of(candidates, "scalein").weight, 0);
    }
  });
  await t.step("a blip holds: the count acts after 3 unknown loops in a row", () => {
    for (const [loops, weight] of [[1, 0], [2, 0], [3, 1], [7, 1]] as const) {
      const i = input(web({ ...FAILING, unknownLoops: loops }, 5, 0.1, undefined, 3));
      const c = of(applySourceRules(i, rawCandidates(i)).candidates, "scaleout");
      assert.equal(c.weight, weight, `${loops} loops`);
      if (weight === 0) assert.match(c.reasons[0]!, new RegExp(`unknown for ${loops} of 3 loops`));
    }
  });
  await t.step("no room on this node: weight 0 with the reason", () => {
    const i = input(web(FAILING, 5, 0.1, undefined, 1));
    i.node.freeCpus = 0;
    const c = of(applySourceRules(i, rawCandidates(i)).candidates, "scaleout");
    assert.equal(c.weight, 0);
    assert.match(c.reasons[0]!, /no free core/);
  });
});

Deno.test("a swap that would stop the service is held by every rule", () => {
  for (const r of ["hold", "scale-out-only", 2] as const) {
    const i = input(web(FAILING, r, 0.1, 0.1));
    i.policy.swap = rule(0.6);
    const swap: Candidate = {
      name: "swap",
      weight: 0.8,
      targets: ["web", "other"],
      actions: { web: ["stop", "remove"], other: ["start"] },
      reasons: [],
    };
    const { candidates } = applySourceRules(i, [swap]);
    assert.equal(candidates.find((c) => c.name === "swap")!.weight, 0, String(r));
    assert.equal(swap.weight, 0.8, "input not mutated");
  }
});

Deno.test("no reading yet holds whatever the rule: a fallback count does not start at boot", () => {
  const missing: SourceStatus = {
    metric: "rps",
    state: "missing",
    reason: "no reading yet",
    queried: false,
  };
  const i = input(web(missing, 5, 0.1, undefined, 1));
  const { candidates, held } = applySourceRules(i, rawCandidates(i));
  assert.equal(of(candidates, "scaleout").weight, 0);
  assert.equal(of(candidates, "scalein").weight, 0);
  assert.match(held.join("\n"), /source rule "hold" for web \(rps missing: no reading yet\)/);
});

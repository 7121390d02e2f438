import assert from "node:assert/strict";
import { noAction, scaleIn, scaleOut, swap } from "./policies.ts";
import {
  descriptor,
  GIB,
  rule,
  service,
  workedExample,
} from "../../../tests/helpers/planner_fixtures.ts";
import type { Candidate, PlannerInput, ServiceState } from "./types.ts";

const EPS = 1e-3;

/** The service with a cluster-wide instance count, as the merged view gives it. */
function withClusterCount(state: ServiceState, instances: number): ServiceState {
  return { ...state, cluster: { ...state.cluster, instances } };
}

function weightOf(candidates: Candidate[], targets: string[]): Candidate {
  const found = candidates.find((c) => c.targets.join() === targets.join());
  assert.ok(found, `no candidate for ${targets.join()}`);
  return found;
}

function close(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) < EPS, `${label}: ${actual} ≉ ${expected}`);
}

Deno.test("worked example of the original's tests", async (t) => {
  const cases: {
    name: string;
    policy: (i: PlannerInput) => Candidate[];
    usedCpus: number;
    targets: string[];
    weight: number;
    reason?: string;
  }[] = [
    { name: "scalein s1 ⇒ 0", policy: scaleIn, usedCpus: 0, targets: ["s1"], weight: 0 },
    { name: "scalein s2 ≈ 0.167", policy: scaleIn, usedCpus: 0, targets: ["s2"], weight: 1 / 6 },
    {
      name: "scalein s3 ⇒ 0 (not running)",
      policy: scaleIn,
      usedCpus: 0,
      targets: ["s3"],
      weight: 0,
      reason: "no running instance",
    },
    { name: "scaleout s1 ⇒ 0.5", policy: scaleOut, usedCpus: 0, targets: ["s1"], weight: 0.5 },
    { name: "scaleout s2 ⇒ 0", policy: scaleOut, usedCpus: 0, targets: ["s2"], weight: 0 },
    { name: "scaleout s4 ⇒ 0.25", policy: scaleOut, usedCpus: 0, targets: ["s4"], weight: 0.25 },
    {
      name: "scaleout s1 all cores used ⇒ 0",
      policy: scaleOut,
      usedCpus: 4,
      targets: ["s1"],
      weight: 0,
      reason: "no free core: 0 free, 2 needed",
    },
    {
      name: "swap (s2,s3) ≈ 0.833",
      policy: swap,
      usedCpus: 4,
      targets: ["s2", "s3"],
      weight: 5 / 6,
    },
    {
      name: "swap (s1,s3) ≈ 0.167",
      policy: swap,
      usedCpus: 4,
      targets: ["s1", "s3"],
      weight: 1 / 6,
    },
    {
      name: "swap (s1,s5) ⇒ 0 (negative clamped)",
      policy: swap,
      usedCpus: 4,
      targets: ["s1", "s5"],
      weight: 0,
    },
    {
      name: "swap (s2,s3) with free cores ⇒ 0",
      policy: swap,
      usedCpus: 0,
      targets: ["s2", "s3"],
      weight: 0,
      reason: "s3 can start without swapping",
    },
    {
      name: "swap (s1,s4) ⇒ 0 core mismatch",
      policy: swap,
      usedCpus: 4,
      targets: ["s1", "s4"],
      weight: 0,
      reason: "core mismatch: s1 uses 2, s4 needs 1",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const candidate = weightOf(c.policy(workedExample(c.usedCpus)), c.targets);
      close(candidate.weight, c.weight, c.name);
      if (c.reason !== undefined) assert.deepEqual(candidate.reasons, [c.reason]);
    });
  }
});

Deno.test("candidate counts, shapes and reasons", async (t) => {
  const input = workedExample(4);
  await t.step({
    name: "5 scaleout + 5 scalein + 2×3 swap",
    fn: () => {
      assert.equal(scaleOut(input).length, 5);
      assert.equal(scaleIn(input).length, 5);
      assert.deepEqual(swap(input).map((c) => c.targets.join("→")), [
        "s1→s3",
        "s1→s4",
        "s1→s5",
        "s2→s3",
        "s2→s4",
        "s2→s5",
      ]);
    },
  });
  await t.step("actions", () => {
    assert.deepEqual(weightOf(swap(input), ["s2", "s3"]).actions, {
      s2: ["stop", "remove"],
      s3: ["start"],
    });
    assert.deepEqual(weightOf(scaleIn(input), ["s2"]).actions, { s2: ["stop", "remove"] });
    assert.deepEqual(weightOf(scaleOut(input), ["s2"]).actions, { s2: ["start"] });
  });
  await t.step("scaleout reasons name the values", () => {
    assert.deepEqual(weightOf(scaleOut(workedExample(0)), ["s4"]).reasons, [
      "cpu_avg 0.8 not over threshold 0.8",
      "LOAD 0.9 over threshold 0.8",
    ]);
  });
});

function single(
  state: ReturnType<typeof service>,
  overrides: Partial<PlannerInput["node"]> = {},
): PlannerInput {
  return {
    services: { a: state },
    node: {
      totalCpus: 4,
      freeCpus: 4,
      totalMemory: 4 * GIB,
      freeMemory: 4 * GIB,
      baseServices: [],
      ...overrides,
    },
    policy: { scalein: rule(0.3), scaleout: rule(0.8), swap: rule(0.6) },
  };
}

Deno.test("scalein guards", async (t) => {
  const cases: { name: string; input: PlannerInput; weight: number; reason?: string }[] = [
    {
      name: "low load scales in",
      input: single(service(descriptor("a"), 2, 0, 0, 0)),
      weight: 1,
    },
    {
      name: "unknown cpu never scales in",
      input: single(service(descriptor("a"), 2, 0, undefined, 0)),
      weight: 0,
      reason: "unknown data: cpu_avg",
    },
    {
      name: "NaN counts as unknown",
      input: single(service(descriptor("a"), 2, 0, 0, NaN)),
      weight: 0,
      reason: "unknown data: LOAD",
    },
    {
      name: "absent names skipped, none present ⇒ 0",
      input: single({
        descriptor: descriptor("a"),
        local: { running: 2, pending: 0 },
        cluster: { base: {}, user: {}, active: true },
      }),
      weight: 0,
      reason: "no metric or analytic value",
    },
    {
      name: "base service last instance",
      input: single(service(descriptor("a"), 1, 0, 0, 0), { baseServices: ["a"] }),
      weight: 0,
      reason: "base service: last instance",
    },
    {
      name: "base service with two instances",
      input: single(service(descriptor("a"), 1, 1, 0, 0), { baseServices: ["a"] }),
      weight: 1,
    },
    {
      name: "at minInstances",
      input: single(service(descriptor("a", { minInstances: 2 }), 1, 1, 0, 0)),
      weight: 0,
      reason: "min instances reached: 2 of 2",
    },
    {
      name: "above minInstances",
      input: single(service(descriptor("a", { minInstances: 2 }), 3, 0, 0, 0)),
      weight: 1,
    },
    {
      // The partition case: 1 here, 4 in the cluster for a min of 2: the local count must not
      // hold scale-in back.
      name: "at minInstances here, above it in the cluster",
      input: single(withClusterCount(service(descriptor("a", { minInstances: 2 }), 1, 0, 0, 0), 4)),
      weight: 1,
    },
    {
      name: "above minInstances here, at it in the cluster",
      input: single(withClusterCount(service(descriptor("a", { minInstances: 2 }), 2, 0, 0, 0), 2)),
      weight: 0,
      reason: "min instances reached: 2 of 2 in the cluster",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const [candidate] = scaleIn(c.input);
      assert.ok(candidate);
      close(candidate.weight, c.weight, c.name);
      if (c.reason !== undefined) assert.deepEqual(candidate.reasons, [c.reason]);
    });
  }
});

Deno.test("scaleout guards", async (t) => {
  const cases: { name: string; input: PlannerInput; weight: number; reason?: string }[] = [
    {
      name: "hot service scales out",
      input: single(service(descriptor("a", { cpuNumber: 1 }), 1, 0, 1, 1)),
      weight: 1,
    },
    {
      name: "unknown values skipped",
      input: single(service(descriptor("a"), 1, 0, undefined, 0.9)),
      weight: 0.5,
    },
    {
      name: "all unknown ⇒ 0",
      input: single(service(descriptor("a"), 1, 0, undefined, undefined)),
      weight: 0,
    },
    {
      name: "at maxInstances",
      input: single(service(descriptor("a", { maxInstances: 2 }), 1, 1, 1, 1)),
      weight: 0,
      reason: "max instances reached: 2 of 2",
    },
    {
      name: "below maxInstances",
      input: single(service(descriptor("a", { maxInstances: 3 }), 1, 1, 1, 1)),
      weight: 1,
    },
    {
      name: "not enough free memory",
      input: single(service(descriptor("a", { memory: "2g" }), 1, 0, 1, 1), {
        freeMemory: GIB,
      }),
      weight: 0,
      reason: `not enough free memory: ${GIB} bytes free, ${2 * GIB} needed`,
    },
    {
      name: "unparsable memory",
      input: single(service(descriptor("a", { memory: "lots" }), 1, 0, 1, 1)),
      weight: 0,
      reason: 'unparsable memory "lots"',
    },
    {
      name: "fixed cpuset taken",
      input: single(service(descriptor("a", { cpusetCpus: "0-1" }), 1, 0, 1, 1), {
        usedCores: [1],
      }),
      weight: 0,
      reason: 'cpuset "0-1": core 1 taken or absent',
    },
    {
      name: "fixed cpuset free",
      input: single(service(descriptor("a", { cpusetCpus: "2,3" }), 1, 0, 1, 1), {
        usedCores: [1],
      }),
      weight: 1,
    },
    {
      name: "invalid threshold",
      input: {
        ...single(service(descriptor("a"), 1, 0, 1, 1)),
        policy: { scalein: rule(0.3), scaleout: rule(1), swap: rule(0.6) },
      },
      weight: 0,
      reason: "invalid threshold 1: must be in (0, 1)",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const [candidate] = scaleOut(c.input);
      assert.ok(candidate);
      close(candidate.weight, c.weight, c.name);
      if (c.reason !== undefined) assert.deepEqual(candidate.reasons, [c.reason]);
    });
  }
});

Deno.test("swap guards", async (t) => {
  const full = { freeCpus: 0 };
  const pair = (
    r: ReturnType<typeof service>,
    c: ReturnType<typeof service>,
    base: string[] = [],
  ): PlannerInput => ({
    ...single(r, { ...full, baseServices: base }),
    services: { r, c },
  });
  const cases: { name: string; input: PlannerInput; weight: number; reason?: string }[] = [
    {
      name: "cooler C preferred",
      input: pair(
        service(descriptor("r", { cpuNumber: 1 }), 1, 0, 0.1, 0.1),
        service(descriptor("c", { cpuNumber: 1 }), 0, 0, 0.7, 0.7),
      ),
      weight: 1,
    },
    {
      name: "base R with one instance",
      input: pair(
        service(descriptor("r", { cpuNumber: 1 }), 1, 0, 0.1, 0.1),
        service(descriptor("c", { cpuNumber: 1 }), 0, 0, 0.7, 0.7),
        ["r"],
      ),
      weight: 0,
      reason: "base service: last instance of r",
    },
    {
      name: "R at minInstances",
      input: pair(
        service(descriptor("r", { cpuNumber: 1, minInstances: 1 }), 1, 0, 0.1, 0.1),
        service(descriptor("c", { cpuNumber: 1 }), 0, 0, 0.7, 0.7),
      ),
      weight: 0,
      reason: "min instances reached: 1 of 1",
    },
    {
      name: "C at maxInstances (pending)",
      input: pair(
        service(descriptor("r", { cpuNumber: 1 }), 1, 0, 0.1, 0.1),
        service(descriptor("c", { cpuNumber: 1, maxInstances: 1 }), 0, 1, 0.7, 0.7),
      ),
      weight: 0,
      reason: "max instances reached: 1 of 1",
    },
    {
      name: "unknown C values skipped",
      input: pair(
        service(descriptor("r", { cpuNumber: 1 }), 1, 0, 0.1, 0.1),
        service(descriptor("c", { cpuNumber: 1 }), 0, 0, undefined, 0.4),
      ),
      weight: 0.5,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const candidate = weightOf(swap(c.input), ["r", "c"]);
      close(candidate.weight, c.weight, c.name);
      if (c.reason !== undefined) assert.deepEqual(candidate.reasons, [c.reason]);
    });
  }
});

Deno.test("noaction", async (t) => {
  const cases: { name: string; weights: number[]; expected: number }[] = [
    { name: "no other candidate ⇒ 1", weights: [], expected: 1 },
    { name: "1 − max", weights: [0.2, 0.7, 0.1], expected: 0.3 },
    { name: "all zero ⇒ 1", weights: [0, 0], expected: 1 },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const others: Candidate[] = c.weights.map((weight) => ({
        name: "scaleout",
        weight,
        targets: ["x"],
        actions: { x: ["start"] },
        reasons: [],
      }));
      const idle = noAction(others);
      close(idle.weight, c.expected, c.name);
      assert.deepEqual(idle.targets, ["noservice"]);
      assert.equal(idle.name, "noaction");
    });
  }
});

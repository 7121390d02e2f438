/** The anti-flapping block (anti_flap.ts) and its use by every strategy's guards. */

import assert from "node:assert/strict";
import { parseServiceDescriptor } from "../../config/documents.ts";
import { FakeClock } from "../../domain/clock.ts";
import { checkGuards, newHistory, recordScaling } from "../executor/guards.ts";
import { antiFlapBlock, cooldownHolder, RecommendationLog, stepLimit } from "./anti_flap.ts";
import type { Candidate } from "./types.ts";

const DEFAULTS = { scaleOutCooldown: 10, scaleInCooldown: 30, scaleInStabilization: 15 };

function svc(scaling?: Record<string, unknown>) {
  return parseServiceDescriptor({ Name: "web", Image: "i", Scaling: scaling }, "web.json");
}

Deno.test("antiFlapBlock(): agent-wide defaults, overridden per service and direction", () => {
  assert.deepEqual(antiFlapBlock(svc(), DEFAULTS), {
    out: { tolerance: 0.1, stabilizationMs: 0, cooldownMs: 10_000, maxStep: undefined },
    in: { tolerance: 0.1, stabilizationMs: 15_000, cooldownMs: 30_000, maxStep: undefined },
  });
  const own = antiFlapBlock(svc({ ScaleOut: { Cooldown: 2, MaxStep: "100%" } }), DEFAULTS);
  assert.equal(own.out.cooldownMs, 2000);
  assert.deepEqual(own.out.maxStep, { percent: 100 });
  assert.equal(own.in.cooldownMs, 30_000, "the other direction keeps the defaults");
});

Deno.test("stepLimit(): a count, or a percent rounded up, at least one", () => {
  assert.equal(stepLimit(10, undefined), Infinity);
  assert.equal(stepLimit(10, { count: 3 }), 3);
  assert.equal(stepLimit(10, { percent: 25 }), 3);
  assert.equal(stepLimit(1, { percent: 10 }), 1);
});

Deno.test("RecommendationLog: windows on the fake clock, forgotten services pruned", () => {
  const clock = new FakeClock();
  const log = new RecommendationLog();
  const block = antiFlapBlock(svc({ ScaleIn: { StabilizationWindow: 10 } }), DEFAULTS);
  const at = () => clock.monotonic();
  assert.equal(log.stabilize("web", at(), { desired: 5, current: 5, block }), 5);
  clock.advance(4000);
  assert.equal(log.stabilize("web", at(), { desired: 2, current: 5, block }), 5);
  clock.advance(6001);
  assert.equal(
    log.stabilize("web", at(), { desired: 2, current: 5, block }),
    2,
    "5 is 10.001 s old",
  );
  log.prune(new Set());
  assert.equal(log.stabilize("web", at(), { desired: 1, current: 5, block }), 1, "history gone");
});

Deno.test("cooldownHolder(): same direction for scale-out, any action for scale-in", () => {
  const stop = { origin: "n2", action: "stop" as const, age: 2000 };
  const start = { origin: "n2", action: "start" as const, age: 2000 };
  const opts = { cooldownMs: 5000, roundMs: 0, self: "n1" };
  assert.equal(cooldownHolder([stop], { ...opts, direction: "out" }), undefined);
  assert.equal(cooldownHolder([start], { ...opts, direction: "out" }), start);
  assert.equal(cooldownHolder([start], { ...opts, direction: "in" }), start);
  assert.equal(cooldownHolder([stop], { ...opts, direction: "in", roundMs: 3000 }), undefined);
  assert.equal(cooldownHolder([start], { ...opts, direction: "out", cooldownMs: 2000 }), undefined);
});

Deno.test("checkGuards() takes each service's own Cooldown (probdelta and the others too)", () => {
  const services = new Map([
    ["web", svc({ ScaleOut: { Cooldown: 2 } })],
    ["api", { ...svc(), name: "api" }],
  ]);
  const settings = (name: string) => {
    const b = antiFlapBlock(services.get(name), DEFAULTS);
    return {
      scaleOutCooldownMs: b.out.cooldownMs,
      scaleInCooldownMs: b.in.cooldownMs,
      scaleInStabilizationMs: b.in.stabilizationMs,
    };
  };
  const out = (target: string): Candidate => ({
    name: "scaleout",
    targets: [target],
    weight: 1,
    actions: {},
    reasons: [],
  });
  const h = newHistory();
  recordScaling(h, out("web"), 0);
  recordScaling(h, out("api"), 0);
  assert.deepEqual(checkGuards(out("web"), h, 2500, settings), { ok: true });
  const api = checkGuards(out("api"), h, 2500, settings);
  assert.deepEqual(api, { ok: false, reason: "scale-out cooldown of api: 7.5 s left" });
});

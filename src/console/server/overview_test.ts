/** The overview's decision entries (overview.ts): what a user reads as the decision's reasons. */

import assert from "node:assert/strict";
import { summariseDecision } from "./overview.ts";

Deno.test("summariseDecision(): the fast-path trigger first, held crossings after the why", () => {
  const fast = summariseDecision("n1", {
    seq: 7,
    time: 1000,
    chosen: { policy: "scaleout", targets: ["web"], reasons: ["cpu_avg 1 over threshold 0.75"] },
    outcome: "executed",
    why: "scale-out of web executed",
    actions: [{ service: "web", action: "start", ok: true }],
    trigger: { kind: "fast-path", why: "web cpu_avg 1 over 0.85 in the last 0.4 s" },
  });
  assert.deepEqual(fast.reasons, [
    "fast path: web cpu_avg 1 over 0.85 in the last 0.4 s",
    "cpu_avg 1 over threshold 0.75",
    "scale-out of web executed",
  ]);
  assert.equal(fast.service, "web");
  assert.equal(fast.action, "start");
  const held = summariseDecision("n1", {
    chosen: { policy: "noaction", targets: ["noservice"], reasons: [] },
    outcome: "none",
    why: "no action",
    fastPathHeld: ["web cpu_avg 0.93 over 0.85 in the last 0.4 s, held: it crossed 3.2 s before"],
  });
  assert.deepEqual(held.reasons, [
    "no action",
    "fast path: web cpu_avg 0.93 over 0.85 in the last 0.4 s, held: it crossed 3.2 s before",
  ]);
  assert.equal(summariseDecision("n2", {}).policy, "");
});

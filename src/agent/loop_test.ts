/**
 * The whole MAPE loop on a fake clock, without Docker: the real monitor, analyzer, planner,
 * executor (instance manager, reservations, guards, upkeep) and recorder, over the in-memory
 * container runtime and a usage reader that burns whatever CPU the test says.
 */

import assert from "node:assert/strict";
import { parseServiceDescriptor } from "../config/documents.ts";
import type { ServiceDescriptor } from "../domain/model.ts";
import type { Dependency, Telemetry } from "../ports/telemetry.ts";
import { noTelemetry } from "../ports/telemetry.ts";
import { IMAGE, loopRig } from "./_testing.ts";

function web(extra: Record<string, unknown> = {}): ServiceDescriptor {
  return parseServiceDescriptor({
    Name: "web",
    Image: IMAGE,
    MinInstances: 1,
    MaxInstances: 3,
    Configuration: { CpuNumber: 1, Memory: "128M", Ports: { "80": "30000-30009" } },
    ...extra,
  }, "web.json");
}

/** A node of 4 cores running the loop over the in-memory engine. */
function rig(options: { dryRun?: boolean; baseServices?: string[]; service?: ServiceDescriptor }) {
  const errors: Dependency[] = [];
  const telemetry: Telemetry = { ...noTelemetry, dependencyError: (d) => errors.push(d) };
  const r = loopRig({
    services: [options.service ?? web()],
    autonomic: { ScaleInStabilization: 3 },
    baseServices: options.baseServices,
    dryRun: options.dryRun,
    telemetry,
  });
  return { ...r, errors };
}

Deno.test("loop: load scales out to max, one step per cooldown, never above max", async () => {
  const r = rig({});
  await r.instances.init();
  await r.instances.start(r.state.services.get("web")!);
  r.usage.load.web = 0.95;
  await r.after(0); // first samples
  const first = await r.after(2);
  assert.equal(first.chosen.policy, "scaleout", first.why);
  assert.equal(first.outcome, "executed", first.why);
  assert.equal(first.actions[0]?.action, "start");
  assert.equal(r.running(), 2);
  const held = await r.after(2);
  assert.equal(held.outcome, "blocked");
  assert.match(held.why, /cooldown/);
  assert.equal(r.running(), 2);
  const second = await r.after(4);
  assert.equal(second.outcome, "executed", second.why);
  assert.equal(r.running(), 3);
  const atMax = await r.after(6);
  assert.notEqual(atMax.outcome, "executed", atMax.why);
  assert.equal(r.running(), 3, "never above MaxInstances");
  assert.deepEqual(Object.keys(atMax.phasesMs), ["monitor", "analyze", "plan", "execute"]);
});

Deno.test("loop: idle scales in only after stabilization and cooldown, down to min", async () => {
  const r = rig({});
  await r.instances.init();
  const svc = r.state.services.get("web")!;
  for (let i = 0; i < 3; i++) await r.instances.start(svc);
  r.usage.load.web = 0.02;
  await r.after(0);
  const wish = await r.after(2);
  assert.equal(wish.chosen.policy, "scalein");
  assert.equal(wish.outcome, "blocked");
  assert.match(wish.why, /stable/);
  assert.equal(r.running(), 3);
  const first = await r.after(3);
  assert.equal(first.outcome, "executed", first.why);
  assert.equal(r.running(), 2);
  const cooling = await r.after(1);
  assert.equal(cooling.outcome, "blocked");
  assert.equal(r.running(), 2);
  const second = await r.after(5);
  assert.equal(second.outcome, "executed", second.why);
  assert.equal(r.running(), 1);
  const atMin = await r.after(10);
  assert.notEqual(atMin.outcome, "executed", "never below MinInstances");
  assert.equal(r.running(), 1);
});

Deno.test("loop: a killed base-service instance is replaced at the next tick", async () => {
  const r = rig({ baseServices: ["web"] });
  await r.instances.init();
  const up = await r.after(0);
  assert.equal(up.actions.length, 1, "the base service comes up by itself");
  assert.match(up.actions[0]!.why, /base service/);
  const [only] = r.instances.list("web");
  r.runtime.kill(only!.id);
  await r.runtime.settle();
  const again = await r.after(1);
  const replaced = again.actions.find((a) => a.action === "start" && a.ok);
  assert.ok(replaced, JSON.stringify(again.actions));
  assert.match(replaced.why, /base service: 0 of 1/);
  assert.equal(r.running(), 1);
});

Deno.test("loop: dry-run decides and records, and changes no container", async () => {
  const r = rig({ dryRun: true, baseServices: ["web"] });
  await r.instances.init();
  await r.instances.start(r.state.services.get("web")!);
  r.usage.load.web = 0.95;
  await r.after(0);
  const d = await r.after(2);
  assert.equal(d.chosen.policy, "scaleout");
  assert.equal(d.outcome, "dry-run");
  assert.match(d.why, /would scaleout web/);
  assert.deepEqual(d.actions, []);
  assert.equal((await r.runtime.listAll()).length, 1);
});

Deno.test("loop: Docker down mid-run fails the action, not the loop; it recovers", async () => {
  const r = rig({});
  await r.instances.init();
  await r.instances.start(r.state.services.get("web")!);
  r.usage.load.web = 0.95;
  await r.after(0);
  r.runtime.down();
  const failed = await r.after(2);
  assert.ok(r.errors.includes("docker"), "the failed listing is counted");
  assert.equal(failed.chosen.policy, "scaleout");
  assert.equal(failed.outcome, "failed", failed.why);
  assert.match(failed.why, /scaleout of web failed/);
  r.runtime.up();
  const ok = await r.after(6);
  assert.equal(ok.outcome, "executed", ok.why);
  assert.equal(r.running(), 2);
  assert.equal(r.decisions.list().length, 3);
});

Deno.test("loop: a base service that exited while Docker was down is restarted when it is back", async () => {
  const r = rig({ baseServices: ["web"] });
  await r.instances.init();
  await r.after(0);
  const [only] = r.instances.list("web");
  r.runtime.down();
  await r.after(1);
  await r.after(1);
  r.runtime.up();
  r.runtime.kill(only!.id);
  await r.runtime.settle();
  const back = await r.after(1);
  const replaced = back.actions.find((a) => a.action === "start" && a.ok);
  assert.ok(replaced, JSON.stringify(back));
  assert.equal(r.running(), 1);
});

/**
 * The instance queue's races on the in-memory engine: bounds re-checked inside the queue
 * (a manual stop racing a scale-in at the floor, starts racing at the ceiling) and a refresh
 * that may not run beside a start.
 */

import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../../adapters/memory/memory_container_runtime.ts";
import { parseServiceDescriptor } from "../../config/documents.ts";
import { FakeClock } from "../../domain/clock.ts";
import { ConflictError } from "../../domain/errors.ts";
import type { ServiceDescriptor } from "../../domain/model.ts";
import type { ContainerSummary } from "../../ports/container_runtime.ts";
import { testInstances } from "../_testing.ts";
import type { InstanceBounds } from "./instances.ts";

const IMAGE = "gru-test/busybox";

/** An engine whose next `list` answers with what it saw at once, but only when let go. */
class HeldListRuntime extends MemoryContainerRuntime {
  #hold: Promise<void> | undefined;
  #release: (() => void) | undefined;

  /** Holds the answer of the next `list` until `release()`. */
  holdNextList(): void {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#hold = promise;
    this.#release = resolve;
  }

  release(): void {
    this.#release?.();
  }

  override async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const hold = this.#hold;
    this.#hold = undefined;
    const seen = await super.list(labels);
    await hold;
    return seen;
  }
}

function service(extra: Record<string, unknown> = {}): ServiceDescriptor {
  return parseServiceDescriptor({
    Name: "web",
    Image: IMAGE,
    Configuration: { CpuNumber: 1, Memory: "64M" },
    ...extra,
  }, "web.json");
}

async function rig(bounds?: InstanceBounds) {
  const clock = new FakeClock(1_700_000_000_000);
  const runtime = new HeldListRuntime({ clock, images: [IMAGE], ncpu: 4 });
  const instances = testInstances(runtime, clock, bounds);
  await instances.init();
  const running = () => instances.list("web").filter((i) => i.status === "running").length;
  return { clock, runtime, instances, running };
}

Deno.test("a manual stop racing a scale-in never takes a service below MinInstances", async () => {
  const { instances, running } = await rig();
  const web = service({ MinInstances: 2 });
  const [a] = [await instances.start(web), await instances.start(web), await instances.start(web)];
  // Both were decided when 3 ran; only one fits above the floor of 2.
  const results = await Promise.allSettled([
    instances.stop(web, { id: a!.id }), // manual
    instances.stop(web), // the loop's scale-in
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.ok(refused.reason instanceof ConflictError, String(refused.reason));
  assert.match(refused.reason.message, /min instances reached \(2 of 2 cluster-wide/);
  assert.match(refused.reason.message, /force: true/);
  assert.equal(running(), 2);
  await instances.stop(web, { force: true });
  assert.equal(running(), 1, "a forced stop goes below the floor");
});

Deno.test("the cluster-wide floor counts the instances peers report", async () => {
  let elsewhere = 1;
  const { instances, running } = await rig({ isBase: () => false, elsewhere: () => elsewhere });
  const web = service({ MinInstances: 2 });
  await instances.start(web);
  await instances.start(web);
  await instances.stop(web); // 2 here + 1 elsewhere: one may go
  assert.equal(running(), 1);
  await assert.rejects(() => instances.stop(web), ConflictError); // 1 + 1 = the floor
  elsewhere = 3;
  await instances.stop(web);
  assert.equal(running(), 0);
});

Deno.test("a base service keeps max(1, MinInstances) on this node unless forced", async () => {
  const { instances, running } = await rig({ isBase: (s) => s === "web", elsewhere: () => 5 });
  const web = service();
  await instances.start(web);
  await assert.rejects(
    () => instances.stop(web),
    (e: unknown) => e instanceof ConflictError && /base service of this node/.test(e.message),
  );
  assert.equal(running(), 1);
  await instances.stop(web, { force: true });
  assert.equal(running(), 0);
});

Deno.test("starts racing at MaxInstances: the queue lets exactly the ones that fit", async () => {
  const { instances, running } = await rig();
  const web = service({ MaxInstances: 2 });
  await instances.start(web);
  const results = await Promise.allSettled([instances.start(web), instances.start(web)]);
  assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.ok(refused.reason instanceof ConflictError);
  assert.match(refused.reason.message, /max instances reached \(2 of 2 on this node\)/);
  assert.equal(running(), 2);
});

Deno.test("a refresh listing before a start's create cannot drop the new instance", async () => {
  const { runtime, instances } = await rig();
  const web = service();
  const free = instances.ledger.capacity().freeCpus;
  runtime.holdNextList();
  const refreshed = instances.refresh(); // lists at once, answers when released
  const started = instances.start(web);
  // Let the start run as far as it can (to its end when nothing holds it back).
  await Promise.race([started.catch(() => {}), new Promise((r) => setTimeout(r, 50))]);
  runtime.release();
  const [inst] = await Promise.all([started, refreshed]);
  // (A later refresh would adopt it again; in between, its cores could be given away.)
  assert.deepEqual(instances.list("web").map((i) => i.id), [inst.id], "the instance is known");
  assert.equal(instances.ledger.capacity().freeCpus, free - 1, "its core stays reserved");
});

Deno.test("refresh callers arriving while one is queued share it", async () => {
  const { runtime, instances } = await rig();
  const before = runtime.calls.filter((c) => c.method === "list").length;
  const web = service();
  const started = instances.start(web);
  const a = instances.refresh();
  const b = instances.refresh();
  assert.equal(a, b);
  await Promise.all([started, a]);
  // The start's own listing and one shared refresh.
  assert.equal(runtime.calls.filter((c) => c.method === "list").length - before, 2);
});

Deno.test("a stop whose engine stop fails still removes the container", async () => {
  const { runtime, instances, running } = await rig();
  const web = service();
  await instances.start(web);
  runtime.failNext("stop", new Error("socket hang up"));
  await instances.stop(web);
  assert.equal(running(), 0);
  assert.equal(instances.list("web").length, 0);
  assert.equal((await runtime.list({})).length, 0);
});

Deno.test("a stopped instance that will not start again is replaced by a fresh container", async () => {
  const { runtime, instances, running } = await rig();
  const web = service();
  const first = await instances.start(web);
  runtime.kill(first.id);
  await runtime.settle();
  await instances.refresh();
  assert.equal(instances.list("web")[0]?.status, "stopped");
  // After an engine restart containerd may keep the dead task of a stopped container.
  runtime.failNext("start", new Error(`task ${first.id}: already exists`));
  const next = await instances.start(web);
  assert.notEqual(next.id, first.id, "a fresh container");
  assert.equal(running(), 1);
  const left = await runtime.list({});
  assert.deepEqual(left.map((c) => c.id), [next.id], "the stuck one is removed");
  assert.equal(instances.list("web").length, 1);
});

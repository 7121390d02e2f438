/**
 * Activation of the autonomic loop on a whole agent (in-memory engine and store, fake clock):
 * `stop agent` and `start agent` arriving while a tick is stuck on a slow engine.
 */

import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../adapters/memory/memory_container_runtime.ts";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { FakeClock } from "../domain/clock.ts";
import type { ContainerSummary } from "../ports/container_runtime.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import type { Agent } from "./agent.ts";
import { wireTestAgent } from "./_testing.ts";
import { RESYNC_MS } from "./monitor/monitor.ts";

/** An engine whose listings can be made to hang until it is fast again. */
class SlowableRuntime extends MemoryContainerRuntime {
  #gate: PromiseWithResolvers<void> | undefined;
  /** Listings waiting on the gate. */
  waiting = 0;

  slow(): void {
    this.#gate ??= Promise.withResolvers<void>();
  }

  fast(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
  }

  override async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const gate = this.#gate;
    if (gate) {
      this.waiting++;
      await gate.promise;
      this.waiting--;
    }
    return await super.list(labels);
  }
}

/** A fake clock whose monotonic reading can be made to throw once (a loop-killing bug). */
class BreakableClock extends FakeClock {
  breakNext = false;

  override monotonic(): number {
    if (this.breakNext) {
      this.breakNext = false;
      throw new Error("the clock broke");
    }
    return super.monotonic();
  }
}

/** Resolves once `ok()` holds; fails the test after `ms` of real time. */
async function until(ok: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function rig(): Promise<{
  agent: Agent;
  clock: BreakableClock;
  runtime: SlowableRuntime;
  store: ClusterStore;
  close(): Promise<void>;
}> {
  const clock = new BreakableClock(1_700_000_000_000);
  // The store keeps leases on real time; the fake clock drives the agent alone.
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster("c", { uuid: "c".repeat(32), token: "t" });
  const runtime = new SlowableRuntime({ clock, ncpu: 2 });
  const usage: UsageReader = {
    kind: "fake",
    read: () => Promise.resolve({ at: clock.now() }),
    forget: () => {},
    close: () => Promise.resolve(),
  };
  const agent = wireTestAgent({ cluster: "c", store, runtime, usage, clock });
  await agent.start();
  await agent.waitRegistered(5000);
  return {
    agent,
    clock,
    runtime,
    store,
    async close() {
      runtime.fast();
      await agent.stop();
    },
  };
}

const command = (agent: Agent, name: "start" | "stop") => agent.command({ name, target: "agent" });

Deno.test("stop agent then start agent during a slow tick: the loop runs and health says so", async () => {
  const r = await rig();
  try {
    r.runtime.slow();
    // The engine's events keep the listing fresh: let it age, so the next tick lists (and hangs).
    r.clock.advance(RESYNC_MS);
    await command(r.agent, "start");
    await until(() => r.runtime.waiting > 0, "a tick stuck on the engine");
    const stopping = command(r.agent, "stop");
    const starting = command(r.agent, "start");
    // While the last tick finishes, the loop is not running, whatever was asked.
    await until(() => !r.agent.health().active, "the stop to begin");
    assert.equal(r.agent.health().loop?.wanted, true);
    r.runtime.fast();
    await Promise.all([stopping, starting]);

    const h = r.agent.health();
    assert.equal(h.active, true);
    assert.deepEqual(h.loop, { wanted: true, running: true });
    assert.equal(r.agent.record().active, true);
    assert.equal((await r.store.getNode("c", "n1"))?.active, true, "the node record agrees");
    // And it really ticks: a decision per interval.
    const before = r.agent.decisionsList().length;
    r.clock.advance(r.agent.config.autonomic.loopTimeInterval * 1000);
    await until(() => r.agent.decisionsList().length > before, "a tick of the restarted loop");
  } finally {
    await r.close();
  }
});

Deno.test("flapping start/stop requests: the last one wins and the record tells the truth", async () => {
  const r = await rig();
  try {
    r.runtime.slow();
    // The engine's events keep the listing fresh: let it age, so the next tick lists (and hangs).
    r.clock.advance(RESYNC_MS);
    await command(r.agent, "start");
    await until(() => r.runtime.waiting > 0, "a tick stuck on the engine");
    const all = [
      command(r.agent, "stop"),
      command(r.agent, "start"),
      command(r.agent, "stop"),
      command(r.agent, "start"),
      command(r.agent, "stop"),
    ];
    r.runtime.fast();
    await Promise.all(all);
    assert.equal(r.agent.active, false);
    assert.deepEqual(r.agent.health().loop, { wanted: false, running: false });
    assert.equal((await r.store.getNode("c", "n1"))?.active, false);
    // No loop is left ticking.
    const count = r.agent.decisionsList().length;
    for (let i = 0; i < 20; i++) {
      r.clock.advance(1000);
      await new Promise((res) => setTimeout(res, 1));
    }
    assert.equal(r.agent.decisionsList().length, count);

    await command(r.agent, "start");
    assert.equal(r.agent.active, true);
    assert.equal((await r.store.getNode("c", "n1"))?.active, true);
  } finally {
    await r.close();
  }
});

Deno.test("a loop that died is reported by /health and restarted", async () => {
  const r = await rig();
  try {
    r.clock.breakNext = true;
    await command(r.agent, "start");
    await until(() => r.agent.health().loop?.error !== undefined, "the loop's death");
    const h = r.agent.health();
    assert.equal(h.active, false);
    assert.equal(h.status, "degraded");
    assert.match(h.loop?.error ?? "", /the clock broke/);
    // The agent's retry round (every 2 s) starts it again.
    r.clock.advance(2000);
    await until(() => r.agent.active, "the loop's restart");
    assert.deepEqual(r.agent.health().loop, { wanted: true, running: true });
    assert.equal((await r.store.getNode("c", "n1"))?.active, true);
  } finally {
    await r.close();
  }
});

/**
 * An in-process agent on the real Docker engine, over the embedded store, for loop tests.
 *
 * @module
 */

import { parseJsonc } from "../../src/config/jsonc.ts";
import { MemoryKvStore } from "../../src/adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { wireAgent } from "../../src/app/agent_wiring.ts";
import type { Agent } from "../../src/agent/agent.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { seededPrng } from "../../src/domain/random.ts";
import { type ClusterDocs, LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { CgroupUsageReader } from "../../src/adapters/cgroup/cgroup_usage_reader.ts";
import { DockerStatsUsageReader } from "../../src/adapters/docker/docker_stats_reader.ts";
import { testRuntime } from "./docker.ts";
import type { UsageReader } from "../../src/ports/usage_reader.ts";
import type { DockerRuntime } from "../../src/adapters/docker/docker_runtime.ts";
import type { MetricSink } from "../../src/ports/metric_sink.ts";

/** A running test agent and what it stands on. */
export interface TestAgent {
  agent: Agent;
  store: ClusterStore;
  usage: UsageReader;
  close(): Promise<void>;
}

/** The usage reader the agent would pick: cgroup files when readable, else Docker stats. */
export async function pickUsageReader(): Promise<UsageReader> {
  return (await CgroupUsageReader.detect()) ??
    new DockerStatsUsageReader(testRuntime().streamDocker);
}

/** Starts an agent of node `node` in cluster `cluster` with `docs` imported. */
export async function startTestAgent(options: {
  cluster: string;
  node?: string;
  run: string;
  docs: ClusterDocs;
  baseServices?: string[];
  dryRun?: boolean;
  store?: ClusterStore;
  seed?: number;
  runtime?: DockerRuntime;
  sink?: MetricSink;
}): Promise<TestAgent> {
  const store = options.store ?? new ClusterStore(await MemoryKvStore.open());
  if ((await store.clusterUuid(options.cluster)) === undefined) {
    await store.createCluster(options.cluster, { uuid: "c".repeat(32), token: "t" });
  }
  await store.importDocs(options.cluster, options.docs);
  const usage = await pickUsageReader();
  const agent = wireAgent({
    identity: {
      cluster: options.cluster,
      name: options.node ?? "n1",
      uuid: "a".repeat(32),
      address: "http://127.0.0.1:1",
      hostIp: "127.0.0.1",
    },
    store,
    runtime: options.runtime ?? testRuntime(),
    usage,
    clock: systemClock,
    prng: seededPrng(options.seed ?? 42),
    ttl: 5,
    dryRun: options.dryRun ?? false,
    etcdAddr: "http://127.0.0.1:2379",
    env: () => undefined,
    labels: { [LABEL_TEST_RUN]: options.run },
    sampleMs: 250,
    sink: options.sink,
  });
  await agent.start();
  if (options.baseServices) {
    await agent.command({
      name: "update",
      target: "node-base-services",
      object: options.baseServices,
    });
  }
  return {
    agent,
    store,
    usage,
    close: async () => {
      await agent.stop();
      await usage.close();
      if (!options.store) await store.kv.close();
    },
  };
}

/** Polls until `check` is true, or fails after `ms` with `describe()`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  describe: () => string,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Not reached within ${ms} ms: ${describe()}`);
}

/**
 * Sends CPU-burning requests (`/cgi-bin/work?n=…` of `gru-demo/web`) to the base URLs `targets()`
 * returns, round-robin, from `workers` concurrent loops, until stopped.
 */
export function urlLoad(targets: () => string[], options: { workers: number; n: number }) {
  let stopped = false;
  let sent = 0;
  const worker = async (w: number) => {
    let i = w;
    while (!stopped) {
      const urls = targets();
      if (urls.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const url = urls[i++ % urls.length]!;
      try {
        const res = await fetch(`${url}/cgi-bin/work?n=${options.n}`, {
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        sent++;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const tasks = Array.from({ length: options.workers }, (_, w) => worker(w));
  return {
    get sent() {
      return sent;
    },
    async stop() {
      stopped = true;
      await Promise.all(tasks);
    },
  };
}

/** `urlLoad` on host ports of 127.0.0.1. */
export function loadGenerator(ports: () => number[], options: { workers: number; n: number }) {
  return urlLoad(() => ports().map((p) => `http://127.0.0.1:${p}`), options);
}

/**
 * One of the demo's documents (`examples/demo/<name>`, JSONC) as written, for benchmarks that
 * run the demo's own settings.
 *
 * @throws {Error} Naming the file, when it does not parse.
 */
export function demoDocument(name: string): Record<string, Record<string, unknown>> {
  const file = new URL(`../../examples/demo/${name}`, import.meta.url);
  const { value, problems } = parseJsonc(Deno.readTextFileSync(file), file.pathname);
  if (problems.length > 0) throw new Error(`${file.pathname}: ${JSON.stringify(problems[0])}`);
  return value as Record<string, Record<string, unknown>>;
}

/**
 * How long one usage read costs with each reader, for the same running busybox container:
 * `CgroupUsageReader.read` (cached paths, and cold: paths resolved from /proc every time),
 * `DockerStatsUsageReader.read` (latest sample of an open stream), and for comparison one
 * call of Docker's non-streamed stats API (what a naive agent would do per read). Prints the
 * figures; asserts nothing.
 *
 * Usage: `deno run -A scripts/bench_usage_readers.ts [reads=100]` (needs the engine at
 * /var/run/docker.sock, or GRU_TEST_DOCKER_SOCKET, and the image gru-test/busybox).
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { CgroupUsageReader } from "../src/adapters/cgroup/cgroup_usage_reader.ts";
import { DockerRuntime } from "../src/adapters/docker/docker_runtime.ts";
import { DockerStatsUsageReader } from "../src/adapters/docker/docker_stats_reader.ts";
import type { UsageReader, UsageTarget } from "../src/ports/usage_reader.ts";
import { LABEL_TEST_RUN } from "../src/domain/model.ts";

const reads = Number(Deno.args[0] ?? 100);
const socketPath = Deno.env.get("GRU_TEST_DOCKER_SOCKET") ?? "/var/run/docker.sock";

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

function summary(label: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((s, x) => s + x, 0) / ms.length;
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const f = (x: number) => x < 1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(2)} ms`;
  console.log(
    `${label.padEnd(44)} n=${String(ms.length).padStart(3)}  mean ${f(mean).padStart(10)}  ` +
      `p50 ${f(pct(0.5)).padStart(10)}  p99 ${f(pct(0.99)).padStart(10)}`,
  );
}

async function bench(label: string, reader: UsageReader, target: UsageTarget): Promise<void> {
  // warm-up: open streams, fill caches, JIT
  const end = Date.now() + 5000;
  while ((await reader.read(target)).cpuNs === undefined && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await time(20, () => reader.read(target));
  summary(label, await time(reads, () => reader.read(target)));
}

const rt = new DockerRuntime({ endpoint: { kind: "socket", socketPath } });
const id = await rt.create({
  name: `gru-bench-${Date.now().toString(36)}`,
  image: "gru-test/busybox",
  cmd: ["sh", "-c", "while :; do :; done"],
  env: [],
  labels: { [LABEL_TEST_RUN]: "bench" },
  cpusetCpus: "0",
  memory: 0,
  portBindings: {},
});
try {
  await rt.start(id);
  const { pid } = await rt.inspect(id);
  const target = { id, pid };
  const cgroup = await CgroupUsageReader.detect();
  if (cgroup) {
    await bench(`CgroupUsageReader (${cgroup.kind}) read`, cgroup, target);
    await time(20, async () => {
      cgroup.forget(id);
      await cgroup.read(target);
    });
    summary(
      `CgroupUsageReader (${cgroup.kind}) cold read`,
      await time(reads, async () => {
        cgroup.forget(id);
        await cgroup.read(target);
      }),
    );
    await cgroup.close();
  } else {
    console.log("CgroupUsageReader: not usable on this host");
  }
  const stats = new DockerStatsUsageReader(rt.streamDocker);
  await bench("DockerStatsUsageReader read (streamed)", stats, target);
  await stats.close();
  const container = rt.docker.getContainer(id);
  summary(
    "Docker stats API, one-shot (stream=false)",
    await time(3, () => container.stats({ stream: false })),
  );
  summary("Docker inspect (for scale)", await time(20, () => container.inspect()));
} finally {
  await rt.remove(id);
  await rt.close();
}

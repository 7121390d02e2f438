/**
 * Monitoring cost: agent CPU (% of one core) and RSS while it watches 20, 50 and 100 containers
 * at 1 s resolution, compared with polling the Docker stats API for the same containers.
 *
 * For each N: N busybox `sleep 3600` containers on the host engine labelled as instances of
 * service `idle` of node `m1` in cluster `benchmon`; a real `gru agent --active` subprocess on an
 * embedded file store (config: 1 s loop, an empty policy, so it monitors, analyzes and plans
 * every second and never acts); after a 10 s warm-up, 30 s of its CPU (utime+stime of
 * /proc/<pid>/stat, children included) and RSS (VmRSS, VmHWM), and of the engine's CPU (dockerd,
 * containerd and the containerd shims) over the same window. Then, without the agent: the
 * engine alone for 10 s (baseline), and the same 30 s while this process polls the stats API for
 * the N containers once per second, one-shot (`stats({stream:false})`, all in parallel, what a
 * naive agent does) and streamed (`DockerStatsUsageReader`, one open stream per container).
 *
 * Prints a table; asserts nothing. `deno run -A scripts/bench_monitoring.ts [20,50,100]`
 * (root; the engine at /var/run/docker.sock; the image gru-test/busybox). Every container is
 * labelled `gru.test-run=<id>` and removed at the end.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { DockerStatsUsageReader } from "../src/adapters/docker/docker_stats_reader.ts";
import { LABEL_TEST_RUN } from "../src/domain/model.ts";
import { removeRunContainers, testRuntime } from "../tests/helpers/docker.ts";

const COUNTS = (Deno.args[0] ?? "20,50,100").split(",").map(Number);
const WARMUP_MS = 10_000;
const WINDOW_MS = 30_000;
const BASELINE_MS = 10_000;
const ROOT = new URL("../", import.meta.url).pathname;
const run = `bench-mon-${Date.now().toString(36)}`;
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const dec = new TextDecoder();

/** CPU seconds of a pid (its threads, plus waited-for children). */
function cpuOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields 14-17 (utime, stime, cutime, cstime) are f[11..14] after the comm
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
  } catch {
    return 0;
  }
}

/** Live descendants of a pid. */
function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const c = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`).trim();
      for (const p of c.split(/\s+/).filter(Boolean).map(Number)) out.push(p, ...children(p));
    }
  } catch {
    // gone
  }
  return out;
}

function kib(pid: number, key: string): number {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN);
}

/** The engine's processes: dockerd, containerd and every containerd shim. */
function enginePids(): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const comm = Deno.readTextFileSync(`/proc/${e.name}/comm`).trim();
      if (comm === "dockerd" || comm === "containerd" || comm.startsWith("containerd-shim")) {
        out.push(Number(e.name));
      }
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU seconds used by `pids` (and our own process) during `fn`. */
async function measure(pids: () => number[], fn: () => Promise<void>) {
  const ps = pids();
  const a = ps.map(cpuOf);
  const selfA = cpuOf(Deno.pid);
  const t = performance.now();
  await fn();
  const secs = (performance.now() - t) / 1000;
  const used = ps.map(cpuOf).reduce((s, x, i) => s + Math.max(0, x - a[i]!), 0);
  return { pct: (100 * used) / secs, selfPct: (100 * (cpuOf(Deno.pid) - selfA)) / secs };
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

async function startContainers(from: number, to: number): Promise<void> {
  const jobs: Promise<string>[] = [];
  for (let i = from; i < to; i++) {
    jobs.push(sh("docker", [
      "run",
      "-d",
      "--name",
      `${run}-idle-${i}`,
      "--label",
      "gru.cluster=benchmon",
      "--label",
      "gru.node=m1",
      "--label",
      "gru.service=idle",
      "--label",
      `${LABEL_TEST_RUN}=${run}`,
      "gru-test/busybox",
      "sleep",
      "3600",
    ]));
    if (jobs.length >= 8) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

const tmp = await Deno.makeTempDir({ prefix: "gru-bench-mon-" });
const store = `file:${tmp}/store.json`;
const gru = (args: string[]) =>
  sh(Deno.execPath(), ["run", "-A", "--quiet", `${ROOT}main.ts`, "--store", store, ...args]);

interface Row {
  n: number;
  agentCpu: number;
  agentRss: number;
  agentHwm: number;
  engineWithAgent: number;
  engineIdle: number;
  oneShotClient: number;
  oneShotEngine: number;
  oneShotRound: number;
  streamClient: number;
  streamEngine: number;
}
const rows: Row[] = [];

try {
  await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
  await Deno.writeTextFile(
    `${tmp}/conf/config.json`,
    JSON.stringify({ Autonomic: { LoopTimeInterval: 1, Window: 5 } }),
  );
  await Deno.writeTextFile(`${tmp}/conf/policy.json`, "{}");
  await Deno.writeTextFile(
    `${tmp}/conf/services/idle.json`,
    JSON.stringify({
      Name: "idle",
      Image: "gru-test/busybox",
      Configuration: { Cmd: ["sleep", "3600"] },
    }),
  );
  await gru(["create", "benchmon"]);
  await gru(["config", "import", "benchmon", `${tmp}/conf`]);
  const token = (await gru(["token", "show", "benchmon", "--reveal"])).trim();

  let have = 0;
  const rt = testRuntime();
  for (const n of COUNTS) {
    console.log(`starting containers ${have}..${n}`);
    await startContainers(have, n);
    have = n;
    const ids = (await rt.list({ [LABEL_TEST_RUN]: run })).map((c) => c.id);
    await sleep(3000);

    // 1. The agent.
    const port = 29450 + n % 40;
    const agent = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        `${ROOT}main.ts`,
        "--store",
        store,
        "agent",
        "--cluster",
        "benchmon",
        "--name",
        "m1",
        "--address",
        "127.0.0.1",
        "--port",
        String(port),
        "--listen",
        "127.0.0.1",
        "--state",
        `${tmp}/m1.json`,
        "--active",
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    let agentM, engineM, rss = NaN, hwm = NaN;
    try {
      await sleep(WARMUP_MS);
      const seen = await fetch(`http://127.0.0.1:${port}/gru/v1/services/idle`, {
        headers: { authorization: `Bearer ${token}` },
      })
        .then((r) => r.json()).catch(() => undefined);
      const watched = JSON.stringify(seen ?? "").match(/"id"/g)?.length ?? 0;
      console.log(`N=${n}: the agent lists ${watched} instances of idle`);
      const engine = enginePids();
      [agentM, engineM] = await Promise.all([
        measure(() => [agent.pid, ...children(agent.pid)], () => sleep(WINDOW_MS)),
        measure(() => engine, () => sleep(WINDOW_MS)),
      ]);
      rss = kib(agent.pid, "VmRSS");
      hwm = kib(agent.pid, "VmHWM");
    } finally {
      try {
        agent.kill("SIGTERM");
      } catch {
        // it exited by itself: the figures below say so
      }
      await agent.status;
    }
    await sleep(2000);

    // 2. The engine alone.
    const engine = enginePids();
    const idle = await measure(() => engine, () => sleep(BASELINE_MS));

    // 3. One-shot stats API polling, once per second, all N in parallel.
    let rounds = 0, roundMs = 0;
    const oneShot = await measure(() => engine, async () => {
      const end = Date.now() + WINDOW_MS;
      while (Date.now() < end) {
        const t = performance.now();
        await Promise.all(
          ids.map((id) => rt.docker.getContainer(id).stats({ stream: false }).catch(() => {})),
        );
        const took = performance.now() - t;
        rounds++;
        roundMs += took;
        await sleep(Math.max(0, 1000 - took));
      }
    });

    // 4. Streamed stats (one open stream per container), read once per second.
    const reader = new DockerStatsUsageReader(rt.streamDocker);
    const targets = ids.map((id) => ({ id, pid: 0 }));
    await Promise.all(targets.map((t) => reader.read(t)));
    await sleep(3000);
    const streamed = await measure(() => engine, async () => {
      const end = Date.now() + WINDOW_MS;
      while (Date.now() < end) {
        await Promise.all(targets.map((t) => reader.read(t)));
        await sleep(1000);
      }
    });
    await reader.close();

    rows.push({
      n,
      agentCpu: agentM.pct,
      agentRss: rss / 1024,
      agentHwm: hwm / 1024,
      engineWithAgent: engineM.pct,
      engineIdle: idle.pct,
      oneShotClient: oneShot.selfPct,
      oneShotEngine: oneShot.pct,
      oneShotRound: roundMs / Math.max(1, rounds),
      streamClient: streamed.selfPct,
      streamEngine: streamed.pct,
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
  await rt.close();
} finally {
  const removed = await removeRunContainers(run);
  console.log(`removed ${removed} containers`);
  await Deno.remove(tmp, { recursive: true });
}

const f = (x: number) => x.toFixed(1);
console.log(
  "\n| containers | agent CPU (% core) | agent RSS (MB) | agent VmHWM (MB) | engine CPU with agent (%) | " +
    "engine CPU idle (%) | stats one-shot: client (%) | engine (%) | round (ms) | " +
    "stats streamed: client (%) | engine (%) |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.n} | ${f(r.agentCpu)} | ${f(r.agentRss)} | ${f(r.agentHwm)} | ${
      f(r.engineWithAgent)
    } | ` +
      `${f(r.engineIdle)} | ${f(r.oneShotClient)} | ${f(r.oneShotEngine)} | ${
        r.oneShotRound.toFixed(0)
      } | ` +
      `${f(r.streamClient)} | ${f(r.streamEngine)} |`,
  );
}

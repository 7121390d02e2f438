/**
 * Console RSS with a 10-node cluster (issue #13):
 *   deno run -A scripts/bench_console.ts [seconds=60]
 * Environment: BENCH_LOOP (cluster loop interval, s; default 1), BENCH_VIEWERS (SSE clients;
 * default 3), BENCH_CHARTS (services whose 60-min history is fetched every 5 s; default 6),
 * BENCH_V8_FLAGS=a,b (start the console with `--v8-flags=a,b`), BENCH_MODE
 * (both | sse | history | session | none; default both), BENCH_MALLOC (MALLOC_ARENA_MAX),
 * BENCH_SERIES=1 (also print every 1 s RSS sample), BENCH_AGENTS=real (10 real `gru agent`
 * processes on the host's engine instead of the stubs: each service kept at one instance
 * somewhere, `sleep` in gru-test/busybox; their containers carry the run's label and are removed).
 *
 * - etcd (real, 127.0.0.1:2379): a cluster with 6 services and 1 s loop interval; 10 node
 *   records registered on a lease, each pointing at its own port.
 * - The 10 agents are STUBS: one Deno.serve per node in this process, answering the agent routes
 *   the console reads (/node, /services, /decisions?limit=20, /health, /history) with realistic,
 *   full-size bodies: 6 instances per node, 20 decision records each with 6 services' inputs,
 *   and a FULL hour of history at 1 s resolution (3600 samples per service, 2 analytics).
 * - The console is the real `gru console` process (deno run main.ts). Load: 3 SSE clients
 *   (overview each second), a history request for each service every 5 s (3600 samples × 10 nodes
 *   merged), and the documents every 5 s. VmRSS is sampled each second, VmHWM read at the end.
 *
 * Prints one JSON line (idle, median, last, max sampled RSS and VmHWM in MB, and the console's
 * CPU over the run in % of one core, from /proc/<pid>/stat); asserts nothing. The
 * cluster's keys are deleted and the lease revoked at the end.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { EtcdKvStore } from "../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../src/cluster/cluster_store.ts";
import { GruProcess, loopbackAgent } from "../tests/helpers/gru_process.ts";
import { waitFor } from "../tests/helpers/agent.ts";
import { removeRunContainers } from "../tests/helpers/docker.ts";
import { testRunId } from "../tests/helpers/env.ts";
import { freePort } from "../tests/helpers/net.ts";
import { parseAgentConfig, parseServiceDescriptor } from "../src/config/documents.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const seconds = Number(Deno.args[0] ?? 60);
const NODES = 10;
const SERVICES = ["web", "api", "worker", "cache", "db", "idle"];
const cluster = `bench-console-${Date.now().toString(36)}`;
/** `BENCH_AGENTS=real`: 10 real `gru agent` processes instead of the stubs. */
const REAL = Deno.env.get("BENCH_AGENTS") === "real";
const run = testRunId();
const now = Date.now();

function history(service: string) {
  const n = 3600;
  const t = Array.from({ length: n }, (_, i) => now - (n - i) * 1000);
  const wave = (i: number) => Math.round((0.5 + 0.4 * Math.sin(i / 60)) * 1e4) / 1e4;
  return {
    t,
    running: t.map((_, i) => 1 + (i % 3)),
    pending: t.map(() => 0),
    cpuAvg: t.map((_, i) => wave(i)),
    memoryAvg: t.map((_, i) => wave(i + 7) / 2),
    analytics: { load: t.map((_, i) => wave(i + 3)), latency: t.map((_, i) => wave(i + 5)) },
    _service: service,
  };
}
const HISTORY = Object.fromEntries(SERVICES.map((s) => [s, history(s)]));
const markers = Array.from({ length: 200 }, (_, i) => ({
  t: now - i * 17_000,
  service: SERVICES[i % SERVICES.length],
  kind: i % 2 ? "scale-out" : "scale-in",
  policy: i % 2 ? "scaleout" : "scalein",
  outcome: "executed",
  reasons: ["cpu_avg 0.91 > threshold 0.75", "weight 0.83"],
}));

function inputs() {
  return Object.fromEntries(SERVICES.map((s) => [s, {
    running: 2,
    pending: 0,
    stopped: 0,
    paused: 0,
    cpu_avg: 0.5,
    memory_avg: 0.3,
    cpu_cores: 1,
    analytics: { load: 0.5, latency: 0.4 },
    metrics: {},
    dataAgeMs: 800,
    notes: [],
    cluster: { running: 20, pending: 0, nodes: 10, cpu_avg: 0.5, memory_avg: 0.3 },
  }]));
}

function stub(name: string, port: number) {
  const instances = SERVICES.map((s, i) => ({
    id: `${name}-${s}-${i}`.padEnd(64, "0"),
    name: `gru-${s}-${i}`,
    service: s,
    status: "running",
    cpus: [i % 4],
    memory: 256 * 1024 ** 2,
    ports: [{ guest: "80", host: 8000 + i }],
    startedAt: now - 600_000,
  }));
  const record = {
    config: {
      uuid: name.padEnd(32, "0"),
      name,
      address: `http://127.0.0.1:${port}`,
      cluster,
      remote: "",
    },
    constraints: { cpuMin: 0.2, cpuMax: 0.8, baseServices: ["web"] },
    resources: { totalCpus: 16, totalMemory: 64 * 1024 ** 3 },
    active: true,
  };
  const decisions = Array.from({ length: 20 }, (_, i) => ({
    seq: 1000 + i,
    time: now - i * 1000,
    node: name,
    strategy: "probdelta",
    draw: 0.4,
    inputs: {
      services: inputs(),
      node: {
        totalCpus: 16,
        totalMemory: 64 * 1024 ** 3,
        freeCpus: 10,
        freeMemory: 40 * 1024 ** 3,
      },
      usageSource: "cgroup",
      eventsConnected: true,
    },
    candidates: [{
      policy: "scaleout",
      targets: ["web"],
      weight: 0.8,
      reasons: ["cpu_avg 0.91 > 0.75"],
    }],
    chosen: {
      policy: i % 5 ? "noaction" : "scaleout",
      targets: i % 5 ? [] : ["web"],
      weight: 0.8,
      reasons: ["cpu_avg 0.91 > 0.75"],
    },
    outcome: i % 5 ? "none" : "executed",
    why: "scale out web",
    actions: [],
    phasesMs: { monitor: 1, analyze: 1, plan: 0, execute: 2 },
  }));
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const p = url.pathname.replace("/gru/v1", "");
    switch (p) {
      case "/node":
        return Response.json({ ...record, instances, desired: {} });
      case "/services":
        return Response.json(
          SERVICES.map((s) => ({ name: s, instances: instances.filter((i) => i.service === s) })),
        );
      case "/decisions":
        return Response.json(decisions);
      case "/health":
        return Response.json({
          status: "ok",
          active: true,
          store: { ok: true },
          docker: { ok: true },
          documents: { ok: true, problems: [] },
        });
      case "/history": {
        const service = url.searchParams.get("service");
        const minutes = Number(url.searchParams.get("minutes") ?? 60);
        const from = now - minutes * 60_000;
        const services: Record<string, unknown> = {};
        if (minutes > 0) {
          for (const s of SERVICES) {
            if (service && service !== s) continue;
            const h = HISTORY[s]!;
            // As the real agent: the last sample of each step.
            const step = Number(url.searchParams.get("step") ?? 0);
            const keep: number[] = [];
            h.t.forEach((t, i) => {
              if (t < from) return;
              const prev = keep.at(-1);
              if (
                step > 0 && prev !== undefined &&
                Math.floor(h.t[prev]! / step) === Math.floor(t / step)
              ) keep[keep.length - 1] = i;
              else keep.push(i);
            });
            const cut = <T>(a: T[]) => keep.map((i) => a[i]!);
            services[s] = {
              t: cut(h.t),
              running: cut(h.running),
              pending: cut(h.pending),
              cpuAvg: cut(h.cpuAvg),
              memoryAvg: cut(h.memoryAvg),
              analytics: { load: cut(h.analytics.load), latency: cut(h.analytics.latency) },
            };
          }
        }
        return Response.json({
          node: name,
          now,
          windowMs: 3_600_000,
          influx: "off",
          services,
          markers: minutes > 0 ? markers.filter((m) => !service || m.service === service) : [],
        });
      }
    }
    return Response.json({ error: { code: "not_found", message: p } }, { status: 404 });
  });
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssKb(pid: number, field = "VmRSS"): number {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
}

const kv = await EtcdKvStore.connect({ endpoints: ["http://127.0.0.1:2379"] });
const store = new ClusterStore(kv);
await store.createCluster(cluster, {
  uuid: crypto.randomUUID().replaceAll("-", ""),
  token: "bench-token",
});
await store.importDocs(cluster, {
  config: parseAgentConfig({
    Autonomic: { LoopTimeInterval: Number(Deno.env.get("BENCH_LOOP") ?? 1) },
  }, "bench"),
  services: SERVICES.map((s) =>
    parseServiceDescriptor({
      name: s,
      image: "gru-test/busybox",
      analytics: [],
      // Real agents keep one instance of each service somewhere in the cluster.
      ...(REAL ? { minInstances: 1, maxInstances: 3 } : {}),
      configuration: { env: { SECRET: "x" }, ...(REAL ? { cmd: ["sleep", "3600"] } : {}) },
    }, "bench")
  ),
});
const lease = await kv.grantLease(60);
const ports = Array.from({ length: NODES }, () => freePort());
const servers = REAL ? [] : ports.map((p, i) => stub(`node${i + 1}`, p));
// Real agents: `gru agent` processes on the host's engine, each registering itself.
const stateDir = REAL ? await Deno.makeTempDir({ prefix: "bench-console-" }) : "";
const agents = REAL
  ? ports.map((port, i) =>
    loopbackAgent({
      cluster,
      name: `node${i + 1}`,
      port,
      stateDir,
      run,
      ttl: 5,
      env: { ETCD_ADDR: "http://127.0.0.1:2379" },
      extraArgs: ["--active"],
    })
  )
  : [];
if (REAL) {
  const healthy = (port: number) =>
    fetch(`http://127.0.0.1:${port}/gru/v1/health`)
      .then(async (r) => (await r.json()).registered === true, () => false);
  await waitFor(
    async () => (await Promise.all(ports.map(healthy))).every(Boolean),
    120_000,
    () => agents.map((a) => a.log.slice(-300)).join("\n---\n"),
  );
}
for (const [i, port] of (REAL ? [] : ports).entries()) {
  const name = `node${i + 1}`;
  await store.registerNode(cluster, {
    config: {
      uuid: name.padEnd(32, "0"),
      name,
      address: `http://127.0.0.1:${port}`,
      cluster,
      remote: `/gru/${cluster}/nodes/${name}`,
    },
    constraints: { cpuMin: 0.2, cpuMax: 0.8, baseServices: ["web"] },
    resources: { totalCpus: 16, totalMemory: 64 * 1024 ** 3 },
    active: true,
  }, lease.id);
}

const cport = freePort();
const base = `http://127.0.0.1:${cport}`;
const v8 = Deno.env.get("BENCH_V8_FLAGS");
const consoleProc = v8 === undefined
  ? new GruProcess(["console", "--listen", `127.0.0.1:${cport}`, "--cluster", cluster], {
    ETCD_ADDR: "http://127.0.0.1:2379",
    ...(Deno.env.get("BENCH_MALLOC") ? { MALLOC_ARENA_MAX: Deno.env.get("BENCH_MALLOC")! } : {}),
  })
  : {
    child: new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--v8-flags=${v8}`,
        "--quiet",
        "main.ts",
        "console",
        "--listen",
        `127.0.0.1:${cport}`,
        "--cluster",
        cluster,
      ],
      cwd: ROOT,
      env: { ETCD_ADDR: "http://127.0.0.1:2379" },
      stdout: "null",
      stderr: "inherit",
    }).spawn(),
    async stop(sig: Deno.Signal) {
      try {
        this.child.kill(sig);
      } catch { /* gone */ }
      return await this.child.status;
    },
  };
const pid = consoleProc.child.pid;
const samples: number[] = [];
let overviews = 0;
let histories = 0;
try {
  for (let i = 0; i < 60; i++) {
    if (await fetch(`${base}/api/session`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const idle = rssKb(pid);
  const cpuAtStart = cpuSeconds(pid);
  const stop = new AbortController();
  const mode = Deno.env.get("BENCH_MODE") ?? "both";
  const viewers = Number(Deno.env.get("BENCH_VIEWERS") ?? 3);
  const charts = SERVICES.slice(0, Number(Deno.env.get("BENCH_CHARTS") ?? SERVICES.length));
  const sse = Array.from({
    length: mode === "history" || mode === "none" || mode === "session" ? 0 : viewers,
  }, async () => {
    const res = await fetch(`${base}/api/events`, { signal: stop.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        overviews += (value.match(/event: overview/g) ?? []).length;
      }
    } catch { /* aborted */ }
  });
  const poll = (async () => {
    while (!stop.signal.aborted && mode === "session") {
      await Promise.all(SERVICES.map(() => fetch(`${base}/api/session`).then((r) => r.text())));
      await new Promise((r) => setTimeout(r, 1000));
    }
    while (!stop.signal.aborted && mode !== "sse" && mode !== "none" && mode !== "session") {
      await Promise.all(
        charts.map((s) =>
          fetch(`${base}/api/services/${s}/history?minutes=60`).then(async (r) => {
            const b = await r.json();
            if (b.samples?.length > 0) histories++;
          }).catch(() => {})
        ),
      );
      await fetch(`${base}/api/documents`).then((r) => r.body?.cancel()).catch(() => {});
      await new Promise((r) => setTimeout(r, 5000));
    }
  })();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    samples.push(rssKb(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const hwm = rssKb(pid, "VmHWM");
  const cpu = cpuSeconds(pid) - cpuAtStart;
  stop.abort();
  await Promise.allSettled([...sse, poll]);
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(JSON.stringify({
    nodes: NODES,
    services: SERVICES.length,
    seconds,
    idleMb: mb(idle),
    medianMb: mb(sorted[Math.floor(sorted.length / 2)]!),
    lastMb: mb(samples.at(-1)!),
    maxSampledMb: mb(sorted.at(-1)!),
    peakHwmMb: mb(hwm),
    overviewEvents: overviews,
    historyAnswers: histories,
    cpuPercentOfCore: (cpu / seconds * 100).toFixed(1),
    ...(Deno.env.get("BENCH_SERIES")
      ? { seriesMb: samples.map((kb) => Math.round(kb / 1024)) }
      : {}),
  }));
} finally {
  await consoleProc.stop("SIGTERM");
  console.error(`console exit: ${JSON.stringify(await consoleProc.child.status)}`);
  for (const s of servers) await s.shutdown();
  await Promise.all(agents.map((a) => a.stop("SIGTERM")));
  if (REAL) {
    await removeRunContainers(run);
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
  await lease.revoke();
  await kv.deletePrefix(`/gru/${cluster}/`);
  await kv.close();
}

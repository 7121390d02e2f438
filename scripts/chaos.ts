/**
 * A chaos run on the multi-node harness: `deno run -A scripts/chaos.ts [--minutes 10] [--nodes 3]
 * [--seed 1] [--every 20] [--window 45]` (root, like the harness).
 *
 * It starts the harness with every agent active, a service `web` (MinInstances 2, MaxInstances 3)
 * under HTTP load and a base service `keep` on every node, then injects a random fault every
 * `--every` seconds: kill -9 an agent (restarted 5 s later), restart an agent (SIGTERM), restart a
 * node's dockerd, cut a node's link (healed 15 s later), stop the harness etcd (restarted 10 s
 * later), `docker kill` a managed container. Every second it checks the invariants:
 *
 * - `bounds`: each service's running instances, over all engines, within [Min, Max];
 * - `base`: every base service running on each node whose agent and engine are up;
 * - `unmanaged`: no container of the cluster that its node's agent does not list;
 * - `config`: the cluster's documents still in etcd.
 *
 * A violation that starts within `--window` seconds after a fault ends (a restart, a heal) and is
 * repaired within `--window` seconds is expected: Gru needs that long to notice and repair. Any
 * other is a failure. At the end it prints
 * every violation with its duration and a summary table, tears the harness down, and exits 1 when
 * a violation fell outside the windows.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { EtcdKvStore } from "../src/adapters/etcd/etcd_kv_store.ts";
import { seededPrng } from "../src/domain/random.ts";
import { Harness, HARNESS_ETCD_URL } from "../tests/helpers/harness.ts";

const RUN = "/run/gru-nodes";
const STATE = "/var/lib/gru-nodes";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    nodes: { type: "string", default: "3" },
    seed: { type: "string", default: "1" },
    every: { type: "string", default: "20" },
    window: { type: "string", default: "45" },
  },
});
const MINUTES = Number(args.minutes);
const NODES = Number(args.nodes);
const EVERY_S = Number(args.every);
const WINDOW_S = Number(args.window);
const prng = seededPrng(Number(args.seed));
const CLUSTER = "chaos";
const SERVICES = { web: { min: 2, max: 3 }, keep: { min: 0, max: 0 } };

const started = Date.now();
const t = () => ((Date.now() - started) / 1000).toFixed(0).padStart(4) + "s";
const log = (msg: string) => console.log(`${t()}  ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(prng() * xs.length)]!;

// ---------------------------------------------------------------- configuration of the run --

async function configDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gru-chaos-" });
  await Deno.mkdir(`${dir}/services`);
  const write = (f: string, v: unknown) => Deno.writeTextFile(`${dir}/${f}`, JSON.stringify(v));
  await write("config.json", {
    Autonomic: {
      LoopTimeInterval: 1,
      PlannerStrategy: "probdelta",
      Warmup: 2,
      Window: 3,
      ScaleOutCooldown: 5,
      ScaleInCooldown: 10,
      ScaleInStabilization: 5,
    },
    Communication: { LoopTimeInterval: 1, MaxFriends: 2 },
  });
  await write("policy.json", {
    Scaleout: { Enable: true, Threshold: 0.6, Metrics: ["cpu_avg"] },
    Scalein: { Enable: true, Threshold: 0.15, Metrics: ["cpu_avg"] },
  });
  await write("services/web.json", {
    Name: "web",
    Image: "gru-demo/web",
    MinInstances: SERVICES.web.min,
    MaxInstances: SERVICES.web.max,
    Configuration: { CpuNumber: 1, Memory: "64m", Ports: { "80": "18080-18089" }, StopTimeout: 1 },
  });
  await write("services/keep.json", {
    Name: "keep",
    Image: "gru-test/busybox",
    Configuration: { Cmd: ["sleep", "86400"], StopTimeout: 0 },
  });
  return dir;
}

// ---------------------------------------------------------------------------- processes --

/** The argv of a live process, or undefined. */
async function argvOf(pidFile: string): Promise<{ pid: number; argv: string[] } | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    const raw = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    return { pid, argv: raw.split("\0").filter((a) => a !== "") };
  } catch {
    return undefined;
  }
}

/** Starts `argv` again inside node `i`'s network namespace, logging to `log`; records its pid. */
async function relaunch(i: number, argv: string[], logFile: string, pidFile: string) {
  const script =
    `setsid nohup nsenter --net=/var/run/netns/gn${i} "$@" </dev/null >>${logFile} 2>&1 & echo $!`;
  const out = await new Deno.Command("bash", { args: ["-c", script, "relaunch", ...argv] })
    .output();
  await Deno.writeTextFile(pidFile, new TextDecoder().decode(out.stdout).trim());
}

/** Stops a process and returns its argv to start it again. */
async function stop(pidFile: string, signal: Deno.Signal): Promise<string[] | undefined> {
  const p = await argvOf(pidFile);
  if (!p) return undefined;
  try {
    Deno.kill(p.pid, signal);
  } catch { /* gone already */ }
  for (let k = 0; k < 100 && await Deno.stat(`/proc/${p.pid}`).then(() => true, () => false); k++) {
    await sleep(100);
  }
  return p.argv;
}

// ------------------------------------------------------------------------------- faults --

interface Fault {
  name: string;
  /** Runs the fault; resolves when it has ended (restarted, healed). */
  run(h: Harness): Promise<string>;
}

const agentPid = (i: number) => `${RUN}/gn${i}-agent.pid`;
const agentLog = (i: number) => `${STATE}/gn${i}/agent.log`;

const FAULTS: Fault[] = [
  {
    name: "kill -9 agent",
    async run() {
      const i = 1 + Math.floor(prng() * NODES);
      const argv = await stop(agentPid(i), "SIGKILL");
      await sleep(5000);
      if (argv) await relaunch(i, argv, agentLog(i), agentPid(i));
      return `gn${i}`;
    },
  },
  {
    name: "restart agent",
    async run() {
      const i = 1 + Math.floor(prng() * NODES);
      const argv = await stop(agentPid(i), "SIGTERM");
      if (argv) await relaunch(i, argv, agentLog(i), agentPid(i));
      return `gn${i}`;
    },
  },
  {
    name: "restart dockerd",
    async run() {
      const i = 1 + Math.floor(prng() * NODES);
      const pidFile = `${RUN}/gn${i}-dockerd.pid`;
      const argv = await stop(pidFile, "SIGTERM");
      await sleep(1000);
      if (argv) await relaunch(i, argv, `${STATE}/gn${i}/dockerd.log`, pidFile);
      return `gn${i}`;
    },
  },
  {
    name: "cut link 15 s",
    async run(h) {
      const i = 1 + Math.floor(prng() * NODES);
      await h.cutLink(i);
      await sleep(15_000);
      await h.healLink(i);
      return `gn${i}`;
    },
  },
  {
    name: "stop etcd 10 s",
    async run() {
      const pidFile = `${RUN}/etcd.pid`;
      const argv = await stop(pidFile, "SIGKILL");
      await sleep(10_000);
      if (argv) {
        const script = `setsid nohup "$@" </dev/null >>${STATE}/etcd.log 2>&1 & echo $!`;
        const out = await new Deno.Command("bash", { args: ["-c", script, "etcd", ...argv] })
          .output();
        await Deno.writeTextFile(pidFile, new TextDecoder().decode(out.stdout).trim());
      }
      return "harness etcd";
    },
  },
  {
    name: "docker kill",
    async run(h) {
      const i = 1 + Math.floor(prng() * NODES);
      const ps = await h.docker(i, ["ps", "-q", "--filter", `label=gru.cluster=${CLUSTER}`]);
      const ids = ps.stdout.split("\n").filter(Boolean);
      if (ids.length === 0) return `gn${i} (no container)`;
      const id = pick(ids);
      await h.docker(i, ["kill", id]);
      return `gn${i} ${id.slice(0, 12)}`;
    },
  },
];

// --------------------------------------------------------------------------- invariants --

interface Observation {
  kind: "bounds" | "base" | "unmanaged" | "config";
  key: string;
  detail: string;
}

interface NodeView {
  running: { id: string; service: string; hostPorts: number[] }[] | undefined;
  listed: Set<string> | undefined;
}

async function nodeView(h: Harness, i: number): Promise<NodeView> {
  const ps = await h.docker(i, [
    "ps",
    "--no-trunc",
    "--filter",
    `label=gru.cluster=${CLUSTER}`,
    "--format",
    '{{.ID}} {{.Label "gru.service"}} {{.Ports}}',
  ]).catch(() => undefined);
  const running = ps && ps.code === 0
    ? ps.stdout.split("\n").filter(Boolean).map((line) => {
      const [id, service, ...ports] = line.split(" ");
      const hostPorts = [...ports.join(" ").matchAll(/:(\d+)->/g)].map((m) => Number(m[1]));
      return { id: id!, service: service ?? "", hostPorts };
    })
    : undefined;
  let listed: Set<string> | undefined;
  try {
    const res = await h.fetch(`${h.node(i).url}/gru/v1/node`, {
      signal: AbortSignal.timeout(2000),
    });
    if (res.ok) {
      const body = await res.json() as { instances?: { id: string; status: string }[] };
      listed = new Set((body.instances ?? []).map((x) => x.id));
    } else await res.body?.cancel();
  } catch { /* agent down or cut off */ }
  return { running, listed };
}

async function observe(kv: EtcdKvStore, views: NodeView[]): Promise<Observation[]> {
  const out: Observation[] = [];
  const complete = views.every((v) => v.running !== undefined);
  if (complete) {
    for (const [service, b] of Object.entries(SERVICES)) {
      const n = views.reduce(
        (s, v) => s + v.running!.filter((c) => c.service === service).length,
        0,
      );
      if (n < b.min || (b.max > 0 && n > b.max)) {
        out.push({
          kind: "bounds",
          key: service,
          detail: `${n} running, bounds [${b.min}, ${b.max}]`,
        });
      }
    }
  }
  views.forEach((v, k) => {
    const node = `gn${k + 1}`;
    if (v.running && v.listed && !v.running.some((c) => c.service === "keep")) {
      out.push({ kind: "base", key: node, detail: `no keep on ${node}` });
    }
    if (v.running && v.listed) {
      const strays = v.running.filter((c) => !v.listed!.has(c.id));
      if (strays.length) {
        out.push({
          kind: "unmanaged",
          key: node,
          detail: `${strays.length} container(s) on ${node} its agent does not list`,
        });
      }
    }
  });
  try {
    const keys = await kv.getPrefix(`/gru/${CLUSTER}/`);
    const have = new Set(keys.map((e) => e.key));
    for (const k of ["config", "policy", "services/web", "services/keep"]) {
      if (!have.has(`/gru/${CLUSTER}/${k}`)) {
        out.push({ kind: "config", key: k, detail: `/gru/${CLUSTER}/${k} missing` });
      }
    }
  } catch { /* etcd down: nothing to say about documents */ }
  return out;
}

/** What a node's agent did lately about `keep` and what it believes it runs: for a long violation. */
async function diagnose(h: Harness, i: number): Promise<string> {
  const url = h.node(i).url;
  const get = async (path: string) => {
    const res = await h.fetch(`${url}${path}`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.json() : `${res.status} ${await res.text()}`;
  };
  const decisions = await get("/gru/v1/decisions?limit=5") as {
    actions?: { service: string; action: string; ok: boolean; error?: string; why: string }[];
  }[];
  const actions = Array.isArray(decisions)
    ? decisions.flatMap((d) => d.actions ?? []).filter((a) => a.service === "keep")
    : decisions;
  const node = await get("/gru/v1/node") as {
    instances?: { id: string; service: string; status: string }[];
    constraints?: unknown;
  };
  const keep = typeof node === "object"
    ? (node.instances ?? []).filter((x) => x.service === "keep")
    : node;
  const ps = await h.docker(i, [
    "ps",
    "-a",
    "--filter",
    "label=gru.service=keep",
    "--format",
    "{{.ID}} {{.Status}} {{.Names}}",
  ]).catch((e) => ({ stdout: String(e) }));
  return `diagnose gn${i}: keep actions ${JSON.stringify(actions)}; agent's keep instances ` +
    `${JSON.stringify(keep)}; constraints ${
      JSON.stringify(
        typeof node === "object" ? node.constraints : undefined,
      )
    }; docker ps -a: ${ps.stdout.trim().replaceAll("\n", " | ")}`;
}

// -------------------------------------------------------------------------------- the run --

interface Violation extends Observation {
  from: number;
  to: number;
  /** Within the window after a fault. */
  expected: boolean;
}

async function main(): Promise<number> {
  log(`chaos: ${NODES} nodes, ${MINUTES} min, a fault every ${EVERY_S} s, window ${WINDOW_S} s`);
  const h = await Harness.up(NODES, {
    cluster: CLUSTER,
    configDir: await configDir(),
    active: true,
  });
  const kv = await EtcdKvStore.connect({ endpoints: [HARNESS_ETCD_URL] });
  const stopAll = new AbortController();
  Deno.addSignalListener("SIGINT", () => stopAll.abort());
  const open = new Map<string, Violation>();
  const diagnosed = new Set<Violation>();
  const closed: Violation[] = [];
  const faults: { name: string; target: string; from: number; to: number }[] = [];
  let lastFaultEnd = Date.now();
  let faultRunning = false;
  try {
    for (const node of h.nodes) {
      const res = await h.fetch(`${node.url}/gru/v1/commands`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ Name: "update", Target: "node-base-services", Object: ["keep"] }),
      });
      if (!res.ok) {
        throw new Error(`base services on ${node.name}: ${res.status} ${await res.text()}`);
      }
      await res.body?.cancel();
    }
    log("harness up; base service keep on every node; settling 30 s");
    await sleep(30_000);
    lastFaultEnd = Date.now();
    const end = Date.now() + MINUTES * 60_000;
    let nextFault = Date.now() + EVERY_S * 1000;
    let loadPorts: string[] = [];
    while (Date.now() < end && !stopAll.signal.aborted) {
      if (!faultRunning && Date.now() >= nextFault) {
        const fault = pick(FAULTS);
        faultRunning = true;
        const from = Date.now();
        fault.run(h).then((target) => {
          faults.push({ name: fault.name, target, from, to: Date.now() });
          log(`fault: ${fault.name} (${target}) over`);
        }, (err) => log(`fault ${fault.name} failed: ${err}`)).finally(() => {
          faultRunning = false;
          lastFaultEnd = Date.now();
          nextFault = Date.now() + EVERY_S * 1000;
        });
        log(`fault: ${fault.name}`);
      }
      const views = await Promise.all(h.nodes.map((_, k) => nodeView(h, k + 1)));
      loadPorts = views.flatMap((v, k) =>
        (v.running ?? []).filter((c) => c.service === "web")
          .flatMap((c) => c.hostPorts.map((p) => `http://${h.node(k + 1).ip}:${p}`))
      );
      for (const url of loadPorts) {
        fetch(`${url}/cgi-bin/work?n=20000`, { signal: AbortSignal.timeout(900) })
          .then((r) => r.body?.cancel(), () => {});
      }
      const now = Date.now();
      const seen = new Set<string>();
      for (const o of await observe(kv, views)) {
        const id = `${o.kind}:${o.key}`;
        seen.add(id);
        const v = open.get(id);
        if (v) v.to = now;
        else {
          const expected = faultRunning || now - lastFaultEnd < WINDOW_S * 1000;
          open.set(id, { ...o, from: now, to: now, expected });
          log(`violation ${id}: ${o.detail}${expected ? " (after a fault)" : " (UNEXPECTED)"}`);
        }
      }
      for (const [id, v] of open) {
        if (v.kind === "base" && now - v.from > 20_000 && !diagnosed.has(v)) {
          diagnosed.add(v);
          diagnose(h, Number(v.key.slice(2))).then(log, (err) => log(`diagnose: ${err}`));
        }
        if (!seen.has(id)) {
          open.delete(id);
          closed.push(v);
          log(`resolved ${id} after ${((v.to - v.from) / 1000).toFixed(0)} s`);
        }
      }
      await sleep(Math.max(0, 1000 - (Date.now() - now)));
    }
    closed.push(...open.values());
  } finally {
    await kv.close().catch(() => {});
    log("tearing the harness down");
    await h.down().catch((err) => log(`down failed: ${err}`));
  }
  return report(faults, closed);
}

function report(
  faults: { name: string; target: string; from: number; to: number }[],
  found: Violation[],
): number {
  // Expected only when it began right after a fault and was repaired within the window too.
  const violations = found.map((v) => ({
    ...v,
    expected: v.expected && v.to - v.from <= WINDOW_S * 1000,
  }));
  const at = (ms: number) => `${((ms - started) / 1000).toFixed(0)}s`;
  console.log("\nFaults");
  console.log("| fault | count |\n|---|---|");
  const byFault = new Map<string, number>();
  for (const f of faults) byFault.set(f.name, (byFault.get(f.name) ?? 0) + 1);
  for (const [name, n] of byFault) console.log(`| ${name} | ${n} |`);
  console.log("\nViolations");
  console.log(
    "| invariant | key | from | duration | after a fault | detail |\n|---|---|---|---|---|---|",
  );
  for (const v of violations) {
    const secs = Math.max(1, Math.round((v.to - v.from) / 1000));
    console.log(
      `| ${v.kind} | ${v.key} | ${at(v.from)} | ${secs} s | ${
        v.expected ? "yes" : "NO"
      } | ${v.detail} |`,
    );
  }
  console.log("\nSummary");
  console.log(
    "| invariant | violations | after a fault | unexpected | longest |\n|---|---|---|---|---|",
  );
  for (const kind of ["bounds", "base", "unmanaged", "config"] as const) {
    const vs = violations.filter((v) => v.kind === kind);
    const longest = vs.reduce((m, v) => Math.max(m, v.to - v.from), 0);
    console.log(
      `| ${kind} | ${vs.length} | ${vs.filter((v) => v.expected).length} | ${
        vs.filter((v) => !v.expected).length
      } | ${Math.round(longest / 1000)} s |`,
    );
  }
  const bad = violations.filter((v) => !v.expected).length;
  console.log(`\n${faults.length} faults, ${violations.length} violations, ${bad} unexpected`);
  return bad > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());

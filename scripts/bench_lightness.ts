/**
 * Lightness against the original Go Gru (issue #12): start-up times and the agent's footprint.
 *
 * `deno run -A scripts/bench_lightness.ts [startup] [footprint] [--runs N] [--containers 0,100]
 * [--window S] [--v8 "FLAGS[;FLAGS…]"] [--log-reading] [--allow-all] [--profile]`
 *
 * - `startup` (N rounds, the cases alternated so load hits them alike; medians): a bare
 *   `deno run` of an empty file; `gru --help`; `gru create` against the local etcd; `gru agent`
 *   spawned → its `/health` answering; `gru join` spawned → `/health` answering.
 * - `footprint`: for each container count, that many busybox `sleep` containers labelled as
 *   instances of service `idle` (cluster on the local etcd), and an ACTIVE `gru agent` whose
 *   service uses an analytic (also in the scale-out policy), 1 s loop; after a warm-up, its CPU
 *   (% of one core, utime+stime from /proc) over the window, `VmRSS` at the end and `VmHWM`,
 *   and the local dockerd's CPU over the window (`/var/run/docker.pid`; others' use adds noise).
 *
 * Every `gru` runs as `deno run` with the permission flags and V8 flags the compile task bakes
 * into the binary (scripts/compile.ts), `--v8 FLAGS` replacing the latter (`--v8 none`: none;
 * several sets separated by `;` run one footprint agent each), `--allow-all` replacing the former
 * (Deno grants reads of /proc and /sys, hence the cgroup usage reader, only with all permissions).
 * `--cgroup-bind` (as root): the footprint agents read the cgroup tree and /proc through bind
 * mounts under the run's temp dir, named by `GRU_CGROUP_ROOT`/`GRU_PROC_ROOT`, as
 * deploy/gru-agent.service sets up, so the binary's permissions reach the cgroup reader.
 * `--profile`: the footprint agents run with `--inspect` and print V8's CPU profile of the window
 * (self time by function and by file).
 * Containers carry `gru.test-run=<run>` and are removed at the end, clusters are deleted from
 * etcd, even on failure. Prints figures; asserts nothing. Needs dockerd, etcd on
 * 127.0.0.1:2379, `etcdctl` and the image gru-test/busybox (scripts/build_images.sh).
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { permissionFlags, V8_FLAGS } from "./compile.ts";
import { LABEL_TEST_RUN } from "../src/domain/model.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ETCD = "http://127.0.0.1:2379";
const run = `bench-light-${Date.now().toString(36)}`;
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const argv = [...Deno.args];
function flag(name: string, fallback: string): string {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const [, v] = argv.splice(i, 2);
  return v ?? fallback;
}
const RUNS = Number(flag("--runs", "15"));
const COUNTS = flag("--containers", "0,100").split(",").map(Number);
const WINDOW_S = Number(flag("--window", "30"));
const v8Arg = flag("--v8", "");
const logReading = argv.includes("--log-reading");
const sections = argv.filter((a) => !a.startsWith("--"));
const want = (s: string) => sections.length === 0 || sections.includes(s);
const allowAll = argv.includes("--allow-all");
const cgroupBind = argv.includes("--cgroup-bind");
const v8Of = (spec: string) =>
  spec === "" ? [...V8_FLAGS] : spec === "none" ? [] : [`--v8-flags=${spec}`];
const gruArgs = (spec: string) => [
  "run",
  ...(allowAll ? ["--allow-all"] : permissionFlags()),
  ...v8Of(spec),
  "--quiet",
  `${ROOT}main.ts`,
];
/** `--v8 "A;B"`: the footprint runs one agent per V8 flag set, in turn, per container count. */
const VARIANTS = v8Arg.split(";");
const GRU = gruArgs(VARIANTS[0]!);
console.log(`gru = deno ${GRU.join(" ")}`);

const PROFILE = argv.includes("--profile");
const INSPECT_PORT = 29299;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Starts V8's CPU profiler in the agent through its inspector (`--profile`). */
async function startProfiler(): Promise<{ stop(): Promise<ProfileNode[]> }> {
  const list = await (await fetch(`http://127.0.0.1:${INSPECT_PORT}/json/list`)).json();
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let next = 1;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
  };
  const call = (method: string, params = {}) =>
    new Promise<unknown>((r) => {
      const id = next++;
      waiting.set(id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 500 });
  await call("Profiler.start");
  return {
    async stop() {
      const r = await call("Profiler.stop") as { profile: { nodes: ProfileNode[] } };
      ws.close();
      return r.profile.nodes;
    },
  };
}

/** Self time by function, top 30, and by file, top 15 (`--profile`). */
function printProfile(nodes: ProfileNode[]) {
  const total = nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const byFn = new Map<string, number>();
  const byUrl = new Map<string, number>();
  for (const n of nodes) {
    const f = n.callFrame;
    const url = f.url.replace(/^.*node_modules\/\.deno\//, "npm:").replace(`file://${ROOT}`, "");
    const fn = `${f.functionName || "(anonymous)"} ${url}:${f.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + (n.hitCount ?? 0));
    byUrl.set(url || f.functionName, (byUrl.get(url || f.functionName) ?? 0) + (n.hitCount ?? 0));
  }
  for (const [title, m, k] of [["function", byFn, 30], ["file", byUrl, 15]] as const) {
    console.log(`\nself samples by ${title} (of ${total}):`);
    for (const [key, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k)) {
      console.log(`${(100 * v / total).toFixed(1).padStart(5)} %  ${key}`);
    }
  }
}

const tmp = await Deno.makeTempDir({ prefix: "gru-bench-light-" });
await Deno.writeTextFile(`${tmp}/empty.ts`, "");
const clusters: string[] = [];
/** Agent processes running now (killed by the cleanup of an interrupted run). */
const live = new Set<Deno.ChildProcess>();
/** Bind mounts made for `--cgroup-bind`, unmounted before the temp dir is removed. */
const mounts: string[] = [];
async function bindMounts(): Promise<Record<string, string>> {
  if (!cgroupBind) return {};
  for (
    const [from, to, how] of [
      ["/sys/fs/cgroup", `${tmp}/cgroup`, "--rbind"],
      ["/proc", `${tmp}/proc`, "--bind"],
    ] as const
  ) {
    await Deno.mkdir(to);
    mounts.push(to);
    await sh("mount", [how, from, to]);
  }
  return { GRU_CGROUP_ROOT: `${tmp}/cgroup`, GRU_PROC_ROOT: `${tmp}/proc` };
}

async function sh(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env,
    cwd: ROOT,
  })
    .output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}
const gru = (args: string[]) => sh(Deno.execPath(), [...GRU, "--etcd", ETCD, ...args]);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** CPU time (user + system) of the short-lived processes, by case, ms: less sensitive to load. */
const cpuTimes: Record<string, number[]> = {};

/** Wall time of a whole process, ms; its CPU time goes to `cpuTimes[label]` (GNU time). */
async function timed(label: string, args: string[]): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "cpu=%U+%S", "-o", `${tmp}/time.txt`, Deno.execPath(), ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).output();
  const ms = performance.now() - t;
  if (!out.success) throw new Error(`deno ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  const m = /cpu=([\d.]+)\+([\d.]+)/.exec(await Deno.readTextFile(`${tmp}/time.txt`));
  if (m) (cpuTimes[label] ??= []).push((Number(m[1]) + Number(m[2])) * 1000);
  return ms;
}

/** Spawns an agent process; ms until GET /health answers (any HTTP status), then stops it. */
async function toHealth(args: string[], port: number): Promise<number> {
  const t = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...GRU, "--etcd", ETCD, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const errText = new Response(child.stderr).text();
  let ms = NaN;
  try {
    while (performance.now() - t < 20_000) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        await r.body?.cancel();
        ms = performance.now() - t;
        break;
      } catch {
        await sleep(2);
      }
    }
  } finally {
    await stop(child, args[0]!);
    const err = await errText;
    if (Number.isNaN(ms)) console.error(`no /health from deno ${args.join(" ")}: ${err}`);
  }
  return ms;
}

/** SIGTERM, then SIGKILL after 10 s (and says so). */
async function stop(child: Deno.ChildProcess, what: string): Promise<void> {
  live.delete(child);
  try {
    child.kill("SIGTERM");
  } catch {
    return; // already gone
  }
  const killer = setTimeout(() => {
    console.error(`${what} ${child.pid} still running 10 s after SIGTERM: SIGKILL`);
    child.kill("SIGKILL");
  }, 10_000);
  await child.status;
  clearTimeout(killer);
}

async function newCluster(name: string): Promise<string> {
  clusters.push(name);
  await gru(["create", name]);
  return (await gru(["token", "show", name, "--reveal"])).trim();
}

async function startup() {
  const times: Record<string, number[]> = {
    "bare deno run (empty file)": [],
    "gru --help": [],
    "gru create (local etcd)": [],
    "gru agent → /health": [],
    "gru join → /health": [],
  };
  const base = `${run}-s`;
  await newCluster(base);
  for (let i = 0; i < RUNS; i++) {
    times["bare deno run (empty file)"]!.push(
      await timed("bare deno run (empty file)", ["run", `${tmp}/empty.ts`]),
    );
    times["gru --help"]!.push(await timed("gru --help", [...GRU, "--help"]));
    const name = `${run}-c${i}`;
    clusters.push(name);
    times["gru create (local etcd)"]!.push(
      await timed("gru create (local etcd)", [...GRU, "--etcd", ETCD, "create", name]),
    );
    const port = 29500 + (i % 50);
    times["gru agent → /health"]!.push(
      await toHealth([
        "agent",
        ...["--cluster", base, "--name", `a${i}`, "--address", "127.0.0.1"],
        ...["--port", String(port), "--listen", "127.0.0.1", "--state", `${tmp}/a${i}.json`],
      ], port),
    );
    times["gru join → /health"]!.push(
      await toHealth([
        "join",
        base,
        ...["--name", `j${i}`, "--address", "127.0.0.1", "--port", String(port + 50)],
        ...["--listen", "127.0.0.1", "--state", `${tmp}/j${i}.json`],
      ], port + 50),
    );
  }
  const bare = median(times["bare deno run (empty file)"]!);
  const bareCpu = median(cpuTimes["bare deno run (empty file)"] ?? [NaN]);
  console.log(`\nstart-up, ${RUNS} rounds, load average ${Deno.loadavg().join(" ")}`);
  console.log(
    "| case | wall median (ms) | wall min (ms) | × bare (wall) | CPU median (ms) | × bare (CPU) |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [k, v] of Object.entries(times)) {
    const cpu = cpuTimes[k] ? median(cpuTimes[k]) : undefined;
    console.log(
      `| ${k} | ${median(v).toFixed(0)} | ${Math.min(...v).toFixed(0)} | ${
        (median(v) / bare).toFixed(2)
      } | ${cpu === undefined ? "-" : cpu.toFixed(0)} | ${
        cpu === undefined ? "-" : (cpu / bareCpu).toFixed(2)
      } |`,
    );
  }
}

const TICK = 100;
function cpuOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function kib(pid: number, key: string): number {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN);
}

async function startContainers(cluster: string, from: number, to: number): Promise<void> {
  const jobs: Promise<string>[] = [];
  for (let i = from; i < to; i++) {
    jobs.push(sh("docker", [
      ...["run", "-d", "--name", `${run}-idle-${i}`, "--label", `gru.cluster=${cluster}`],
      ...["--label", "gru.node=m1", "--label", "gru.service=idle"],
      ...["--label", `${LABEL_TEST_RUN}=${run}`, "gru-test/busybox", "sleep", "3600"],
    ]));
    if (jobs.length >= 8) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

async function footprint() {
  const cluster = `${run}-f`;
  const conf = `${tmp}/conf`;
  await Deno.mkdir(`${conf}/services`, { recursive: true });
  await Deno.mkdir(`${conf}/analytics`, { recursive: true });
  await Deno.writeTextFile(
    `${conf}/config.json`,
    JSON.stringify({
      Autonomic: { LoopTimeInterval: 1, Window: 5, EnableLogReading: logReading },
      Communication: { LoopTimeInterval: 1 },
    }),
  );
  await Deno.writeTextFile(
    `${conf}/policy.json`,
    JSON.stringify({
      Scaleout: { Enable: true, Threshold: 0.99, Metrics: [], Analytics: ["resp_time_ratio"] },
    }),
  );
  await Deno.writeTextFile(
    `${conf}/analytics/resp_time_ratio.json`,
    JSON.stringify({
      Name: "resp_time_ratio",
      Expr: "response_time / MAX_RESP_TIME",
      Metrics: ["response_time"],
      Constraints: ["MAX_RESP_TIME"],
    }),
  );
  await Deno.writeTextFile(
    `${conf}/services/idle.json`,
    JSON.stringify({
      Name: "idle",
      Image: "gru-test/busybox",
      Analytics: ["resp_time_ratio"],
      Constraints: { MAX_RESP_TIME: 200 },
      MaxInstances: 1000,
      Configuration: { Cmd: ["sleep", "3600"] },
    }),
  );
  const token = await newCluster(cluster);
  await gru(["config", "import", cluster, conf]);
  const agentEnv = await bindMounts();
  const rows: string[] = [];
  let have = 0;
  for (const n of COUNTS) {
    if (n > have) {
      console.log(`starting containers ${have}..${n}`);
      await startContainers(cluster, have, n);
      have = n;
      await sleep(3000);
    }
    for (const variant of VARIANTS) {
      const port = 29600 + Math.floor(Math.random() * 300);
      const agent = new Deno.Command(Deno.execPath(), {
        args: [
          ...gruArgs(variant).slice(0, 1),
          ...(PROFILE ? [`--inspect=127.0.0.1:${INSPECT_PORT}`] : []),
          ...gruArgs(variant).slice(1),
          ...["--etcd", ETCD, "agent", "--cluster", cluster, "--name", "m1"],
          ...["--address", "127.0.0.1", "--port", String(port), "--listen", "127.0.0.1"],
          ...["--state", `${tmp}/m1.json`, "--active"],
        ],
        cwd: ROOT,
        env: agentEnv,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      live.add(agent);
      const agentLog = new Response(agent.stderr).text();
      try {
        await sleep(15_000);
        const seen = await fetch(`http://127.0.0.1:${port}/gru/v1/services/idle`, {
          headers: { authorization: `Bearer ${token}` },
        }).then((r) => r.text()).catch(() => "");
        const watched = seen.match(/"id"/g)?.length ?? 0;
        const profiler = PROFILE ? await startProfiler() : undefined;
        const c0 = cpuOf(agent.pid);
        // The local engine's CPU too (stats streams cost there); other users of it add noise.
        const dockerd = Number(await Deno.readTextFile("/var/run/docker.pid").catch(() => "0"));
        const d0 = dockerd > 0 ? cpuOf(dockerd) : NaN;
        const t0 = performance.now();
        const rss: number[] = [];
        for (let s = 0; s < WINDOW_S; s++) {
          await sleep(1000);
          rss.push(kib(agent.pid, "VmRSS"));
        }
        const secs = (performance.now() - t0) / 1000;
        const pct = (100 * (cpuOf(agent.pid) - c0)) / secs;
        const dpct = dockerd > 0 ? (100 * (cpuOf(dockerd) - d0)) / secs : NaN;
        if (profiler) printProfile(await profiler.stop());
        const hwm = kib(agent.pid, "VmHWM");
        rows.push(
          `| ${variant || V8_FLAGS.join(" ") || "none"} | ${n} | ${watched} | ${pct.toFixed(2)} | ${
            (median(rss) / 1024).toFixed(1)
          } | ${(Math.max(...rss) / 1024).toFixed(1)} | ${(hwm / 1024).toFixed(1)} | ${
            dpct.toFixed(2)
          } |`,
        );
        console.log(rows.at(-1));
      } finally {
        await stop(agent, "agent");
        const source = /usage read from "?([\w-]+)/.exec(await agentLog)?.[1] ?? "?";
        console.log(`  (agent's container usage reader: ${source})`);
      }
    }
  }
  console.log(
    `\nfootprint, active agent, analytic in use, 1 s loop, log reading ${logReading}, ` +
      `${WINDOW_S} s window, load average ${Deno.loadavg().join(" ")}`,
  );
  console.log(
    "| V8 flags | containers | instances listed | CPU (% of a core) | RSS median (MB) | RSS max (MB) | " +
      "VmHWM (MB) | dockerd CPU (%) |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of rows) console.log(r);
}

/** Removes this run's containers, clusters and files (once). */
let cleaned: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return cleaned ??= (async () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    const ids = (await sh("docker", ["ps", "-aq", "--filter", `label=${LABEL_TEST_RUN}=${run}`]))
      .split("\n").filter(Boolean);
    for (let i = 0; i < ids.length; i += 50) {
      await sh("docker", ["rm", "-f", ...ids.slice(i, i + 50)]).catch((e) => console.error(e));
    }
    for (const c of clusters) {
      await sh("etcdctl", ["--endpoints", ETCD, "del", "--prefix", `/gru/${c}/`], {
        ETCDCTL_API: "3",
      }).catch((e) => console.error(e));
    }
    // Never a recursive removal through a bind mount (it would reach /sys or /proc).
    let unmounted = true;
    for (const m of mounts.reverse()) {
      await sh("umount", ["-R", m]).catch((e) => console.error(e));
      const table = await Deno.readTextFile("/proc/self/mountinfo");
      if (table.split("\n").some((l) => l.split(" ")[4] === m)) unmounted = false;
    }
    if (unmounted) await Deno.remove(tmp, { recursive: true });
    else console.error(`left ${tmp} in place: unmount failed`);
    console.log(`removed ${ids.length} containers, ${clusters.length} clusters`);
  })();
}

// Interrupted (Ctrl-C, `timeout`): clean up too, then exit.
const onSignal = () => cleanup().finally(() => Deno.exit(130));
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

try {
  if (want("startup")) await startup();
  if (want("footprint")) await footprint();
} finally {
  await cleanup();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
}

/**
 * The seed author's experiment (elleFlorio/gru-evaluation, initial-evaluation), compressed to a
 * run of a few minutes on the 3-node harness of this 2-core machine (BENCHMARKS.md says how):
 * the `gru-paper/service` service behind HAProxy, whose backend `gru lb haproxy` keeps equal to
 * the discovery keys; an open-loop Poisson load through HAProxy rising linearly from `--from` to
 * `--to` requests/s over `--duration` seconds (scripts/paper_load.ts). Measured through the load
 * balancer: response time p50/p95/p99 and mean, the share over MAX_RESP_TIME (failed requests
 * count as over), instance-seconds, scale-outs and scale-ins (containers appearing and
 * disappearing), and an SVG time series per run.
 *
 *   deno run -A scripts/bench_paper.ts <config dir> [--runs 3] [--variant NAME]
 *        [--duration 120] [--from 0.9] [--to 18] [--results /tmp/paper-results] [--svg docs/paper]
 *   deno run -A scripts/bench_paper.ts --summarize /tmp/paper-results   (the markdown table)
 *   deno run -A scripts/bench_paper.ts --replot /tmp/paper-results [svg dir]   (SVGs again, and overview.svg)
 *
 * The configuration directory is what `gru config import` takes (examples/paper/<variant>/); its
 * one service whose image is gru-paper/service is the one loaded, with its MinInstances at the
 * start and its Constraints.MAX_RESP_TIME. Every run takes the harness lock (`mkdir
 * /tmp/harness.lock`, retried every 30 s) and releases it when it ends, even on failure; the
 * harness, HAProxy and the feeder are stopped by pid. Needs root, haproxy and the local images
 * (scripts/build_images.sh). Asserts nothing.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script that prints figures

import { parse as parseJsonc, type ParseError } from "jsonc-parser";
import { clusterScript, Harness } from "../tests/helpers/harness.ts";
import { runOpenLoop } from "./paper_load.ts";
import {
  type InstanceSample,
  measure,
  overviewSvg,
  readResults,
  type RunResult,
  svgOf,
  table,
} from "./paper_report.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const LOCK = "/tmp/harness.lock";
const IMAGE = "gru-paper/service";
const LB_PORT = 28400;
const CLUSTER = "paper";

function die(msg: string): never {
  console.error(`bench_paper: ${msg}`);
  Deno.exit(2);
}

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) die(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function num(args: string[], name: string, fallback: number, min: number): number {
  const raw = flag(args, name, String(fallback));
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    die(`${name} ${raw.slice(0, 20)}: expected a number ≥ ${min}`);
  }
  return n;
}

interface ServiceInfo {
  name: string;
  min: number;
  maxRespMs: number;
}

async function readService(dir: string): Promise<ServiceInfo> {
  const folder = `${dir}/services`;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(folder));
  } catch {
    die(`${folder}: expected a folder of service descriptors`);
  }
  for (const e of entries.filter((e) => e.name.endsWith(".json"))) {
    const errors: ParseError[] = [];
    const doc = parseJsonc(await Deno.readTextFile(`${folder}/${e.name}`), errors, {
      allowTrailingComma: true,
    });
    if (errors.length || typeof doc !== "object" || doc === null) {
      die(`${folder}/${e.name}: expected a JSON object`);
    }
    const get = (k: string) => Object.entries(doc).find(([key]) => key.toLowerCase() === k)?.[1];
    if (get("image") !== IMAGE) continue;
    const max = (get("constraints") as Record<string, unknown> | undefined)?.MAX_RESP_TIME;
    if (typeof max !== "number" || !(max > 0)) {
      die(`${folder}/${e.name}: Constraints.MAX_RESP_TIME: expected a number of ms > 0`);
    }
    return { name: String(get("name")), min: Number(get("mininstances") ?? 0), maxRespMs: max };
  }
  die(`${folder}: expected a service descriptor whose Image is ${IMAGE}`);
}

async function takeLock(): Promise<void> {
  for (let waited = 0;; waited += 30) {
    try {
      await Deno.mkdir(LOCK);
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      if (waited % 300 === 0) console.error(`[paper] harness lock held; waiting (${waited} s)`);
      await new Promise((r) => setTimeout(r, 30_000));
    }
  }
}

function haproxyConfig(dir: string, backend: string): string {
  return `global
  stats socket ${dir}/admin.sock mode 600 level admin
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout queue 10s
  retries 2
  option redispatch 1
frontend paper
  bind 127.0.0.1:${LB_PORT}
  default_backend ${backend}
backend ${backend}
  balance leastconn
`;
}

async function adminCommand(sock: string, line: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: sock });
  try {
    await conn.write(new TextEncoder().encode(line + "\n"));
    return await new Response(conn.readable).text();
  } catch {
    return "";
  }
}

async function serversUp(sock: string, backend: string): Promise<number> {
  const csv = await adminCommand(sock, "show stat");
  return csv.split("\n").filter((l) => {
    const f = l.split(",");
    return f[0] === backend && f[1] !== "BACKEND" && f[1] !== "FRONTEND" && f[17] === "UP";
  }).length;
}

async function runningIds(h: Harness, service: string): Promise<string[]> {
  const all = await Promise.all(
    h.nodes.map((n) =>
      h.docker(n.index, ["ps", "-q", "--no-trunc", "--filter", `label=gru.service=${service}`])
    ),
  );
  return all.flatMap((r) => r.stdout.split("\n").filter((l) => l.trim() !== ""));
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The host's 1-minute load average (other work on this shared machine). */
async function hostLoad(): Promise<number> {
  return Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
}

/** Starts a process whose stdout and stderr go to `<dir>/<name>.log`. */
async function spawnLogged(cmd: string, args: string[], dir: string, name: string) {
  const log = await Deno.open(`${dir}/${name}.log`, { write: true, create: true, append: true });
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const sink = () => new WritableStream<Uint8Array>({ write: (c) => void log.writeSync(c) });
  void Promise.allSettled([child.stdout.pipeTo(sink()), child.stderr.pipeTo(sink())])
    .then(() => log.close());
  return child;
}

function stop(child: Deno.ChildProcess | undefined) {
  try {
    child?.kill("SIGTERM");
  } catch { /* already gone */ }
}

interface RunOptions {
  configDir: string;
  variant: string;
  run: number;
  durationS: number;
  rateFrom: number;
  rateTo: number;
  service: ServiceInfo;
  work: string;
}

/** Undoes the run in progress (children, harness, lock) when the script is interrupted. */
let onInterrupt: (() => Promise<void>) | undefined;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => {
    console.error(`[paper] ${sig}: stopping the run and releasing the harness`);
    void (onInterrupt?.() ?? Promise.resolve()).finally(() => Deno.exit(130));
  });
}

async function oneRun(o: RunOptions): Promise<RunResult> {
  const sock = `${o.work}/admin.sock`;
  await Deno.writeTextFile(`${o.work}/haproxy.cfg`, haproxyConfig(o.work, o.service.name));
  let haproxy: Deno.ChildProcess | undefined;
  let lb: Deno.ChildProcess | undefined;
  let h: Harness | undefined;
  const t0 = Date.now();
  const say = (m: string) =>
    console.error(`[paper ${o.variant} #${o.run} +${(Date.now() - t0) / 1000 | 0}s] ${m}`);
  const cleanup = async () => {
    stop(lb);
    stop(haproxy);
    await Promise.allSettled([lb?.status, haproxy?.status]);
    if (h) await h.down().catch((err) => say(`harness down failed: ${err}`));
  };
  onInterrupt = async () => {
    await cleanup();
    if (!h) await clusterScript(["down"]).catch(() => {}); // interrupted during up
    await Deno.remove(LOCK).catch(() => {});
  };
  try {
    Deno.env.set("HARNESS_EXTRA_IMAGES", IMAGE);
    say("harness up");
    h = await Harness.up(3, {
      cluster: CLUSTER,
      configDir: o.configDir,
      active: true,
      plain: true,
    });
    haproxy = await spawnLogged(
      "haproxy",
      ["-db", "-f", `${o.work}/haproxy.cfg`],
      o.work,
      "haproxy",
    );
    for (let i = 0; i < 50 && !(await Deno.stat(sock).then(() => true, () => false)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    lb = await spawnLogged(
      "deno",
      [
        "run",
        "-A",
        "--quiet",
        `${ROOT}main.ts`,
        "--etcd",
        h.etcdUrl,
        "lb",
        "haproxy",
        "--service",
        o.service.name,
        "--socket",
        sock,
        "--backend",
        o.service.name,
        "--cluster",
        CLUSTER,
      ],
      o.work,
      "lb",
    );
    const url = `http://127.0.0.1:${LB_PORT}/cgi-bin/req`;
    say(`waiting for ${o.service.min} instance(s) UP in HAProxy`);
    const want = Math.max(1, o.service.min);
    let ready = false;
    for (let i = 0; i < 180 && !ready; i++) {
      const [ids, up] = await Promise.all([
        runningIds(h, o.service.name),
        serversUp(sock, o.service.name),
      ]);
      ready = ids.length >= want && up >= want && (await answers(url));
      if (!ready) await new Promise((r) => setTimeout(r, 1000));
    }
    if (!ready) {
      throw new Error(`${want} instance(s) never answered through HAProxy (see ${o.work})`);
    }
    say("load starts");
    const loadBefore = await hostLoad();
    const samples: InstanceSample[] = [];
    const start = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const t = (performance.now() - start) / 1000;
        const [ids, up] = await Promise.all([
          runningIds(h!, o.service.name),
          serversUp(sock, o.service.name),
        ]);
        samples.push({ t, ids, up });
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const records = await runOpenLoop({
      url,
      durationS: o.durationS,
      rateFrom: o.rateFrom,
      rateTo: o.rateTo,
      seed: o.run,
      timeoutMs: 30_000,
    });
    sampling = false;
    await sampler;
    say(`load done: ${records.length} requests`);
    const loadAfter = await hostLoad();
    const m = measure(records, samples, o.durationS, o.service.maxRespMs);
    return {
      variant: o.variant,
      run: o.run,
      config: o.configDir,
      startedAt: new Date(t0).toISOString(),
      durationS: o.durationS,
      rateFrom: o.rateFrom,
      rateTo: o.rateTo,
      maxRespMs: o.service.maxRespMs,
      hostLoad: [loadBefore, loadAfter],
      ...m,
      records,
      samples,
    };
  } finally {
    await cleanup();
    onInterrupt = undefined;
  }
}

const args = [...Deno.args];
if (args[0] === "--summarize") {
  const dir = args[1] ?? die("--summarize needs the results folder");
  console.log(table(await readResults(dir)));
  Deno.exit(0);
}
if (args[0] === "--replot") {
  const dir = args[1] ?? die("--replot needs the results folder");
  const out = args[2] ?? `${ROOT}docs/paper`;
  const results = await readResults(dir);
  for (const r of results) {
    await Deno.writeTextFile(`${out}/${r.variant}-run${r.run}.svg`, svgOf(r));
  }
  await Deno.writeTextFile(`${out}/overview.svg`, overviewSvg(results));
  Deno.exit(0);
}
const runs = num(args, "--runs", 3, 1);
const firstRun = num(args, "--first", 1, 1);
const durationS = num(args, "--duration", 120, 10);
const rateFrom = num(args, "--from", 0.9, 0);
const rateTo = num(args, "--to", 18, 0);
const resultsDir = flag(args, "--results", "/tmp/paper-results");
const svgDir = flag(args, "--svg", `${ROOT}docs/paper`);
const configArg = args.find((a) => !a.startsWith("--"));
if (configArg === undefined) die("usage: bench_paper.ts <config dir> [--runs N] [--variant NAME]");
const variant = flag(args, "--variant", configArg.replace(/\/+$/, "").split("/").pop()!);
const configDir = await Deno.realPath(configArg).catch(() => die(`${configArg}: no such folder`));
const service = await readService(configDir);
await Deno.mkdir(resultsDir, { recursive: true });
await Deno.mkdir(svgDir, { recursive: true });

for (let run = firstRun; run < firstRun + runs; run++) {
  const work = await Deno.makeTempDir({ prefix: `gru-paper-${variant}-` });
  await takeLock();
  let result: RunResult | undefined;
  try {
    result = await oneRun({ configDir, variant, run, durationS, rateFrom, rateTo, service, work });
  } catch (err) {
    console.error(`[paper] ${variant} run ${run} failed: ${(err as Error).message}`);
  } finally {
    await Deno.remove(LOCK).catch(() => {});
  }
  if (!result) continue;
  await Deno.writeTextFile(`${resultsDir}/${variant}-run${run}.json`, JSON.stringify(result));
  await Deno.writeTextFile(`${svgDir}/${variant}-run${run}.svg`, svgOf(result));
  const { records: _r, samples: _s, ...figures } = result;
  console.log(JSON.stringify(figures));
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

/**
 * API read latency: p50/p95/p99 of `GET /gru/v1/health`, `/node`, `/services` and `/stats`
 * against a real `gru agent --active` subprocess, over one kept-alive connection.
 *
 * Set-up: an embedded file store with cluster `benchapi` (1 s loop, a policy that never acts,
 * service `idle` = busybox `sleep`), N busybox containers on the host engine labelled as instances
 * of `idle` on node `b1` (default 10), the agent on 127.0.0.1, a 5 s warm-up (so the loop has
 * run). Then for each route `rounds` blocks of `count / rounds` sequential requests (default 2000
 * in 4 blocks), the routes' blocks interleaved so that a change of machine load hits all of
 * them alike; each request's time is from `fetch` to the body read. The agent's log is dropped.
 *
 * Prints a table, the load average before and after, and whether every answer was 200; asserts
 * nothing. `deno run -A scripts/bench_api.ts [count=2000] [containers=10] [rounds=4]` (the engine
 * at /var/run/docker.sock; the image gru-test/busybox). Every container carries
 * `gru.test-run=<id>` and is removed at the end, even on failure.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { LABEL_TEST_RUN } from "../src/domain/model.ts";
import { freePort } from "../tests/helpers/net.ts";

const COUNT = Number(Deno.args[0] ?? 2000);
const CONTAINERS = Number(Deno.args[1] ?? 10);
const ROUNDS = Number(Deno.args[2] ?? 4);
const ROUTES = ["/gru/v1/health", "/gru/v1/node", "/gru/v1/services", "/gru/v1/stats"];
const ROOT = new URL("../", import.meta.url).pathname;
const run = `bench-api-${Date.now().toString(36)}`;
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

const tmp = await Deno.makeTempDir({ prefix: "gru-bench-api-" });
const store = `file:${tmp}/store.json`;
const gru = (args: string[]) =>
  sh(Deno.execPath(), ["run", "-A", "--quiet", `${ROOT}main.ts`, "--store", store, ...args]);
let agent: Deno.ChildProcess | undefined;
const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });

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
  await gru(["create", "benchapi"]);
  await gru(["config", "import", "benchapi", `${tmp}/conf`]);
  const token = (await gru(["token", "show", "benchapi", "--reveal"])).trim();
  for (let i = 0; i < CONTAINERS; i++) {
    await sh("docker", [
      "run",
      "-d",
      "--name",
      `${run}-idle-${i}`,
      ...["--label", "gru.cluster=benchapi", "--label", "gru.node=b1"],
      ...["--label", "gru.service=idle", "--label", `${LABEL_TEST_RUN}=${run}`],
      "gru-test/busybox",
      "sleep",
      "3600",
    ]);
  }

  const port = freePort();
  agent = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", "--quiet", `${ROOT}main.ts`, "--store", store, "agent"],
      ...["--cluster", "benchapi", "--name", "b1", "--address", "127.0.0.1"],
      ...["--port", String(port), "--listen", "127.0.0.1", "--state", `${tmp}/b1.json`],
      "--active",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${token}` };
  const get = async (path: string): Promise<number> => {
    const r = await fetch(base + path, { headers, client });
    await r.arrayBuffer();
    return r.status;
  };
  const deadline = Date.now() + 30_000;
  while ((await get("/gru/v1/health").catch(() => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error("the agent did not become healthy within 30 s");
    await sleep(200);
  }
  await sleep(5000);
  const node = await (await fetch(`${base}/gru/v1/node`, { headers, client })).json();
  console.log(`the agent lists ${node.instances?.length ?? "?"} instances; load ${load()}`);

  const times = new Map<string, number[]>(ROUTES.map((r) => [r, []]));
  const statuses = new Map<string, Map<number, number>>(ROUTES.map((r) => [r, new Map()]));
  for (const route of ROUTES) for (let i = 0; i < 100; i++) await get(route); // warm-up
  const loadBefore = load();
  const per = Math.ceil(COUNT / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of ROUTES) {
      const list = times.get(route)!;
      const seen = statuses.get(route)!;
      for (let i = 0; i < per; i++) {
        const t = performance.now();
        const status = await get(route);
        list.push(performance.now() - t);
        seen.set(status, (seen.get(status) ?? 0) + 1);
      }
    }
  }
  const loadAfter = load();

  console.log(
    `\n${per * ROUNDS} requests per route, ${CONTAINERS} containers, one kept-alive connection`,
  );
  console.log(`load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}\n`);
  console.log("| route | p50 ms | p95 ms | p99 ms | mean ms | statuses |");
  console.log("|---|---|---|---|---|---|");
  const p50 = new Map<string, number>();
  for (const route of ROUTES) {
    const sorted = [...times.get(route)!].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    p50.set(route, quantile(sorted, 0.5));
    const st = [...statuses.get(route)!].map(([s, n]) => `${s}×${n}`).join(" ");
    console.log(
      `| ${route} | ${quantile(sorted, 0.5).toFixed(3)} | ${quantile(sorted, 0.95).toFixed(3)} | ` +
        `${quantile(sorted, 0.99).toFixed(3)} | ${mean.toFixed(3)} | ${st} |`,
    );
  }
  const ratio = p50.get("/gru/v1/node")! / p50.get("/gru/v1/health")!;
  console.log(`\nGET /node p50 ÷ GET /health p50 = ${ratio.toFixed(2)} (goal ≤ 2)`);
} finally {
  try {
    agent?.kill("SIGTERM");
    await agent?.status;
  } catch {
    // already gone
  }
  client.close();
  // A few at a time: removing 100 at once can make the engine drop connections.
  const ids = (await sh("docker", ["ps", "-aq", "--filter", `label=${LABEL_TEST_RUN}=${run}`]))
    .split("\n").filter(Boolean);
  for (let i = 0; i < ids.length; i += 10) {
    await sh("docker", ["rm", "-f", ...ids.slice(i, i + 10)]).catch((err) => console.error(err));
  }
  await Deno.remove(tmp, { recursive: true });
}

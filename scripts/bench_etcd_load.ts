/**
 * etcd load per agent in steady state, on the multi-node harness with a real etcd: for each
 * cluster size N, `scripts/cluster.sh up N --active` (default config, examples/demo), a 20 s
 * settle, then the harness etcd's Prometheus counters (http://127.0.0.1:2479/metrics) before and
 * after a 60 s window: unary gRPC calls by method (`grpc_server_handled_total`), stream messages
 * received by method (`grpc_server_msg_received_total`: each lease keep-alive and each watch
 * create/cancel is one message on a long-lived stream), and MVCC operations
 * (`etcd_mvcc_*_total`). Reports requests per agent per minute; the harness is taken down after
 * each size, and at the end even on failure.
 *
 * Prints a table; asserts nothing. Run as root, with nothing else using the harness:
 * `deno run -A scripts/bench_etcd_load.ts [3,5] [window s=60]`.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { Harness, HARNESS_ETCD_URL } from "../tests/helpers/harness.ts";

const SIZES = (Deno.args[0] ?? "3,5").split(",").map(Number);
const WINDOW_S = Number(Deno.args[1] ?? 60);
const SETTLE_MS = 20_000;

type Counters = Map<string, number>;

/** The counters we care about, keyed `kind method`. */
async function scrape(): Promise<Counters> {
  const text = await (await fetch(`${HARNESS_ETCD_URL}/metrics`)).text();
  const out: Counters = new Map();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const m = /^([a-zA-Z_:]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (!m) continue;
    const [, name, labels = "", value] = m;
    const method = /grpc_method="([^"]+)"/.exec(labels)?.[1];
    const type = /grpc_type="([^"]+)"/.exec(labels)?.[1];
    const v = Number(value);
    if (name === "grpc_server_handled_total" && method && type === "unary") {
      add(`unary ${method}`, v);
    } else if (name === "grpc_server_msg_received_total" && method && type !== "unary") {
      add(`stream-msg ${method}`, v);
    } else if (name === "grpc_server_started_total" && method && type !== "unary") {
      add(`stream-open ${method}`, v);
    } else if (/^etcd_mvcc_(range|put|txn|delete)_total$/.test(name!)) add(`mvcc ${name}`, v);
    else if (name === "etcd_debugging_mvcc_watcher_total") add("gauge watchers", v);
    else if (name === "etcd_debugging_mvcc_keys_total") add("gauge keys", v);
  }
  return out;
}

interface Result {
  n: number;
  perAgentPerMin: Map<string, number>;
  gauges: Map<string, number>;
  error?: string;
}

const results: Result[] = [];
const status = await new Deno.Command("bash", {
  args: [new URL("./cluster.sh", import.meta.url).pathname, "status"],
  stdout: "piped",
}).output();
const st = new TextDecoder().decode(status.stdout);
if (!/etcd\s+not running/.test(st) || !/nodes\s+none/.test(st)) {
  console.log(`The harness is in use; not touching it:\n${st}`);
  Deno.exit(1);
}

for (const n of SIZES) {
  let h: Harness | undefined;
  try {
    console.log(`harness up ${n} --active …`);
    const t = Date.now();
    h = await Harness.up(n, { active: true });
    console.log(`up in ${((Date.now() - t) / 1000).toFixed(0)} s; settling ${SETTLE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const a = await scrape();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const b = await scrape();
    const minutes = (performance.now() - t0) / 60_000;
    const per = new Map<string, number>();
    const gauges = new Map<string, number>();
    for (const [k, v] of b) {
      if (k.startsWith("gauge ")) gauges.set(k.slice(6), v);
      else per.set(k, (v - (a.get(k) ?? 0)) / n / minutes);
    }
    results.push({ n, perAgentPerMin: per, gauges });
    console.log(`N=${n}:`, Object.fromEntries([...per].filter(([, v]) => v > 0)));
  } catch (err) {
    results.push({
      n,
      perAgentPerMin: new Map(),
      gauges: new Map(),
      error: err instanceof Error ? err.message.slice(0, 2000) : String(err),
    });
    console.log(`N=${n} failed: ${results.at(-1)!.error}`);
  } finally {
    if (h) await h.down();
    else {
      await new Deno.Command("bash", {
        args: [new URL("./cluster.sh", import.meta.url).pathname, "down"],
        stdout: "null",
        stderr: "null",
      }).output();
    }
  }
}

const keys = [
  ...new Set(
    results.flatMap((r) => [...r.perAgentPerMin].filter(([, v]) => v > 0.01).map(([k]) => k)),
  ),
].sort();
console.log(`\netcd requests per agent per minute (steady state, ${WINDOW_S} s window)\n`);
console.log(`| counter | ${results.map((r) => `N = ${r.n}`).join(" | ")} |`);
console.log(`| --- | ${results.map(() => "---:").join(" | ")} |`);
for (const k of keys) {
  console.log(
    `| ${k} | ${results.map((r) => (r.perAgentPerMin.get(k) ?? 0).toFixed(1)).join(" | ")} |`,
  );
}
const total = (r: Result, prefix: string[]) =>
  [...r.perAgentPerMin].filter(([k]) => prefix.some((p) => k.startsWith(p)))
    .reduce((s, [, v]) => s + v, 0);
console.log(
  `| **gRPC requests (unary calls + stream messages)** | ${
    results.map((r) => total(r, ["unary ", "stream-msg "]).toFixed(1)).join(" | ")
  } |`,
);
console.log(
  `| watchers (gauge, cluster-wide) | ${
    results.map((r) => String(r.gauges.get("watchers") ?? "-")).join(" | ")
  } |`,
);
for (const r of results) if (r.error) console.log(`\nN=${r.n} failed: ${r.error}`);

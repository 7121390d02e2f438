/**
 * Herding on a 3-node harness cluster: how many instances the cluster starts when every node
 * sees the same sudden CPU load at once. For each of 5 runs: a `web` service at its min of 1,
 * then 6 load workers; we count the instances started within the first scale-out cooldown after
 * the first start (ideal: 1, one per cooldown window), and the most instances reached.
 * Prints a table; asserts nothing. Run as root: `deno run -A scripts/bench_overshoot.ts [runs]`.
 */

// deno-lint-ignore-file no-console -- a script that prints figures

import { Harness } from "../tests/helpers/harness.ts";
import { urlLoad } from "../tests/helpers/agent.ts";

const RUNS = Number(Deno.args[0] ?? 5);
const COOLDOWN_S = 5;

async function writeConfig(dir: string) {
  await Deno.mkdir(`${dir}/services`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      Autonomic: {
        LoopTimeInterval: 1,
        Warmup: 1,
        Window: 3,
        ScaleOutCooldown: COOLDOWN_S,
        ScaleInCooldown: 60,
        ScaleInStabilization: 30,
      },
      Communication: { LoopTimeInterval: 0.5, MaxFriends: 2 },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/policy.json`,
    JSON.stringify({ Scaleout: { Enable: true, Threshold: 0.3, Metrics: ["cpu_avg"] } }),
  );
  await Deno.writeTextFile(
    `${dir}/services/web.json`,
    JSON.stringify({
      Name: "web",
      Image: "gru-demo/web",
      MinInstances: 1,
      MaxInstances: 6,
      Configuration: { CpuNumber: 1, Ports: { "80": "18080-18089" }, StopTimeout: 1 },
    }),
  );
}

async function targets(h: Harness): Promise<string[]> {
  const out: string[] = [];
  for (const n of h.nodes) {
    const r = await h.docker(n.index, [
      "ps",
      "--filter",
      "label=gru.service=web",
      "--format",
      "{{.Ports}}",
    ]);
    for (const line of r.stdout.split("\n")) {
      const port = /:(\d+)->80/.exec(line)?.[1];
      if (port) out.push(`http://${n.ip}:${port}`);
    }
  }
  return out;
}

const rows: string[][] = [];
for (let run = 1; run <= RUNS; run++) {
  const dir = await Deno.makeTempDir({ prefix: "gru-overshoot-" });
  await writeConfig(dir);
  const h = await Harness.up(3, { cluster: `over${run}`, configDir: dir, active: true });
  try {
    let t = await targets(h);
    for (let i = 0; i < 60 && t.length < 1; i++) {
      await new Promise((r) => setTimeout(r, 500));
      t = await targets(h);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const baseline = (await targets(h)).length;
    let stopped = false;
    const samples: { at: number; n: number }[] = [];
    const start = Date.now();
    const watcher = (async () => {
      while (!stopped) {
        t = await targets(h);
        samples.push({ at: Date.now() - start, n: t.length });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const load = urlLoad(() => t, { workers: 6, n: 30000 });
    await new Promise((r) => setTimeout(r, 20_000));
    stopped = true;
    await Promise.all([watcher, load.stop()]);
    const first = samples.find((s) => s.n > baseline);
    const inWindow = first
      ? Math.max(...samples.filter((s) => s.at <= first.at + COOLDOWN_S * 1000).map((s) => s.n)) -
        baseline
      : 0;
    const max = Math.max(baseline, ...samples.map((s) => s.n));
    rows.push([
      String(run),
      String(baseline),
      first ? (first.at / 1000).toFixed(1) : "-",
      String(inWindow),
      String(Math.max(0, inWindow - 1)),
      String(max),
    ]);
    console.log(rows.at(-1)!.join("\t"));
  } finally {
    await h.down();
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(
  "\nrun  baseline  first start (s)  started in first cooldown  overshoot  max instances",
);
for (const r of rows) console.log(r.map((c, i) => c.padEnd([5, 10, 17, 27, 11, 13][i]!)).join(""));

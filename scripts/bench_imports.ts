/**
 * What each dependency costs in memory: the RSS of fresh `deno run` processes that import
 * nothing, one npm dependency, or the whole CLI (`main.ts --help`, `gru create`,
 * `gru config validate`), and of a `gru agent` at steady state (embedded file store, the host
 * engine, no containers). Also says which npm packages `main.ts` loads statically (from
 * `deno info --json main.ts`), so a dependency loaded by commands that don't need it shows.
 *
 * Prints a table; asserts nothing. `deno run -A scripts/bench_imports.ts` (the agent case needs
 * the engine at /var/run/docker.sock).
 *
 * @module
 */

// deno-lint-ignore-file no-console

const ROOT = new URL("../", import.meta.url).pathname;
const CONFIG = `${ROOT}deno.json`;
const tmp = await Deno.makeTempDir({ prefix: "gru-bench-imports-" });
const dec = new TextDecoder();

interface Row {
  label: string;
  /** KiB */
  rss: number | undefined;
  /** KiB */
  hwm: number | undefined;
  /** ms */
  wall: number;
}

function kib(status: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : undefined;
}

/** A module importing `specs`, then printing its own VmRSS / VmHWM. */
async function importCase(label: string, specs: string[]): Promise<Row> {
  const file = `${tmp}/${label.replace(/[^a-z0-9]+/gi, "_")}.ts`;
  await Deno.writeTextFile(
    file,
    specs.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};\n`).join("") +
      `const keep = [${specs.map((_, i) => `m${i}`).join(", ")}];\n` +
      `const s = Deno.readTextFileSync("/proc/self/status");\n` +
      `console.log(keep.length, s.match(/VmRSS:\\s+(\\d+)/)![1], s.match(/VmHWM:\\s+(\\d+)/)![1]);\n`,
  );
  const t = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--no-lock", "--config", CONFIG, file],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = performance.now() - t;
  const [, rss, hwm] = dec.decode(out.stdout).trim().split(" ").map(Number);
  if (!out.success) console.error(label, dec.decode(out.stderr));
  return { label, rss, hwm, wall };
}

/** Peak RSS of a whole short-lived `deno run main.ts …` (GNU time's %M). */
async function cliCase(label: string, args: string[]): Promise<Row> {
  const t = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "maxrss=%M", Deno.execPath(), "run", "-A", "--quiet", "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const wall = performance.now() - t;
  const m = /maxrss=(\d+)/.exec(dec.decode(out.stderr));
  return { label, rss: undefined, hwm: m ? Number(m[1]) : undefined, wall };
}

/** `gru agent` after `settle` ms: VmRSS and VmHWM from /proc/<pid>/status. */
async function agentCase(label: string, extra: string[], settle: number): Promise<Row> {
  const store = `file:${tmp}/store.json`;
  const port = 29400 + Math.floor(Math.random() * 90);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "main.ts",
      "--store",
      store,
      "agent",
      "--cluster",
      "benchimp",
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
      ...extra,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const t = performance.now();
  try {
    await new Promise((r) => setTimeout(r, settle));
    const s = await Deno.readTextFile(`/proc/${child.pid}/status`);
    return { label, rss: kib(s, "VmRSS"), hwm: kib(s, "VmHWM"), wall: performance.now() - t };
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // it exited by itself
    }
    await child.status;
  }
}

async function gru(args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`gru ${args.join(" ")}: ${dec.decode(out.stderr)}`);
}

const rows: Row[] = [];
try {
  // Warm the module caches first so no case pays for a download or a type check.
  await importCase("warm", ["dockerode", "etcd3", "mathjs", "@influxdata/influxdb-client"]);
  const cases: [string, string[]][] = [
    ["nothing (bare Deno)", []],
    ["dockerode", ["dockerode"]],
    ["etcd3", ["etcd3"]],
    ["mathjs", ["mathjs"]],
    ["@influxdata/influxdb-client", ["@influxdata/influxdb-client"]],
    ["hono", ["hono"]],
    ["zod", ["zod"]],
    ["commander (extra-typings)", ["@commander-js/extra-typings"]],
    ["@logtape/logtape", ["@logtape/logtape"]],
    ["dockerode + etcd3", ["dockerode", "etcd3"]],
    ["dockerode + etcd3 + mathjs", ["dockerode", "etcd3", "mathjs"]],
    ["src/cli/mod.ts + src/app/mod.ts (main's static graph)", [
      `${ROOT}src/cli/mod.ts`,
      `${ROOT}src/app/mod.ts`,
    ]],
  ];
  for (const [label, specs] of cases) rows.push(await importCase(label, specs));
  rows.push(await cliCase("gru --help", ["--help"]));
  rows.push(
    await cliCase("gru config validate examples/demo", ["config", "validate", "examples/demo"]),
  );
  rows.push(
    await cliCase("gru create (file store)", [
      "--store",
      `file:${tmp}/store.json`,
      "create",
      "benchimp",
    ]),
  );
  await gru(["--store", `file:${tmp}/store.json`, "config", "import", "benchimp", "examples/demo"]);
  rows.push(await agentCase("gru agent, passive, 15 s (no containers)", [], 15_000));
  rows.push(await agentCase("gru agent --active, 15 s (no containers)", ["--active"], 15_000));
} finally {
  await Deno.remove(tmp, { recursive: true });
  // The active agent keeps the demo's MinInstances: remove what it started.
  const ids = await new Deno.Command("docker", {
    args: ["ps", "-aq", "--filter", "label=gru.cluster=benchimp"],
    stdout: "piped",
  }).output();
  const list = dec.decode(ids.stdout).split("\n").filter(Boolean);
  if (list.length) {
    await new Deno.Command("docker", { args: ["rm", "-f", ...list], stdout: "null" }).output();
  }
}

const mb = (k: number | undefined) => k === undefined ? "-" : (k / 1024).toFixed(1);
console.log("| process | RSS (MB) | peak RSS, VmHWM (MB) | wall (s) |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.label} | ${mb(r.rss)} | ${mb(r.hwm)} | ${(r.wall / 1000).toFixed(2)} |`);
}

// Which npm packages main.ts loads statically, and which only through a dynamic import.
const info = JSON.parse(
  dec.decode(
    (await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "main.ts"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output()).stdout,
  ),
) as {
  modules: {
    specifier: string;
    dependencies?: {
      specifier: string;
      code?: { specifier: string };
      isDynamic?: boolean;
    }[];
  }[];
};
const byFile = new Map(info.modules.map((m) => [m.specifier, m]));
const staticNpm = new Set<string>();
const dynamicNpm = new Set<string>();
const seen = new Set<string>();
const stack = [new URL("main.ts", `file://${ROOT}`).href];
while (stack.length > 0) {
  const spec = stack.pop()!;
  if (seen.has(spec)) continue;
  seen.add(spec);
  for (const d of byFile.get(spec)?.dependencies ?? []) {
    const target = d.code?.specifier;
    if (!target) continue;
    if (target.startsWith("npm:")) {
      const name = target.replace(/^npm:\/?/, "").replace(/@[^@/]+$/, "");
      (d.isDynamic ? dynamicNpm : staticNpm).add(name);
    } else if (target.startsWith("file:") && !d.isDynamic) stack.push(target);
    else if (target.startsWith("file:")) {
      // a dynamically imported local module: what it pulls in is dynamic too
      for (const dd of byFile.get(target)?.dependencies ?? []) {
        const t2 = dd.code?.specifier;
        if (t2?.startsWith("npm:")) {
          dynamicNpm.add(t2.replace(/^npm:\/?/, "").replace(/@[^@/]+$/, ""));
        }
      }
    }
  }
}
for (const s of staticNpm) dynamicNpm.delete(s);
console.log(
  `\nnpm packages main.ts loads statically (every command): ${[...staticNpm].sort().join(", ")}`,
);
console.log(
  `npm packages only behind a dynamic import: ${[...dynamicNpm].sort().join(", ") || "none"}`,
);

/**
 * Builds the single `gru` binary with `deno compile`, with explicit permissions (never `-A`).
 *
 * Usage: `deno task compile [--target <triple>] [--output <path>] [--allow-write-extra <path>]…`
 *
 * - `--target`: passed through to `deno compile` (e.g. `x86_64-unknown-linux-gnu`,
 *   `aarch64-unknown-linux-gnu`); default: this machine's.
 * - `--output`: where the binary goes; default `dist/gru`.
 * - `--allow-write-extra`: another path the binary may write (repeatable), on top of
 *   {@linkcode WRITE_PATHS}.
 *
 * `deno compile` needs the `denort` runtime of the same Deno version, which it downloads from
 * Deno's download host unless the `DENORT_BIN` environment variable names a local copy. This
 * script passes its environment through unchanged, and when the download fails it says so.
 *
 * @module
 */

// deno-lint-ignore-file no-console

/**
 * Paths the compiled binary may write:
 * - `/var/lib/gru`: state (node identity `node.json`, the embedded `file:` store);
 * - `/tmp`: scratch files;
 * - `/var/run`, `/run`: connecting to a unix socket needs read *and* write permission on it in
 *   Deno (`/var/run/docker.sock`, `/run/docker.sock`, per-node engines under `/run/gru-nodes/`).
 */
export const WRITE_PATHS = ["/var/lib/gru", "/tmp", "/var/run", "/run"] as const;

/**
 * The permissions baked into the binary. No `--allow-run` (Gru starts no processes: Docker is
 * reached through its API) and no `--allow-ffi`.
 * - `--allow-net`: etcd, the Docker API over TCP, peers' HTTP APIs, InfluxDB, its own API server;
 * - `--allow-read`: configuration files, `/sys/fs/cgroup` and `/proc` for container stats, the
 *   Docker socket, TLS material anywhere the operator puts it;
 * - `--allow-env`: `ETCD_ADDR`, `GRU_*`, `DOCKER_HOST` and the variables npm packages read;
 * - `--allow-sys`: the network interfaces, for the node's address when `join` or `agent` has no
 *   `--address`.
 *
 * tests/e2e/permissions_test.ts runs the CLI and an agent under exactly these flags (main.ts
 * under `deno run`: the binary needs `denort` to build), and shows each one is needed.
 */
export function permissionFlags(extraWrite: readonly string[] = []): string[] {
  return [
    "--allow-net",
    "--allow-read",
    `--allow-write=${[...WRITE_PATHS, ...extraWrite].join(",")}`,
    "--allow-env",
    "--allow-sys",
  ];
}

/**
 * Runtime flags baked into the binary (figures: scripts/bench_lightness.ts, BENCHMARKS.md):
 * - `--max-semi-space-size=1` (MB): V8's young generation grows to 16 MB per semi-space by
 *   default, which an agent that allocates steadily keeps touching: capping it took an active
 *   agent from 173 to 130 MB of RSS at 100 containers for the same CPU (2.3 and 2.1 % of a core).
 *   `--optimize-for-size` saved 7 MB more but cost 2.5 times the CPU; not used.
 * - `--unstable-lazy-dynamic-imports`: `deno run` otherwise loads every statically analyzable
 *   dynamic import (the agent, dockerode, etcd3, mathjs) before the first line runs, which
 *   undoes the lazy loading of the composition root for `gru --help` or `gru create`.
 */
export const V8_FLAGS: readonly string[] = [
  "--v8-flags=--max-semi-space-size=1",
  "--unstable-lazy-dynamic-imports",
];

/**
 * Files the binary carries besides its module graph: the console's single-page app, read at run
 * time relative to `src/console/server/assets.ts` (uPlot comes from its npm package, imported).
 */
export const CONSOLE_ASSETS: readonly string[] = ["src/console/assets"];

/** Parsed command line of this script. */
export interface CompileOptions {
  target?: string;
  output: string;
  extraWrite: string[];
}

/** Parses `--target X`, `--target=X`, `--output X`, `-o X`, `--allow-write-extra X`. */
export function parseArgs(args: readonly string[]): CompileOptions {
  const opts: CompileOptions = { output: "dist/gru", extraWrite: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (name !== arg) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined || v.startsWith("-")) throw new TypeError(`Missing value for ${name}`);
      return v;
    };
    switch (name) {
      case "--target":
        opts.target = value();
        break;
      case "--output":
      case "-o":
        opts.output = value();
        break;
      case "--allow-write-extra":
        opts.extraWrite.push(value());
        break;
      default:
        throw new TypeError(`Unknown argument "${arg}"`);
    }
  }
  return opts;
}

/** The full `deno compile` argument list. */
export function compileArgs(opts: CompileOptions): string[] {
  return [
    "compile",
    ...permissionFlags(opts.extraWrite),
    ...V8_FLAGS,
    ...(opts.target ? ["--target", opts.target] : []),
    "--output",
    opts.output,
    ...CONSOLE_ASSETS.flatMap((path) => ["--include", path]),
    "main.ts",
  ];
}

/** Whether `deno compile`'s stderr says it could not download the `denort` runtime. */
export function isDenortDownloadFailure(stderr: string): boolean {
  return /denort|dl\.deno\.land|download/i.test(stderr) &&
    /dns error|failed to lookup|error sending request|connect|timed out|download|tcp/i.test(stderr);
}

async function main(): Promise<number> {
  let opts: CompileOptions;
  try {
    opts = parseArgs(Deno.args);
  } catch (e) {
    console.error(`compile: ${e instanceof Error ? e.message : e}`);
    console.error(
      "usage: deno task compile [--target <triple>] [--output <path>] [--allow-write-extra <path>]",
    );
    return 2;
  }
  const root = new URL("..", import.meta.url).pathname;
  const slash = opts.output.lastIndexOf("/");
  if (slash > 0) {
    const dir = opts.output.slice(0, slash);
    await Deno.mkdir(dir.startsWith("/") ? dir : `${root}${dir}`, { recursive: true });
  }

  const args = compileArgs(opts);
  console.error(`compile: deno ${args.join(" ")}`);
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) console.error(`compile: using DENORT_BIN=${denort}`);

  // Environment passed through unchanged (Deno reads DENORT_BIN itself); stderr is echoed live
  // and kept so a download failure can be explained.
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const chunks: Uint8Array[] = [];
  for await (const chunk of child.stderr) {
    chunks.push(chunk);
    await Deno.stderr.write(chunk);
  }
  const status = await child.status;
  if (status.success) {
    console.error(`compile: wrote ${opts.output}`);
    return 0;
  }
  const stderr = new TextDecoder().decode(
    chunks.reduce((a, b) => {
      const c = new Uint8Array(a.length + b.length);
      c.set(a);
      c.set(b, a.length);
      return c;
    }, new Uint8Array()),
  );
  if (isDenortDownloadFailure(stderr)) {
    console.error(
      [
        "",
        "compile: FAILED: deno compile could not download the denort runtime it embeds into the",
        "compile: binary (this machine cannot reach Deno's download host).",
        `compile: Fix: set DENORT_BIN=/path/to/denort (denort of the same version: ${Deno.version.deno}`,
        `compile: for the target platform), e.g. DENORT_BIN=/opt/denort deno task compile, or build`,
        "compile: where the download host is reachable (the Dockerfile's build stage).",
      ].join("\n"),
    );
  } else if (denort && /Could not find denort/i.test(stderr)) {
    console.error(`\ncompile: FAILED: DENORT_BIN=${denort} does not exist (or is not readable)`);
  } else {
    console.error(`\ncompile: FAILED: deno compile exited with code ${status.code}`);
  }
  return status.code === 0 ? 1 : status.code;
}

if (import.meta.main) Deno.exit(await main());

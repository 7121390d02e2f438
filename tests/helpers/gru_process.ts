/**
 * Runs the real `gru` CLI (main.ts under `deno run`) as a subprocess, as a user would: with every
 * permission (the default), or with exactly the permissions the compiled binary has
 * (`permissions: "binary"`, see {@linkcode binaryRunFlags}; `GRU_TEST_PERMISSIONS=binary` makes it
 * the default of every test).
 *
 * @module
 */

import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { compileArgs, permissionFlags } from "../../scripts/compile.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * The runtime flags `deno task compile` bakes into the `gru` binary, for `deno run`: its
 * `deno compile` arguments without the build-only ones (`compile`, `--output`, `--target`,
 * `--include`, the entry point). So the permissions (scripts/compile.ts `permissionFlags()`) and
 * any V8 flags, exactly, with nothing to keep in sync by hand.
 */
export function binaryRunFlags(): string[] {
  const args = compileArgs({ output: "dist/gru", extraWrite: [] });
  const flags: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    if (["--output", "-o", "--target", "--include"].includes(arg)) i++;
    else if (arg !== "main.ts" && !/^--(output|target|include)=/.test(arg)) flags.push(arg);
  }
  for (const p of permissionFlags()) {
    if (!flags.includes(p)) throw new Error(`binaryRunFlags(): ${p} is not in compileArgs()`);
  }
  return flags;
}

/**
 * The permissions of a `gru` subprocess: `"all"` (`-A`), `"binary"` (those of the compiled
 * binary, {@linkcode binaryRunFlags}) or an explicit flag list (say the binary's minus one).
 */
export type Permissions = "all" | "binary" | readonly string[];

/**
 * The permissions of a `gru` subprocess that does not choose: `"binary"` when the environment
 * variable `GRU_TEST_PERMISSIONS` is `binary` (to run a whole suite as the binary would), else
 * `"all"`.
 */
export function defaultPermissions(): Permissions {
  return Deno.env.get("GRU_TEST_PERMISSIONS") === "binary" ? "binary" : "all";
}

/** `deno run` arguments that start main.ts with `permissions` (never prompting, as the binary). */
export function denoRunArgs(permissions: Permissions = defaultPermissions()): string[] {
  const flags = permissions === "all"
    ? ["-A"]
    : permissions === "binary"
    ? [...binaryRunFlags(), "--no-prompt"]
    : [...permissions, "--no-prompt"];
  return ["run", ...flags, "--quiet", MAIN];
}

/** What a finished command printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gru <args>` to completion (optionally feeding `stdin`). */
export async function gru(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; permissions?: Permissions } = {},
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...denoRunArgs(options.permissions), ...args],
    cwd: ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A long-running `gru` process (an agent). */
export class GruProcess {
  readonly child: Deno.ChildProcess;
  #stderr = "";
  #done: Promise<Deno.CommandStatus>;
  #reader: Promise<void>;

  constructor(
    args: string[],
    env: Record<string, string> = {},
    permissions: Permissions = defaultPermissions(),
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...denoRunArgs(permissions), ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env },
    }).spawn();
    this.child = child;
    this.#reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) this.#stderr += dec.decode(chunk);
    })();
    this.#done = child.status;
  }

  /** Everything the process logged so far. */
  get log(): string {
    return this.#stderr;
  }

  /** Sends a signal (ignored when it has exited) and waits for exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
    const status = await this.#done;
    await this.#reader;
    return status;
  }
}

/** Starts `gru agent` for node `name` on 127.0.0.1:`port`, labelling its containers with `run`. */
export function loopbackAgent(options: {
  cluster: string;
  name: string;
  port: number;
  stateDir: string;
  run: string;
  ttl: number;
  env: Record<string, string>;
  /** Address to bind. @default "127.0.0.1" */
  listen?: string;
  /** More `gru agent` arguments (for example TLS flags). */
  extraArgs?: string[];
  /** @default defaultPermissions() */
  permissions?: Permissions;
}): GruProcess {
  const o = options;
  return new GruProcess(
    [
      "agent",
      "--cluster",
      o.cluster,
      "--name",
      o.name,
      "--address",
      "127.0.0.1",
      "--port",
      String(o.port),
      "--listen",
      o.listen ?? "127.0.0.1",
      "--state",
      `${o.stateDir}/${o.name}.json`,
      "--ttl",
      String(o.ttl),
      "--label",
      `${LABEL_TEST_RUN}=${o.run}`,
      ...(o.extraArgs ?? []),
    ],
    o.env,
    o.permissions,
  );
}

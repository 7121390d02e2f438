/**
 * Runs the real `gru` CLI (main.ts under `deno run`) as a subprocess, as a user would.
 *
 * @module
 */

import { LABEL_TEST_RUN } from "../../src/domain/model.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** What a finished command printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gru <args>` to completion (optionally feeding `stdin`). */
export async function gru(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
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

  constructor(args: string[], env: Record<string, string> = {}) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
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
}): GruProcess {
  const o = options;
  return new GruProcess([
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
  ], o.env);
}

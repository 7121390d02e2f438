/**
 * What every CLI command shares: the injected dependencies (`CliDeps` and the types around it,
 * declared in `src/ports/cli_deps.ts` and re-exported here), exit codes, an in-memory `Output`
 * for tests and the REPL, and the global store options. Only `main.ts` calls `Deno.exit`.
 *
 * @module
 */

import type { Output, StoreOptions } from "../ports/cli_deps.ts";

export type {
  AgentRunOptions,
  CliDeps,
  NodeIdentity,
  Output,
  StoreOptions,
} from "../ports/cli_deps.ts";

/** Default identity file of `gru join` / `gru agent` (env `GRU_STATE`). */
export const DEFAULT_STATE_FILE = "/var/lib/gru/node.json";

/** Exit codes: 1 runtime failure, 2 usage or validation error. */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "ExitError";
    this.exitCode = exitCode;
  }
}

/** An `Output` that stores lines, for tests and the REPL's captures. */
export function memoryOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

/** The store options of any (sub)command, read from the root's global options. */
export function storeOptionsOf(cmd: { optsWithGlobals(): unknown }): StoreOptions {
  const o = cmd.optsWithGlobals() as Record<string, string | undefined>;
  return {
    etcd: o.etcd,
    etcdUser: o.etcdUser,
    etcdPassword: o.etcdPassword,
    etcdCa: o.etcdCa,
    etcdCert: o.etcdCert,
    etcdKey: o.etcdKey,
    store: o.store,
  };
}

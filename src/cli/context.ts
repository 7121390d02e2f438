/**
 * What every CLI command shares: the injected dependencies (`CliDeps`, the port of
 * `src/ports/cli_deps.ts` filled in with the cluster store and the configuration loader, and the
 * types around it, re-exported), exit codes, an in-memory `Output` for tests and the REPL, and
 * the global store options. Only `main.ts` calls `Deno.exit`.
 *
 * @module
 */

import type { ClusterStore } from "../cluster/cluster_store.ts";
import type { LoadedConfig } from "../config/config_files.ts";
import type { CliDeps as CliDepsPort, Output, StoreOptions } from "../ports/cli_deps.ts";

export type { AgentRunOptions, NodeIdentity, Output, StoreOptions } from "../ports/cli_deps.ts";

/** The command tree's dependencies: the `CliDeps` port over the cluster store and config loader. */
export type CliDeps = CliDepsPort<ClusterStore, LoadedConfig>;

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

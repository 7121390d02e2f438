/**
 * What every CLI command shares: the injected dependencies (`CliDeps`, the port of
 * `src/ports/cli_deps.ts` filled in with the cluster store and the configuration loader, and the
 * types around it, re-exported), exit codes, an in-memory `Output` for tests and the REPL, and
 * the global store options. Only `main.ts` calls `Deno.exit`.
 *
 * @module
 */

import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
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

/**
 * The original's per-command etcd option, `-e, --etcdserver <url>` (on `create`, `join`,
 * `manage` and `agent`). It means the same as the global `--etcd`; `ETCD_ADDR` stays the default
 * of both.
 */
export function etcdServerOption(): Option {
  return new Option(
    "-e, --etcdserver <url>",
    "etcd endpoint(s), the original's option (same as the global --etcd; default env ETCD_ADDR)",
  );
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/**
 * The etcd endpoints of a command: `-e/--etcdserver` when given, else the global `--etcd`
 * (or `ETCD_ADDR`). Both on the command line with different values is a usage error (exit 2)
 * naming both.
 */
export function etcdEndpointsOf(cmd: { optsWithGlobals(): unknown }): string | undefined {
  const o = cmd.optsWithGlobals() as Record<string, string | undefined>;
  const server = o.etcdserver;
  if (server === undefined) return o.etcd;
  const source = (cmd as unknown as CommandUnknownOpts).getOptionValueSourceWithGlobals?.("etcd");
  if (source === "cli" && o.etcd !== undefined && o.etcd !== server) {
    throw new ExitError(
      `Conflicting etcd options: --etcd ${excerpt(o.etcd)} and -e/--etcdserver ` +
        `${excerpt(server)}: give only one`,
      2,
    );
  }
  if (server.trim() === "") {
    throw new ExitError(`Invalid -e/--etcdserver "": expected an etcd URL`, 2);
  }
  return server;
}

/** The store options of any (sub)command, read from the root's global options. */
export function storeOptionsOf(cmd: { optsWithGlobals(): unknown }): StoreOptions {
  const o = cmd.optsWithGlobals() as Record<string, string | undefined>;
  return {
    etcd: etcdEndpointsOf(cmd),
    etcdUser: o.etcdUser,
    etcdPassword: o.etcdPassword,
    etcdCa: o.etcdCa,
    etcdCert: o.etcdCert,
    etcdKey: o.etcdKey,
    store: o.store,
  };
}

/**
 * What every CLI command gets: an output sink (so tests and the REPL can capture it) and
 * factories for the adapters it may need. Only `main.ts` calls `Deno.exit`.
 *
 * @module
 */

import type { ClusterStore } from "../cluster/cluster_store.ts";

/** Where human output goes. */
export interface Output {
  /** One line (or block) to stdout. */
  out(text: string): void;
  /** One line (or block) to stderr. */
  err(text: string): void;
}

/** Global options that choose and reach the store. */
export interface StoreOptions {
  /** Comma-separated etcd endpoints (`http://127.0.0.1:2379,…`); default `ETCD_ADDR`. */
  etcd?: string | undefined;
  etcdUser?: string | undefined;
  etcdPassword?: string | undefined;
  etcdCa?: string | undefined;
  etcdCert?: string | undefined;
  etcdKey?: string | undefined;
  /** `etcd` (default) or `file:<path>` / `memory` for the embedded store. */
  store?: string | undefined;
}

/** Dependencies injected into the command tree by the composition root. */
export interface CliDeps {
  output: Output;
  /** Opens the cluster store; the caller closes it with `store.kv.close()`. */
  openStore(options: StoreOptions): Promise<ClusterStore>;
  /** Environment lookup. */
  env(name: string): string | undefined;
}

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

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

/** A node's identity, saved by `gru join` and read by `gru agent`. */
export interface NodeIdentity {
  cluster: string;
  name: string;
  uuid: string;
  /** IP advertised to peers. */
  address: string;
  port: number;
  /** etcd endpoints used at join time (comma-separated), if any. */
  etcd?: string | undefined;
}

/** How to run an agent process. */
export interface AgentRunOptions {
  identity: NodeIdentity;
  store: StoreOptions;
  /** Interface to listen on. @default "0.0.0.0" */
  listen: string;
  /** Docker URL overriding the cluster config (flag or DOCKER_HOST). */
  docker?: string | undefined;
  /** Node lease TTL in seconds. */
  ttl: number;
  dryRun: boolean;
  /** Start the autonomic loop at once instead of waiting for `start agent`. */
  activate: boolean;
  /** Extra labels on every container this agent creates. */
  labels: Record<string, string>;
}

/** Dependencies injected into the command tree by the composition root. */
export interface CliDeps {
  output: Output;
  /** Opens the cluster store; the caller closes it with `store.kv.close()`. */
  openStore(options: StoreOptions): Promise<ClusterStore>;
  /** Environment lookup. */
  env(name: string): string | undefined;
  /** Sets the log level (called before every command). */
  configureLogging(level: string): Promise<void>;
  /** Runs an agent until SIGINT/SIGTERM; resolves with the exit code. */
  runAgent(options: AgentRunOptions): Promise<number>;
  /** Reads the identity file, `undefined` if there is none. */
  readIdentity(path: string): Promise<NodeIdentity | undefined>;
  /** Writes the identity file (creating its directory). */
  writeIdentity(path: string, identity: NodeIdentity): Promise<void>;
  /** The first non-loopback IPv4 address of this host. */
  detectHostIp(): string | undefined;
}

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

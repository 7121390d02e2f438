/**
 * The contract between the command tree (`src/cli/`) and the composition root (`src/app/`): what
 * every CLI command gets injected (an output sink, and factories for the adapters it may need),
 * and the options the composition root receives back (how to open the store, how to run an agent).
 *
 * The cluster store and a loaded configuration directory are types of layers above this one, so
 * {@linkcode CliDeps} takes them as parameters: `src/cli/context.ts` and `src/app/mod.ts` fill
 * them in with `ClusterStore` and `LoadedConfig`.
 *
 * @module
 */

import type { ClusterDocs } from "../domain/model.ts";
import type { TlsFiles, TlsPaths } from "./tls.ts";

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
  /**
   * The node's Ed25519 key pair for signed gossip (base64url: raw 32-byte public key, 32-byte
   * private seed). Made at `gru join`, or by the agent when absent. Secret: never logged.
   */
  signingKey?: { publicKey: string; privateKey: string } | undefined;
  /** TLS files given at join time (`--tls-ca`, `--tls-cert`, `--tls-key`), if any. */
  tls?: TlsPaths | undefined;
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
  /**
   * The identity file: the node's desired state is cached beside it (for a start with etcd
   * down). Absent: no local cache.
   */
  statePath?: string | undefined;
  /** Extra labels on every container this agent creates. */
  labels: Record<string, string>;
  /**
   * TLS of the agent API: with `cert` and `key` the agent serves HTTPS; with `ca` too, it
   * requires client certificates signed by that CA (mutual TLS) and its gossip presents `cert`.
   */
  tls?: TlsPaths | undefined;
}

/** Options of {@linkcode CliDeps.loadConfigDir}. */
export interface ConfigDirLoadOptions {
  /**
   * Also run the cross-document checks (loads mathjs).
   * @default true
   */
  crossCheck?: boolean;
}

/**
 * Dependencies injected into the command tree by the composition root.
 *
 * @typeParam Store The cluster store `openStore` gives (`ClusterStore`).
 * @typeParam Loaded What `loadConfigDir` gives (`LoadedConfig`: documents, problems, sources).
 */
export interface CliDeps<Store, Loaded> {
  output: Output;
  /** Opens the cluster store; the caller closes it with `store.kv.close()`. */
  openStore(options: StoreOptions): Promise<Store>;
  /** The certificate files of `gru tls` (loads the x509 library on first use). */
  tls(): Promise<TlsFiles>;
  /** Environment lookup. */
  env(name: string): string | undefined;
  /** Sets the log level (called before every command). */
  configureLogging(level: string): Promise<void>;
  /**
   * Runs an agent until SIGINT/SIGTERM; resolves with the exit code. `store`: an open store of
   * `options.store` the agent uses and closes instead of opening its own (join's, connected).
   */
  runAgent(options: AgentRunOptions, store?: Store): Promise<number>;
  /** Reads the identity file, `undefined` if there is none. */
  readIdentity(path: string): Promise<NodeIdentity | undefined>;
  /** Writes the identity file (creating its directory). */
  writeIdentity(path: string, identity: NodeIdentity): Promise<void>;
  /** The first non-loopback IPv4 address of this host. */
  detectHostIp(): string | undefined;
  /**
   * Reads a configuration directory (`config.json`, `policy.json`, `services/`, `analytics/`):
   * its valid documents, every problem (each naming its file and JSON path), and where each
   * document came from. Problems of the content are returned, not thrown.
   */
  loadConfigDir(dir: string, options?: ConfigDirLoadOptions): Promise<Loaded>;
  /**
   * Writes documents as a configuration directory (created when missing) that `loadConfigDir`
   * reads back to the same documents, deleting stale `.json` files of the sets written; resolves
   * with the files written, relative to `dir`.
   */
  writeConfigDir(dir: string, docs: ClusterDocs): Promise<string[]>;
}

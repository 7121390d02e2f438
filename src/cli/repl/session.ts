/**
 * The REPL's state and dependencies, shared by the command handlers, the completer and the loop.
 *
 * @module
 */

import type { AgentClient } from "../../api/client.ts";
import type { ClusterStore } from "../../cluster/cluster_store.ts";
import { ValidationError } from "../../domain/errors.ts";
import type { Output } from "../context.ts";

/** The part of `AgentClient` the REPL uses (tests pass a recording fake). */
export type ReplAgent = Pick<AgentClient, "command" | "get">;

/** What the REPL needs from the outside world. */
export interface ReplDeps {
  /** Where clusters, nodes and services are read. */
  store: ClusterStore;
  /** An agent client that sends `token` (the cluster's API token, if any). */
  agents: (token?: string) => ReplAgent;
  /** Command output (stdout) and errors (stderr). */
  output: Output;
}

/** Names offered by tab completion, refreshed on `use` and `list`. */
export interface CompletionNames {
  clusters: string[];
  nodes: string[];
  services: string[];
}

/** The REPL's mutable state. */
export interface ReplSession {
  /** The cluster chosen with `use`, if any. */
  cluster: string | undefined;
  /** Set by `exit` / `quit`: the loop stops after this line. */
  exit: boolean;
  /** Completion cache for the current cluster. */
  names: CompletionNames;
}

/**
 * A fresh session.
 *
 * @param cluster The cluster to start with (not checked here).
 * @returns A session with empty completion lists.
 *
 * @example Starting without a cluster
 * ```ts
 * import { newSession } from "./session.ts";
 * newSession().cluster; // undefined
 * ```
 */
export function newSession(cluster?: string): ReplSession {
  return { cluster, exit: false, names: { clusters: [], nodes: [], services: [] } };
}

/** A malformed command line: the message names the command and gives its usage. */
export class UsageError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The session's cluster; throws a `UsageError` when `use` has not been run.
 *
 * @param session The REPL session.
 * @returns The cluster name.
 *
 * @example Requiring a cluster
 * ```ts
 * import { newSession, requireSessionCluster } from "./session.ts";
 * requireSessionCluster(newSession("c1")); // "c1"
 * ```
 */
export function requireSessionCluster(session: ReplSession): string {
  if (session.cluster === undefined) {
    throw new UsageError("Cluster not set: use <cluster> first");
  }
  return session.cluster;
}

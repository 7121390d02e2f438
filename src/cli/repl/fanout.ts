/**
 * Resolving node and service names given to REPL commands, and sending one command to many
 * nodes while reporting each node's outcome separately (a failing node never stops the others;
 * the command then fails after its table, so a script sees it).
 *
 * @module
 */

import type { NodeRecord } from "../../domain/model.ts";
import { errorMessage, GruError, NotFoundError, ValidationError } from "../../domain/errors.ts";
import type { ClusterStore } from "../../cluster/cluster_store.ts";
import type { AgentCommand } from "../../api/protocol.ts";
import type { ReplAgent, ReplDeps } from "./session.ts";
import { formatTable } from "./table.ts";
import { tokenRetrying } from "../token_retry.ts";

/** The outcome of a command on one node. */
export interface NodeOutcome {
  node: string;
  /** `done…` or `error: <message>`. */
  status: string;
}

/**
 * What to say when a cluster has no live agent: node records live only while their agent keeps
 * its lease, so none means no agent runs.
 *
 * @param cluster The cluster.
 * @returns The sentence, naming the commands that start an agent.
 *
 * @example
 * ```ts
 * import { noLiveAgent } from "./fanout.ts";
 * noLiveAgent("c1"); // 'No live agent in cluster "c1": start one with "gru join c1" …'
 * ```
 */
export function noLiveAgent(cluster: string): string {
  return `No live agent in cluster "${cluster}": start one with "gru join ${cluster}" ` +
    `(or "gru agent") on each node`;
}

/**
 * Fails when any node's outcome is an error (after the table was printed).
 *
 * @param outcomes One outcome per node.
 * @throws {GruError} Naming the nodes that failed.
 *
 * @example
 * ```ts
 * import { requireAllDone } from "./fanout.ts";
 * requireAllDone([{ node: "n1", status: "done" }]); // no error
 * ```
 */
export function requireAllDone(outcomes: readonly NodeOutcome[]): void {
  const failed = outcomes.filter((o) => o.status.startsWith("error"));
  if (failed.length === 0) return;
  throw new GruError(
    `${failed.length} of ${outcomes.length} node${outcomes.length > 1 ? "s" : ""} failed: ` +
      failed.map((o) => o.node).join(", "),
  );
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

/**
 * The live nodes named by `targets`: `["all"]` means every live node; otherwise each name must
 * be a live node of the cluster. Duplicates are dropped; the order is kept (`all`: by name).
 *
 * @param store The cluster store.
 * @param options The cluster and the target words.
 * @returns The node records.
 * @throws {NotFoundError} An unknown node, or `all` in a cluster without live nodes.
 * @throws {ValidationError} `all` mixed with node names.
 *
 * @example Resolving `all`
 * ```ts ignore
 * const nodes = await resolveNodes(store, { cluster: "c1", targets: ["all"] });
 * ```
 */
export async function resolveNodes(
  store: ClusterStore,
  options: { cluster: string; targets: readonly string[] },
): Promise<NodeRecord[]> {
  const { cluster, targets } = options;
  const all = await store.listNodes(cluster);
  if (targets.some((t) => t.toLowerCase() === "all")) {
    if (targets.length > 1) {
      throw new ValidationError(`"all" cannot be combined with node names`);
    }
    if (all.length === 0) throw new NotFoundError(noLiveAgent(cluster));
    return all;
  }
  const byName = new Map(all.map((n) => [n.config.name, n]));
  const names = [...new Set(targets)];
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0) {
    throw new NotFoundError(
      `Unknown node${unknown.length > 1 ? "s" : ""} ${quoted(unknown)} in cluster "${cluster}"` +
        (all.length === 0 ? `. ${noLiveAgent(cluster)}` : ""),
    );
  }
  return names.map((n) => byName.get(n)!);
}

/**
 * Checks that every name is a service of the cluster.
 *
 * @param store The cluster store.
 * @param options The cluster and the service names.
 * @throws {NotFoundError} Naming every unknown service.
 *
 * @example Validating services
 * ```ts ignore
 * await requireServices(store, { cluster: "c1", services: ["web"] });
 * ```
 */
export async function requireServices(
  store: ClusterStore,
  options: { cluster: string; services: readonly string[] },
): Promise<void> {
  const known = new Set((await store.listServices(options.cluster)).map((s) => s.name));
  const unknown = [...new Set(options.services)].filter((s) => !known.has(s));
  if (unknown.length > 0) {
    throw new NotFoundError(
      `Unknown service${unknown.length > 1 ? "s" : ""} ${
        quoted(unknown)
      } in cluster "${options.cluster}"`,
    );
  }
}

/**
 * The agent client for a cluster (with its token, read again when an agent answers 401).
 *
 * @param deps The REPL dependencies.
 * @param cluster The cluster.
 * @returns A client that authenticates with the cluster's token.
 *
 * @example Getting a client
 * ```ts ignore
 * const agent = await agentFor(deps, "c1");
 * ```
 */
export async function agentFor(deps: ReplDeps, cluster: string): Promise<ReplAgent> {
  const run = tokenRetrying({
    token: await deps.store.token(cluster),
    read: () => deps.store.token(cluster),
    client: deps.agents,
  });
  return {
    get: <T>(address: string, path: string) => run((a) => a.get<T>(address, path)),
    command: (address, command) => run((a) => a.command(address, command)),
  };
}

/**
 * Runs `step` on every node concurrently. A node whose step throws gets `error: <message>`;
 * the others are unaffected. A step that returns a string reports it as the status (default
 * `done`).
 *
 * @param nodes The nodes.
 * @param step What to do on one node.
 * @returns One outcome per node, in the nodes' order.
 *
 * @example Sending a command to every node
 * ```ts ignore
 * const outcomes = await forEachNode(nodes, (n) => agent.command(n.config.address, cmd));
 * ```
 */
export function forEachNode(
  nodes: readonly NodeRecord[],
  step: (node: NodeRecord) => Promise<unknown>,
): Promise<NodeOutcome[]> {
  return Promise.all(nodes.map(async (node) => {
    try {
      const result = await step(node);
      return { node: node.config.name, status: typeof result === "string" ? result : "done" };
    } catch (err) {
      return { node: node.config.name, status: `error: ${errorMessage(err)}` };
    }
  }));
}

/**
 * Sends one command to every node and prints the `NODE STATUS` table.
 *
 * @param deps The REPL dependencies.
 * @param options The cluster, the nodes and the command.
 * @returns The outcomes.
 * @throws {GruError} After the table, when a node failed.
 *
 * @example Starting agents
 * ```ts ignore
 * await sendToNodes(deps, { cluster, nodes, command: { name: "start", target: "agent" } });
 * ```
 */
export async function sendToNodes(
  deps: ReplDeps,
  options: { cluster: string; nodes: readonly NodeRecord[]; command: AgentCommand },
): Promise<NodeOutcome[]> {
  const agent = await agentFor(deps, options.cluster);
  const outcomes = await forEachNode(
    options.nodes,
    (n) => agent.command(n.config.address, options.command),
  );
  deps.output.out(statusTable(outcomes));
  requireAllDone(outcomes);
  return outcomes;
}

/**
 * The `NODE STATUS` table of outcomes.
 *
 * @param outcomes One outcome per node.
 * @returns The table text.
 *
 * @example One node
 * ```ts
 * import { statusTable } from "./fanout.ts";
 * statusTable([{ node: "n1", status: "done" }]); // "NODE  STATUS\nn1    done"
 * ```
 */
export function statusTable(outcomes: readonly NodeOutcome[]): string {
  return formatTable(["NODE", "STATUS"], outcomes.map((o) => [o.node, o.status]));
}

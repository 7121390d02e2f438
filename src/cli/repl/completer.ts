/**
 * Tab completion for the REPL: command words, keywords, and the cluster, node and service names
 * cached in the session (refreshed on `use` and `list`, so completion never waits on the store).
 *
 * @module
 */

import type { CompletionNames, ReplDeps, ReplSession } from "./session.ts";
import { USAGES } from "./usage.ts";

const COMMANDS = [...new Set([...USAGES.map((u) => u.command), "quit"])].sort();
const RELOAD = ["all", "agent", "services", "policy", "analytics", "service-constraints"];

function candidates(prev: readonly string[], names: CompletionNames): string[] {
  const [command, a, , c] = prev.map((w) => w.toLowerCase());
  const nodesOrAll = [...names.nodes, "all"];
  switch (command) {
    case undefined:
      return COMMANDS;
    case "help":
      return prev.length === 1 ? COMMANDS : [];
    case "use":
      return prev.length === 1 ? names.clusters : [];
    case "list":
      return prev.length === 1 ? ["clusters", "nodes", "services"] : [];
    case "show":
      if (prev.length === 1) return ["decisions", "node"];
      if (a === "decisions") return prev.length === 2 ? names.nodes : [];
      if (a !== "node") return [];
      if (prev.length === 2) return nodesOrAll;
      return prev.length === 3 ? ["config", "constraints", "resources"] : [];
    case "set":
      if (prev.length === 1) return ["node"];
      if (a !== "node") return [];
      if (prev.length === 2) return nodesOrAll;
      if (prev.length === 3) return ["base-services", "cpumax", "cpumin"];
      if (c === "base-services") {
        return prev.length === 4 ? [...names.services, "none"] : names.services;
      }
      return [];
    case "start":
    case "stop":
      if (prev.length === 1) return ["agent", "service"];
      if (a === "agent") return prev.length === 2 ? nodesOrAll : names.nodes;
      if (a !== "service") return [];
      if (prev.length === 2) return names.services;
      if (prev.length === 3) return ["node", ...nodesOrAll];
      return prev.length === 4 && prev[3]!.toLowerCase() === "node" ? nodesOrAll : names.nodes;
    case "update":
      if (prev.length === 1) return RELOAD;
      return prev.length === 2 && a === "service-constraints" ? names.services : [];
    default:
      return [];
  }
}

/**
 * Completes the last word of `line` (the text before the cursor), in `node:readline`'s format.
 *
 * @param line The text before the cursor.
 * @param names The cached names of the current cluster.
 * @returns The matching completions and the word they complete.
 *
 * @example Completing a node name
 * ```ts
 * import { complete } from "./completer.ts";
 * complete("start agent n", { clusters: [], nodes: ["n1", "n2"], services: [] });
 * // [["n1", "n2"], "n"]
 * ```
 */
export function complete(line: string, names: CompletionNames): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const partial = words.pop() ?? "";
  const options = candidates(words.filter((w) => w !== ""), names);
  const lower = partial.toLowerCase();
  const hits = [...new Set(options)].filter((o) =>
    o.startsWith(partial) || o.toLowerCase().startsWith(lower)
  );
  return [hits, partial];
}

/**
 * Reloads the session's completion names: clusters, and the current cluster's nodes and
 * services. Failures leave the old names in place.
 *
 * @param session The REPL session.
 * @param deps The REPL dependencies.
 *
 * @example Refreshing after `use`
 * ```ts ignore
 * await refreshNames(session, deps);
 * ```
 */
export async function refreshNames(session: ReplSession, deps: ReplDeps): Promise<void> {
  const { store } = deps;
  const cluster = session.cluster;
  const [clusters, nodes, services] = await Promise.allSettled([
    store.listClusters(),
    cluster === undefined ? Promise.resolve([]) : store.listNodes(cluster),
    cluster === undefined ? Promise.resolve([]) : store.listServices(cluster),
  ]);
  if (clusters.status === "fulfilled") {
    session.names.clusters = clusters.value.map((c) => c.name).sort();
  }
  if (nodes.status === "fulfilled") session.names.nodes = nodes.value.map((n) => n.config.name);
  if (services.status === "fulfilled") {
    session.names.services = services.value.map((s) => s.name);
  }
}

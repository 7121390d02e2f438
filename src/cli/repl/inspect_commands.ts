/**
 * REPL commands that read the cluster: `use`, `list`, `show`.
 *
 * @module
 */

import type { NodeRecord, ServiceDescriptor } from "../../domain/model.ts";
import { ValidationError } from "../../domain/errors.ts";
import { DESIRED_FIELDS, type DesiredField } from "../../cluster/node_desired.ts";
import type { NodeStateView } from "../../agent/node_state.ts";
import { type ReplDeps, type ReplSession, requireSessionCluster } from "./session.ts";
import { formatBytes, formatList, formatTable } from "./table.ts";
import { usageError } from "./usage.ts";
import { agentFor, noLiveAgent, resolveNodes } from "./fanout.ts";

/** The fields of an agent's decision record that `show decisions` prints. */
interface DecisionRow {
  time: number;
  chosen: { policy: string; targets: string[]; weight: number };
  outcome: string;
  why: string;
}

function decisionRow(node: string, d: DecisionRow): string[] {
  const time = new Date(d.time).toISOString().slice(11, 23);
  const targets = d.chosen.policy === "noaction" ? "-" : d.chosen.targets.join("→");
  return [node, time, d.chosen.policy, targets, d.chosen.weight.toFixed(2), d.outcome, d.why];
}

/**
 * `use <cluster>`: checks that the cluster exists and makes it current.
 *
 * @param args The words after `use`.
 * @param ctx The session and dependencies.
 *
 * @example Choosing a cluster
 * ```ts ignore
 * await useCommand(["c1"], { session, deps }); // prints "Using cluster c1"
 * ```
 */
export async function useCommand(
  args: readonly string[],
  ctx: { session: ReplSession; deps: ReplDeps },
): Promise<void> {
  if (args.length === 0) throw usageError("use", `Missing cluster name in "use"`);
  if (args.length > 1) throw usageError("use", `Too many arguments to "use"`);
  const cluster = args[0]!;
  await ctx.deps.store.requireCluster(cluster);
  ctx.session.cluster = cluster;
  ctx.deps.output.out(`Using cluster ${cluster}`);
}

/**
 * `list clusters|nodes|services`: a table and a `TOTAL: n` line (nodes add `ACTIVE: n`).
 *
 * @param args The words after `list`.
 * @param ctx The session and dependencies.
 *
 * @example Listing nodes
 * ```ts ignore
 * await listCommand(["nodes"], { session, deps });
 * ```
 */
export async function listCommand(
  args: readonly string[],
  ctx: { session: ReplSession; deps: ReplDeps },
): Promise<void> {
  const { session, deps } = ctx;
  if (args.length === 0) throw usageError("list", `Missing what to list`);
  if (args.length > 1) throw usageError("list", `Too many arguments to "list"`);
  const kind = args[0]!.toLowerCase();
  switch (kind) {
    case "clusters": {
      const clusters = (await deps.store.listClusters())
        .sort((a, b) => a.name.localeCompare(b.name));
      deps.output.out(formatTable(["NAME", "UUID"], clusters.map((c) => [c.name, c.uuid])));
      deps.output.out(`TOTAL: ${clusters.length}`);
      session.names.clusters = clusters.map((c) => c.name);
      return;
    }
    case "nodes": {
      const cluster = requireSessionCluster(session);
      const nodes = await deps.store.listNodes(cluster);
      deps.output.out(formatTable(
        ["NAME", "ADDRESS", "ACTIVE", "CORES", "MEMORY", "BASE-SERVICES"],
        nodes.map((n) => [
          n.config.name,
          n.config.address,
          n.active ? "yes" : "no",
          String(n.resources.totalCpus),
          formatBytes(n.resources.totalMemory),
          formatList(n.constraints.baseServices),
        ]),
      ));
      deps.output.out(`TOTAL: ${nodes.length}`);
      deps.output.out(`ACTIVE: ${nodes.filter((n) => n.active).length}`);
      if (nodes.length === 0) deps.output.out(noLiveAgent(cluster));
      session.names.nodes = nodes.map((n) => n.config.name);
      return;
    }
    case "services": {
      const cluster = requireSessionCluster(session);
      const services = await deps.store.listServices(cluster);
      deps.output.out(formatTable(
        ["NAME", "IMAGE", "CPUS", "MEMORY", "PORTS"],
        services.map(serviceRow),
      ));
      deps.output.out(`TOTAL: ${services.length}`);
      session.names.services = services.map((s) => s.name);
      return;
    }
    default:
      throw usageError("list", `Unknown list "${args[0]}"`);
  }
}

function serviceRow(s: ServiceDescriptor): string[] {
  const c = s.configuration;
  const ports = Object.entries(c.ports).map(([guest, host]) => `${host}:${guest}`);
  return [
    s.name,
    s.image,
    c.cpusetCpus || String(c.cpuNumber),
    c.memory || "-",
    formatList(ports),
  ];
}

/** Where each desired value of a node comes from, as its agent says (`GET /gru/v1/node`). */
type Sources = Partial<Record<DesiredField, string>>;

const SOURCE_WORDS: Record<string, string> = {
  etcd: "etcd",
  cache: "local-cache",
  default: "default",
};

/** `base-services=etcd cpu-min=default …` for the fields shown. */
function sourceList(sources: Sources | undefined, fields: readonly DesiredField[]): string {
  const name = (f: DesiredField) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return fields.map((f) => `${name(f)}=${sources?.[f] ?? "unknown"}`).join(" ");
}

/**
 * Each node's sources: the agent's own account, with `(pending)` on a change etcd has not taken
 * yet; when the agent does not answer, the stored desired state (a field it lacks is a default);
 * else `unknown`.
 */
async function nodeSources(
  deps: ReplDeps,
  cluster: string,
  nodes: readonly NodeRecord[],
): Promise<Map<string, Sources>> {
  const agent = await agentFor(deps, cluster);
  const out = new Map<string, Sources>();
  await Promise.all(nodes.map(async (n) => {
    const name = n.config.name;
    try {
      const got = await agent.get<{ desired?: NodeStateView }>(n.config.address, "/node");
      const d = got?.desired;
      if (d?.sources) {
        const s: Sources = {};
        for (const f of DESIRED_FIELDS) {
          const word = SOURCE_WORDS[String(d.sources[f])];
          if (word) s[f] = d.pending?.includes(f) ? `${word}(pending)` : word;
        }
        out.set(name, s);
        return;
      }
    } catch {
      // the agent is away: fall back on what etcd holds
    }
    const stored = await deps.store.getNodeDesired(cluster, name).catch(() => undefined);
    if (stored) {
      out.set(
        name,
        Object.fromEntries(
          DESIRED_FIELDS.map((f) => [f, stored[f] === undefined ? "default" : "etcd"]),
        ),
      );
    }
  }));
  return out;
}

interface NodeView {
  headers: string[];
  /** The desired fields whose source is shown. */
  desired: readonly DesiredField[];
  row: (n: NodeRecord, sources: Sources | undefined) => string[];
}

const NODE_PROPERTIES: Record<string, NodeView> = {
  config: {
    headers: ["NAME", "UUID", "ADDRESS", "CLUSTER", "REMOTE", "ACTIVE", "SOURCE"],
    desired: ["active"],
    row: (n, src) => [
      n.config.name,
      n.config.uuid,
      n.config.address,
      n.config.cluster,
      n.config.remote,
      n.active ? "yes" : "no",
      sourceList(src, ["active"]),
    ],
  },
  constraints: {
    headers: ["NAME", "BASE-SERVICES", "CPU-MIN", "CPU-MAX", "SOURCE"],
    desired: ["baseServices", "cpuMin", "cpuMax"],
    row: (n, src) => [
      n.config.name,
      formatList(n.constraints.baseServices),
      n.constraints.cpuMin.toFixed(2),
      n.constraints.cpuMax.toFixed(2),
      sourceList(src, ["baseServices", "cpuMin", "cpuMax"]),
    ],
  },
  resources: {
    headers: ["NAME", "CORES", "MEMORY"],
    desired: [],
    row: (n) => [
      n.config.name,
      String(n.resources.totalCpus),
      formatBytes(n.resources.totalMemory),
    ],
  },
};

/**
 * `show node <node|all> config|constraints|resources` and `show decisions [node]`.
 *
 * @param args The words after `show`.
 * @param ctx The session and dependencies.
 *
 * @example Showing constraints
 * ```ts ignore
 * await showCommand(["node", "all", "constraints"], { session, deps });
 * ```
 */
export async function showCommand(
  args: readonly string[],
  ctx: { session: ReplSession; deps: ReplDeps },
): Promise<void> {
  const { session, deps } = ctx;
  const subject = args[0]?.toLowerCase();
  if (subject === undefined) throw usageError("show", `Missing what to show`);
  if (subject === "decisions") {
    if (args.length > 2) throw usageError("show", `Too many arguments to "show decisions"`);
    const cluster = requireSessionCluster(session);
    const nodes = await resolveNodes(deps.store, { cluster, targets: [args[1] ?? "all"] });
    const agent = await agentFor(deps, cluster);
    const rows: string[][] = [];
    const failures: string[] = [];
    await Promise.all(nodes.map(async (n) => {
      try {
        const list = await agent.get<DecisionRow[]>(n.config.address, "/decisions?limit=10");
        for (const d of list ?? []) rows.push(decisionRow(n.config.name, d));
      } catch (err) {
        failures.push(`${n.config.name}: ${(err as Error).message}`);
      }
    }));
    rows.sort((a, b) => a[1]!.localeCompare(b[1]!) || a[0]!.localeCompare(b[0]!));
    deps.output.out(
      formatTable(["NODE", "TIME", "POLICY", "TARGETS", "WEIGHT", "OUTCOME", "WHY"], rows),
    );
    for (const f of failures) deps.output.err(`Error: ${f}`);
    return;
  }
  if (subject !== "node") throw usageError("show", `Unknown "show" subject "${args[0]}"`);
  if (args.length < 3) throw usageError("show", `Not enough arguments to "show node"`);
  if (args.length > 3) throw usageError("show", `Too many arguments to "show node"`);
  const property = args[2]!.toLowerCase();
  const view = NODE_PROPERTIES[property];
  if (view === undefined) {
    throw new ValidationError(
      `Unknown node property "${args[2]}": expected config, constraints or resources`,
    );
  }
  const cluster = requireSessionCluster(session);
  const nodes = await resolveNodes(deps.store, { cluster, targets: [args[1]!] });
  const sources = view.desired.length > 0
    ? await nodeSources(deps, cluster, nodes)
    : new Map<string, Sources>();
  deps.output.out(
    formatTable(view.headers, nodes.map((n) => view.row(n, sources.get(n.config.name)))),
  );
}

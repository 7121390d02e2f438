/**
 * `deploy` and `undeploy`: the original manager's bulk placement commands
 * (docs/compat.md#diff-repl).
 *
 * @module
 */

import type { NodeRecord } from "../../domain/model.ts";
import { ConflictError, errorMessage } from "../../domain/errors.ts";
import {
  type ReplAgent,
  type ReplDeps,
  type ReplSession,
  requireSessionCluster,
} from "./session.ts";
import { formatTable } from "./table.ts";
import { usageError } from "./usage.ts";
import { agentFor, forEachNode, noLiveAgent, requireAllDone, statusTable } from "./fanout.ts";

/** Context of a command handler. */
interface Ctx {
  session: ReplSession;
  deps: ReplDeps;
}

/**
 * `deploy`: pairs services and live nodes, both sorted by name (the i-th service goes to the
 * i-th node); on each pair sets the node's base services to `[service]` and starts the service.
 * Needs at least as many nodes as services. Prints `NODE SERVICE STATUS`; fails after it when a
 * node failed.
 *
 * @param args The words after `deploy` (none).
 * @param ctx The session and dependencies.
 *
 * @example Deploying
 * ```ts ignore
 * await deployCommand([], { session, deps });
 * ```
 */
export async function deployCommand(args: readonly string[], ctx: Ctx): Promise<void> {
  if (args.length > 0) throw usageError("deploy", `"deploy" takes no arguments`);
  const { deps } = ctx;
  const cluster = requireSessionCluster(ctx.session);
  const services = (await deps.store.listServices(cluster)).map((s) => s.name).sort();
  const nodes = await deps.store.listNodes(cluster);
  if (services.length === 0) {
    deps.output.out(`Nothing to deploy: cluster "${cluster}" has no services`);
    return;
  }
  if (nodes.length === 0) throw new ConflictError(`Cannot deploy: ${noLiveAgent(cluster)}`);
  if (nodes.length < services.length) {
    const missing = services.length - nodes.length;
    throw new ConflictError(
      `Cannot deploy: not enough nodes (${services.length} services, ${nodes.length} live ` +
        `node${nodes.length > 1 ? "s" : ""}): start an agent ("gru join ${cluster}") on ` +
        `${missing} more node${missing > 1 ? "s" : ""}`,
    );
  }
  const agent = await agentFor(deps, cluster);
  const pairs = services.map((service, i) => ({ service, node: nodes[i]! }));
  const outcomes = await forEachNode(pairs.map((p) => p.node), async (node) => {
    const service = pairs.find((p) => p.node === node)!.service;
    await agent.command(node.config.address, {
      name: "update",
      target: "node-base-services",
      object: [service],
    });
    await agent.command(node.config.address, { name: "start", target: "service", object: service });
  });
  deps.output.out(formatTable(
    ["NODE", "SERVICE", "STATUS"],
    outcomes.map((o, i) => [o.node, pairs[i]!.service, o.status]),
  ));
  requireAllDone(outcomes);
}

/** Instances of one service running on a node, as told by its agent. */
interface RunningService {
  service: string;
  /** Container ids, when the agent gave them. */
  ids: string[];
  /** How many instances run. */
  count: number;
}

function field(o: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : o[key];
}

/**
 * Reads an agent's `GET /services` answer: an array of services (or `{services: [...]}`), each
 * with a `name` and `instances` (an array of `{id}` or a count). Letter case of keys is ignored.
 *
 * @param body The decoded JSON answer.
 * @returns The services with at least one instance, or `undefined` if the shape is unknown.
 *
 * @example A service with one container
 * ```ts
 * import { runningServices } from "./deploy_commands.ts";
 * runningServices([{ name: "web", instances: [{ id: "c1" }] }]);
 * // [{ service: "web", ids: ["c1"], count: 1 }]
 * ```
 */
export function runningServices(body: unknown): RunningService[] | undefined {
  let list = body;
  if (list !== null && typeof list === "object" && !Array.isArray(list)) {
    list = field(list as Record<string, unknown>, "services");
  }
  if (!Array.isArray(list)) return undefined;
  const out: RunningService[] = [];
  for (const item of list) {
    if (item === null || typeof item !== "object") return undefined;
    const name = field(item as Record<string, unknown>, "name");
    const instances = field(item as Record<string, unknown>, "instances");
    if (typeof name !== "string") return undefined;
    let ids: string[] = [];
    let count: number;
    if (Array.isArray(instances)) {
      count = instances.length;
      ids = instances.flatMap((i) => {
        const id = i !== null && typeof i === "object"
          ? field(i as Record<string, unknown>, "id")
          : undefined;
        return typeof id === "string" ? [id] : [];
      });
      if (ids.length !== count) ids = [];
    } else if (typeof instances === "number") {
      count = instances;
    } else if (instances === undefined || instances === null) {
      count = 0;
    } else {
      return undefined;
    }
    if (count > 0) out.push({ service: name, ids, count });
  }
  return out;
}

async function undeployNode(
  agent: ReplAgent,
  node: NodeRecord,
  allServices: readonly string[],
): Promise<string> {
  const address = node.config.address;
  await agent.command(address, { name: "update", target: "node-base-services", object: [] });
  let running: RunningService[] | undefined;
  try {
    running = runningServices(await agent.get<unknown>(address, "/services"));
  } catch {
    running = undefined;
  }
  const stops: { service: string; object: unknown }[] = [];
  if (running === undefined) {
    for (const service of allServices) stops.push({ service, object: service });
  } else {
    for (const r of running) {
      if (r.ids.length > 0) {
        for (const id of r.ids) {
          stops.push({ service: r.service, object: { service: r.service, id } });
        }
      } else {
        for (let i = 0; i < r.count; i++) stops.push({ service: r.service, object: r.service });
      }
    }
  }
  const errors: string[] = [];
  const stopped = new Set<string>();
  for (const s of stops) {
    try {
      await agent.command(address, { name: "stop", target: "service", object: s.object });
      stopped.add(s.service);
    } catch (err) {
      errors.push(`stop ${s.service}: ${errorMessage(err)}`);
    }
  }
  if (errors.length > 0) throw new Error(errors.join("; "));
  return stopped.size === 0 ? "done: nothing to stop" : `done: stopped ${[...stopped].join(", ")}`;
}

/**
 * `undeploy`: on every live node, clears the base services, then stops what the node runs. The
 * node is asked (`GET /services`) which services have instances, and each instance is stopped;
 * if it cannot tell, every service of the cluster is stopped once. Prints `NODE STATUS`.
 *
 * @param args The words after `undeploy` (none).
 * @param ctx The session and dependencies.
 *
 * @example Undeploying
 * ```ts ignore
 * await undeployCommand([], { session, deps });
 * ```
 */
export async function undeployCommand(args: readonly string[], ctx: Ctx): Promise<void> {
  if (args.length > 0) throw usageError("undeploy", `"undeploy" takes no arguments`);
  const { deps } = ctx;
  const cluster = requireSessionCluster(ctx.session);
  const services = (await deps.store.listServices(cluster)).map((s) => s.name).sort();
  const nodes = await deps.store.listNodes(cluster);
  if (nodes.length === 0) {
    deps.output.out(`Nothing to undeploy: ${noLiveAgent(cluster)}`);
    return;
  }
  const agent = await agentFor(deps, cluster);
  const outcomes = await forEachNode(nodes, (node) => undeployNode(agent, node, services));
  deps.output.out(statusTable(outcomes));
  requireAllDone(outcomes);
}

/**
 * REPL commands that send commands to agents (the original's command protocol,
 * docs/compat.md#keep-commands): `set`, `start`, `stop`, `update`. Every name is checked before
 * anything is sent (docs/compat.md#d3, #d7); each node's outcome is reported separately, with the
 * agent's message when it fails (docs/compat.md#d33).
 *
 * @module
 */

import { ValidationError } from "../../domain/errors.ts";
import { type ReplDeps, type ReplSession, requireSessionCluster } from "./session.ts";
import { usageError } from "./usage.ts";
import { requireServices, resolveNodes, sendToNodes } from "./fanout.ts";

/** Context of a command handler. */
interface Ctx {
  session: ReplSession;
  deps: ReplDeps;
}

/**
 * Parses a CPU bound: a decimal number in [0, 1].
 *
 * @param text The argument.
 * @returns The number.
 * @throws {ValidationError} Not a number in [0, 1].
 *
 * @example Parsing
 * ```ts
 * import { parseCpuBound } from "./action_commands.ts";
 * parseCpuBound("0.5"); // 0.5
 * ```
 */
export function parseCpuBound(text: string): number {
  const value = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new ValidationError(
      `CPU value not valid: "${text}" should be a number between 0.0 and 1.0`,
    );
  }
  return value;
}

/**
 * `set node <node|all> base-services [<service>...|none]` (no names, or `none`, clears them) and
 * `set node <node|all> cpumin|cpumax <x>`.
 *
 * @param args The words after `set`.
 * @param ctx The session and dependencies.
 *
 * @example Setting base services
 * ```ts ignore
 * await setCommand(["node", "n1", "base-services", "web"], { session, deps });
 * ```
 */
export async function setCommand(args: readonly string[], ctx: Ctx): Promise<void> {
  const subject = args[0]?.toLowerCase();
  if (subject === undefined) throw usageError("set", `Missing what to set`);
  if (subject !== "node") throw usageError("set", `Unknown "set" subject "${args[0]}"`);
  const property = args[2]?.toLowerCase();
  // `base-services` with no names clears them, as in the original (`none` works too).
  if (args.length < (property === "base-services" ? 3 : 4)) {
    throw usageError("set", `Not enough arguments to "set node"`);
  }
  const target = args[1]!;
  const values = args.slice(3);
  const { deps } = ctx;
  switch (property) {
    case "base-services": {
      const none = values.length === 0 ||
        (values.length === 1 && values[0]!.toLowerCase() === "none");
      const services = none ? [] : [...new Set(values)];
      const cluster = requireSessionCluster(ctx.session);
      await requireServices(deps.store, { cluster, services });
      const nodes = await resolveNodes(deps.store, { cluster, targets: [target] });
      await sendToNodes(deps, {
        cluster,
        nodes,
        command: { name: "update", target: "node-base-services", object: services },
      });
      return;
    }
    case "cpumin":
    case "cpumax": {
      if (values.length > 1) throw usageError("set", `Too many arguments to "set node"`);
      const value = parseCpuBound(values[0]!);
      const cluster = requireSessionCluster(ctx.session);
      const nodes = await resolveNodes(deps.store, { cluster, targets: [target] });
      await sendToNodes(deps, {
        cluster,
        nodes,
        command: { name: "update", target: `node-${property}`, object: value },
      });
      return;
    }
    default:
      throw usageError("set", `Unknown node property "${args[2]}"`);
  }
}

/**
 * `start|stop agent <node>...|all` and `start|stop service <service> [node] <node>...|all`.
 *
 * @param verb `start` or `stop`.
 * @param args The words after the verb.
 * @param ctx The session and dependencies.
 *
 * @example Starting a service (README form)
 * ```ts ignore
 * await startStopCommand("start", ["service", "web", "node", "n1"], { session, deps });
 * ```
 */
export async function startStopCommand(
  verb: "start" | "stop",
  args: readonly string[],
  ctx: Ctx,
): Promise<void> {
  const target = args[0]?.toLowerCase();
  if (target === undefined) throw usageError(verb, `Missing what to ${verb}`);
  const { deps } = ctx;
  if (target === "agent") {
    const names = args.slice(1);
    if (names.length === 0) throw usageError(verb, `Missing nodes in "${verb} agent"`);
    const cluster = requireSessionCluster(ctx.session);
    const nodes = await resolveNodes(deps.store, { cluster, targets: names });
    await sendToNodes(deps, { cluster, nodes, command: { name: verb, target: "agent" } });
    return;
  }
  if (target !== "service") throw usageError(verb, `Unknown "${verb}" target "${args[0]}"`);
  const service = args[1];
  if (service === undefined) throw usageError(verb, `Missing service in "${verb} service"`);
  let names = args.slice(2);
  if (names[0]?.toLowerCase() === "node") names = names.slice(1);
  if (names.length === 0) throw usageError(verb, `Missing nodes in "${verb} service"`);
  const cluster = requireSessionCluster(ctx.session);
  await requireServices(deps.store, { cluster, services: [service] });
  const nodes = await resolveNodes(deps.store, { cluster, targets: names });
  await sendToNodes(deps, {
    cluster,
    nodes,
    command: { name: verb, target: "service", object: service },
  });
}

/** `update` targets whose object is the cluster name. */
export const RELOAD_TARGETS = ["all", "agent", "services", "policy", "analytics"] as const;

/**
 * `update all|agent|services|policy|analytics` (object: the cluster name) and
 * `update service-constraints <service>` (object: the service name), sent to every live node.
 *
 * @param args The words after `update`.
 * @param ctx The session and dependencies.
 *
 * @example Reloading the policy everywhere
 * ```ts ignore
 * await updateCommand(["policy"], { session, deps });
 * ```
 */
export async function updateCommand(args: readonly string[], ctx: Ctx): Promise<void> {
  const target = args[0]?.toLowerCase();
  if (target === undefined) throw usageError("update", `Missing what to update`);
  const { deps } = ctx;
  let object: string;
  if (target === "service-constraints") {
    if (args.length !== 2) {
      throw usageError("update", `"update service-constraints" takes one service`);
    }
    const cluster = requireSessionCluster(ctx.session);
    await requireServices(deps.store, { cluster, services: [args[1]!] });
    object = args[1]!;
  } else if ((RELOAD_TARGETS as readonly string[]).includes(target)) {
    if (args.length > 1) throw usageError("update", `Too many arguments to "update ${target}"`);
    object = requireSessionCluster(ctx.session);
  } else {
    throw usageError("update", `Unknown "update" target "${args[0]}"`);
  }
  const cluster = requireSessionCluster(ctx.session);
  const nodes = await resolveNodes(deps.store, { cluster, targets: ["all"] });
  await sendToNodes(deps, { cluster, nodes, command: { name: "update", target, object } });
}

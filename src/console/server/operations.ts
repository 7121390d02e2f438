/**
 * Operations with parity to the REPL (`POST /api/operations`, and the reload after an edit): each
 * runs the REPL's own command code (`start|stop agent`, `start|stop service`, `set node …
 * base-services`, `deploy`, `undeploy`, `update …`) with an agent client that records what every
 * node answered, so the console reports one result per node exactly as the REPL's table does.
 *
 * @module
 */

import { errorMessage, GruError, UnauthorizedError } from "../../domain/errors.ts";
import { memoryOutput } from "../../cli/context.ts";
import type { ReplAgent, ReplDeps } from "../../cli/repl/session.ts";
import { newSession, type ReplSession } from "../../cli/repl/session.ts";
import { setCommand, startStopCommand, updateCommand } from "../../cli/repl/action_commands.ts";
import { deployCommand, undeployCommand } from "../../cli/repl/deploy_commands.ts";
import { excerpt } from "../../domain/excerpt.ts";
import { type ConsoleDeps, HttpError } from "./context.ts";

/** One node's result. */
export interface NodeResult {
  node: string;
  ok: boolean;
  message: string;
}

/** The operations of `POST /api/operations`. */
export const OPERATIONS = [
  "start-agent",
  "stop-agent",
  "start-service",
  "stop-service",
  "set-base-services",
  "deploy",
  "undeploy",
] as const;

/** One operation as posted. */
export interface Operation {
  op: (typeof OPERATIONS)[number];
  nodes: string[] | "all";
  service?: string | undefined;
  services?: string[] | undefined;
}

interface Attempt {
  ok: boolean;
  message: string;
  /** A 401 the client retries with a fresh token: replaced by the next attempt. */
  retried: boolean;
}

/** A REPL command handler. */
type ReplAction = (ctx: { session: ReplSession; deps: ReplDeps }) => Promise<void>;

/**
 * Runs a REPL command on a cluster and collects each node's answers.
 *
 * @param deps The console's store and agent clients.
 * @param cluster The cluster (the REPL's `use`).
 * @param action The REPL command.
 * @returns One result per node that was sent something, and the text the REPL printed.
 * @throws The REPL's error when nothing was sent (bad names, no live agent, …).
 */
export async function recordedRun(
  deps: Pick<ConsoleDeps, "store" | "agents">,
  cluster: string,
  action: ReplAction,
): Promise<{ results: NodeResult[]; printed: string[] }> {
  const attempts = new Map<string, Attempt[]>();
  const note = (address: string, a: Attempt) => {
    const list = attempts.get(address) ?? [];
    if (list.at(-1)?.retried) list.pop();
    list.push(a);
    attempts.set(address, list);
  };
  const agents = (token?: string): ReplAgent => {
    const agent = deps.agents(token);
    return {
      get: (address, path) => agent.get(address, path),
      command: async (address, command) => {
        try {
          const r = await agent.command(address, command);
          note(address, { ok: true, message: r?.message ?? "done", retried: false });
          return r;
        } catch (err) {
          const retried = err instanceof UnauthorizedError;
          note(address, { ok: false, message: errorMessage(err), retried });
          throw err;
        }
      },
    } as ReplAgent;
  };
  const output = memoryOutput();
  let failure: unknown;
  try {
    await action({ session: newSession(cluster), deps: { store: deps.store, agents, output } });
  } catch (err) {
    failure = err;
  }
  if (attempts.size === 0 && failure !== undefined) throw failure;
  const names = new Map(
    (await deps.store.listNodes(cluster)).map((n) => [n.config.address, n.config.name]),
  );
  const results = [...attempts].map(([address, list]) => ({
    node: names.get(address) ?? address,
    ok: list.every((a) => a.ok),
    message: list.map((a) => a.message).join("; ").slice(0, 500),
  }));
  results.sort((a, b) => a.node.localeCompare(b.node));
  return { results, printed: [...output.stdout, ...output.stderr] };
}

function strings(route: string, field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "")) {
    throw new HttpError(
      400,
      `${route}: expected ${field} to be a list of names, found ${excerpt(v)}`,
    );
  }
  return [...new Set(v as string[])];
}

/**
 * Reads the body of `POST /api/operations`.
 *
 * @param route The route, for errors.
 * @param body The decoded JSON.
 * @returns The operation.
 * @throws {HttpError} 400 naming the field and what was expected.
 */
export function parseOperation(route: string, body: unknown): Operation {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(
      400,
      `${route}: expected a JSON object {op, nodes, …}, found ${excerpt(body)}`,
    );
  }
  const b = body as Record<string, unknown>;
  if (!OPERATIONS.includes(b.op as Operation["op"])) {
    throw new HttpError(
      400,
      `${route}: expected op to be one of ${OPERATIONS.join(", ")}, found ${excerpt(b.op)}`,
    );
  }
  const op = b.op as Operation["op"];
  const needsNodes = op !== "deploy" && op !== "undeploy";
  const nodes = b.nodes === "all"
    ? "all"
    : b.nodes === undefined && !needsNodes
    ? "all"
    : strings(route, "nodes", b.nodes);
  if (needsNodes && nodes !== "all" && nodes.length === 0) {
    throw new HttpError(400, `${route}: expected nodes to name at least one node, or "all"`);
  }
  const out: Operation = { op, nodes };
  if (op === "start-service" || op === "stop-service") {
    if (typeof b.service !== "string" || b.service === "") {
      throw new HttpError(
        400,
        `${route}: expected service to name a service, found ${excerpt(b.service)}`,
      );
    }
    out.service = b.service;
  }
  if (op === "set-base-services") out.services = strings(route, "services", b.services ?? []);
  return out;
}

/** The REPL command that carries an operation out. */
export function replActionOf(o: Operation): ReplAction {
  const targets = o.nodes === "all" ? ["all"] : o.nodes;
  switch (o.op) {
    case "start-agent":
    case "stop-agent":
      return (ctx) =>
        startStopCommand(o.op === "start-agent" ? "start" : "stop", ["agent", ...targets], ctx);
    case "start-service":
    case "stop-service":
      return (ctx) =>
        startStopCommand(o.op === "start-service" ? "start" : "stop", [
          "service",
          o.service!,
          ...targets,
        ], ctx);
    case "set-base-services":
      // The REPL's `set node` takes one node (or all) at a time.
      return async (ctx) => {
        const failures: unknown[] = [];
        for (const t of targets) {
          const names = (o.services ?? []).length === 0 ? ["none"] : o.services!;
          await setCommand(["node", t, "base-services", ...names], ctx).catch((e) =>
            failures.push(e)
          );
        }
        if (failures.length > 0) throw failures[0];
      };
    case "deploy":
      return (ctx) => deployCommand([], ctx);
    case "undeploy":
      return (ctx) => undeployCommand([], ctx);
  }
}

/**
 * Sends `update <target>` (the REPL's reload command) to every live node after an edit.
 *
 * @param deps The console's store and agent clients.
 * @param cluster The cluster.
 * @param target `agent`, `policy`, `services` or `analytics`.
 * @returns The nodes' results; none (and why) when no agent is live.
 */
export async function reloadAgents(
  deps: Pick<ConsoleDeps, "store" | "agents">,
  cluster: string,
  target: "agent" | "policy" | "services" | "analytics",
): Promise<{ results: NodeResult[]; message?: string }> {
  try {
    const { results } = await recordedRun(deps, cluster, (ctx) => updateCommand([target], ctx));
    return { results };
  } catch (err) {
    if (err instanceof GruError) return { results: [], message: errorMessage(err) };
    throw err;
  }
}

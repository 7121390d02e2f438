/**
 * What an agent does for each command (`POST /gru/v1/commands`, `gru manage`): the shapes are in
 * `src/domain/commands.ts`. Bad input throws a `ValidationError` naming the command and what
 * was expected, and changes nothing.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AgentCommand, CommandResult } from "../domain/commands.ts";
import { ValidationError } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";
import type { NodeDesiredState } from "../domain/model.ts";
import type { AgentDocuments, DocumentKind } from "./documents.ts";
import type { InstanceManager } from "./executor/instances.ts";

const log = getLogger(["gru", "agent"]);

/** What commands act on. */
export interface CommandTarget {
  node: string;
  documents: AgentDocuments;
  instances: Pick<InstanceManager, "start" | "stop">;
  /**
   * Changes the node's desired state (kept in etcd and the local cache: `node_state.ts`) and
   * applies it; resolves with whether etcd has it (false: written when etcd returns).
   */
  desire(patch: Partial<NodeDesiredState>): Promise<boolean>;
}

const UPDATES = new Set(["all", "agent", "services", "policy", "analytics"]);

function objectOf(o: unknown): Record<string, unknown> | undefined {
  return typeof o === "object" && o !== null ? o as Record<string, unknown> : undefined;
}

/** What a desired-state change says when etcd could not take it. */
function pending(savedInEtcd: boolean): string {
  return savedInEtcd ? "" : " (etcd unreachable: kept in the local cache, written when it returns)";
}

/** Runs one command; throws a `GruError` subclass on failure. */
export async function runCommand(cmd: AgentCommand, to: CommandTarget): Promise<CommandResult> {
  const name = String(cmd.name ?? "").toLowerCase();
  const target = String(cmd.target ?? "").toLowerCase();
  const docs = to.documents;
  log.info("Command {name} {target}", { name, target, object: cmd.object });
  if (name === "update" && UPDATES.has(target)) {
    const changed = await docs.reload(target as DocumentKind);
    const refused = docs.problems.map((p) => `${p.document} (${p.inForce} in force): ${p.error}`);
    return {
      ok: true,
      message: `Reloaded ${changed.join(", ")}` +
        (refused.length ? `; refused ${refused.join("; ")}` : ""),
      ...(refused.length ? { data: { problems: docs.problems } } : {}),
    };
  }
  switch (`${name} ${target}`) {
    case "start agent":
    case "stop agent": {
      const saved = await to.desire({ active: name === "start" });
      return {
        ok: true,
        message: `Agent ${to.node} ${name === "start" ? "active" : "inactive"}${pending(saved)}`,
      };
    }
    case "start service": {
      const s = docs.service(cmd.object);
      const inst = await to.instances.start(s);
      return {
        ok: true,
        message: `Started ${s.name} instance ${inst.name} on ${to.node}`,
        data: inst,
      };
    }
    case "stop service": {
      const obj = objectOf(cmd.object);
      const s = docs.service(obj ? obj.service : cmd.object);
      const id = obj && typeof obj.id === "string" ? obj.id : undefined;
      if (obj && obj.force !== undefined && typeof obj.force !== "boolean") {
        throw new ValidationError(
          `stop service: expected "force" to be true or false, found ${excerpt(obj.force)}`,
        );
      }
      // The floor (docs/concurrency.md#floors) is checked in the instance queue; force skips it.
      const inst = await to.instances.stop(s, { id, force: obj?.force === true });
      return {
        ok: true,
        message: `Stopped ${s.name} instance ${inst.name} on ${to.node}`,
        data: inst,
      };
    }
    case "update node-base-services": {
      const list = cmd.object ?? [];
      if (!Array.isArray(list) || list.some((x) => typeof x !== "string")) {
        throw new ValidationError(
          `update node-base-services: expected a list of service names, found ${excerpt(list)}`,
        );
      }
      for (const n of list) docs.service(n);
      const saved = await to.desire({ baseServices: [...new Set(list as string[])] });
      return {
        ok: true,
        message: `Base services: ${docs.constraints.baseServices.join(" ")}${pending(saved)}`,
      };
    }
    case "update node-cpumin":
    case "update node-cpumax": {
      const x = typeof cmd.object === "string" ? Number(cmd.object) : cmd.object;
      if (typeof x !== "number" || !(x >= 0 && x <= 1)) {
        throw new ValidationError(
          `update ${excerpt(target, 30)}: expected a number in [0, 1], found ${
            excerpt(cmd.object)
          }`,
        );
      }
      const saved = await to.desire(target === "node-cpumin" ? { cpuMin: x } : { cpuMax: x });
      return { ok: true, message: `${target} = ${x}${pending(saved)}` };
    }
    case "update service-constraints": {
      await docs.reloadConstraints(docs.service(cmd.object).name);
      return { ok: true, message: `Reloaded constraints of ${docs.service(cmd.object).name}` };
    }
    default:
      throw new ValidationError(
        `Unknown command ${
          excerpt(`${cmd.name} ${cmd.target}`)
        }: expected start|stop agent|service, ` +
          `or update all|agent|services|policy|analytics|node-base-services|node-cpumin|` +
          `node-cpumax|service-constraints`,
      );
  }
}

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
import type { AgentDocuments, DocumentKind } from "./documents.ts";
import type { InstanceManager } from "./executor/instances.ts";

const log = getLogger(["gru", "agent"]);

/** What commands act on. */
export interface CommandTarget {
  node: string;
  documents: AgentDocuments;
  instances: Pick<InstanceManager, "start" | "stop">;
  setActive(active: boolean): Promise<void>;
  /** Writes the node record again (constraints changed). */
  publishNode(): Promise<void>;
}

const UPDATES = new Set(["all", "agent", "services", "policy", "analytics"]);

function objectOf(o: unknown): Record<string, unknown> | undefined {
  return typeof o === "object" && o !== null ? o as Record<string, unknown> : undefined;
}

/** Runs one command; throws a `GruError` subclass on failure. */
export async function runCommand(cmd: AgentCommand, to: CommandTarget): Promise<CommandResult> {
  const name = String(cmd.name ?? "").toLowerCase();
  const target = String(cmd.target ?? "").toLowerCase();
  const docs = to.documents;
  log.info("Command {name} {target}", { name, target, object: cmd.object });
  if (name === "update" && UPDATES.has(target)) {
    const changed = await docs.reload(target as DocumentKind);
    return { ok: true, message: `Reloaded ${changed.join(", ")}` };
  }
  switch (`${name} ${target}`) {
    case "start agent":
    case "stop agent":
      await to.setActive(name === "start");
      return { ok: true, message: `Agent ${to.node} ${name === "start" ? "active" : "inactive"}` };
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
      const inst = await to.instances.stop(s, { id });
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
      docs.constraints.baseServices = [...new Set(list as string[])];
      await to.publishNode();
      return { ok: true, message: `Base services: ${docs.constraints.baseServices.join(" ")}` };
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
      if (target === "node-cpumin") docs.constraints.cpuMin = x;
      else docs.constraints.cpuMax = x;
      await to.publishNode();
      return { ok: true, message: `${target} = ${x}` };
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

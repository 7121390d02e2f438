/**
 * Carries one container action out on this node and says how it went, as the decision record
 * keeps it. Failures are returned, never thrown: the loop goes on.
 *
 * @module
 */

import { errorMessage } from "../../domain/errors.ts";
import type { ServiceDescriptor } from "../../domain/model.ts";
import type { ActionRecord } from "../record/decisions.ts";
import type { InstanceManager } from "./instances.ts";

/** Starts or stops one instance of a service, for the reason given. */
export type Actuator = (
  service: ServiceDescriptor,
  action: "start" | "stop",
  why: string,
) => Promise<ActionRecord>;

/**
 * An actuator over the instance manager. `refresh` runs after each action so the monitor sees
 * the change before the next phase reads it.
 */
export function actuator(
  instances: Pick<InstanceManager, "start" | "stop">,
  refresh: () => Promise<void>,
): Actuator {
  return async (svc, action, why) => {
    try {
      const inst = action === "start" ? await instances.start(svc) : await instances.stop(svc);
      await refresh().catch(() => {});
      return { service: svc.name, action, ok: true, instance: inst.name, why };
    } catch (err) {
      return { service: svc.name, action, ok: false, error: errorMessage(err), why };
    }
  };
}

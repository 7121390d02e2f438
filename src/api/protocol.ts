/**
 * The agent command protocol (§12.1 of the reference): `POST /gru/v1/commands` with
 * `{"Name": …, "Target": …, "Object": …}` (keys in any letter case). Gru answers with a JSON
 * result and a real status code instead of the original's unconditional 202.
 *
 * | Name   | Target               | Object                        |
 * |--------|----------------------|-------------------------------|
 * | start  | agent                | —                             |
 * | stop   | agent                | —                             |
 * | start  | service              | service name                  |
 * | stop   | service              | service name, or {service, id}|
 * | update | all/agent/services/policy/analytics | cluster name (ignored) |
 * | update | node-base-services   | list of service names         |
 * | update | node-cpumin / node-cpumax | number in [0, 1]         |
 * | update | service-constraints  | service name                  |
 *
 * @module
 */

/** A command sent to an agent. */
export interface AgentCommand {
  name: string;
  target: string;
  object?: unknown;
}

/** A successful command's answer. */
export interface CommandResult {
  ok: true;
  message: string;
  data?: unknown;
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** API version prefix. */
export const API_PREFIX = "/gru/v1";

/** Header carrying the cluster token (also accepted: `Authorization: Bearer <token>`). */
export const TOKEN_HEADER = "x-gru-token";

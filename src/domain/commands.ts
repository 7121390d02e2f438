/**
 * The commands an agent accepts (`POST /gru/v1/commands`, `gru manage`): the original Gru's
 * `{Name, Target, Object}` protocol, with a real answer instead of an unconditional 202.
 *
 * | Name   | Target                              | Object                          |
 * |--------|-------------------------------------|---------------------------------|
 * | start  | agent                               | —                               |
 * | stop   | agent                               | —                               |
 * | start  | service                             | service name                    |
 * | stop   | service                             | service name, or {service, id}  |
 * | update | all/agent/services/policy/analytics | cluster name (ignored)          |
 * | update | node-base-services                  | list of service names           |
 * | update | node-cpumin / node-cpumax           | number in [0, 1]                |
 * | update | service-constraints                 | service name                    |
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

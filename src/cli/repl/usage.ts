/**
 * One-line usage of every REPL command, for `help` and for usage errors.
 *
 * @module
 */

import { UsageError } from "./session.ts";

/** One form of a command. */
export interface CommandUsage {
  /** The command word. */
  command: string;
  /** The syntax, e.g. `use <cluster>`. */
  usage: string;
  /** What it does. */
  summary: string;
}

/** Every command form, in `help` order. */
export const USAGES: readonly CommandUsage[] = [
  { command: "use", usage: "use <cluster>", summary: "choose the cluster to manage" },
  {
    command: "list",
    usage: "list clusters|nodes|services",
    summary: "list the clusters, or the current cluster's live nodes or services",
  },
  {
    command: "show",
    usage: "show node <node|all> config|constraints|resources",
    summary: "show what nodes registered",
  },
  {
    command: "show",
    usage: "show decisions [node]",
    summary: "show the latest decisions of the agents",
  },
  {
    command: "set",
    usage: "set node <node|all> base-services [<service>...|none]",
    summary: "set the services a node always keeps running (none: clear them)",
  },
  {
    command: "set",
    usage: "set node <node|all> cpumin|cpumax <0..1>",
    summary: "set a node's CPU bounds",
  },
  {
    command: "start",
    usage: "start agent <node>...|all",
    summary: "activate the autonomic loop of agents",
  },
  {
    command: "start",
    usage: "start service <service> [node] <node>...|all",
    summary: "start one instance of a service on nodes",
  },
  { command: "stop", usage: "stop agent <node>...|all", summary: "deactivate agents" },
  {
    command: "stop",
    usage: "stop service <service> [node] <node>...|all",
    summary: "stop one instance of a service on nodes",
  },
  {
    command: "update",
    usage: "update all|agent|services|policy|analytics",
    summary: "make every node reload the cluster's configuration",
  },
  {
    command: "update",
    usage: "update service-constraints <service>",
    summary: "make every node reload a service's constraints",
  },
  {
    command: "deploy",
    usage: "deploy",
    summary: "give each service its own node (as base service) and start it there",
  },
  {
    command: "undeploy",
    usage: "undeploy",
    summary: "clear every node's base services and stop the services it runs",
  },
  { command: "help", usage: "help [command]", summary: "list the commands" },
  { command: "exit", usage: "exit|quit", summary: "leave the manager" },
];

/**
 * The usage lines of one command word (all its forms).
 *
 * @param command A command word.
 * @returns The usage lines, possibly none.
 *
 * @example Forms of `set`
 * ```ts
 * import { usageOf } from "./usage.ts";
 * usageOf("set").length; // 2
 * ```
 */
export function usageOf(command: string): string[] {
  const word = command === "quit" ? "exit" : command;
  return USAGES.filter((u) => u.command === word).map((u) => u.usage);
}

/**
 * A `UsageError` whose message states the problem and then the command's usage.
 *
 * @param command The command word.
 * @param problem What is wrong, e.g. `Not enough arguments to "set node"`.
 * @returns The error, to throw.
 *
 * @example Building a usage error
 * ```ts
 * import { usageError } from "./usage.ts";
 * usageError("use", 'Missing cluster name in "use"').message;
 * // 'Missing cluster name in "use". Usage: use <cluster>'
 * ```
 */
export function usageError(command: string, problem: string): UsageError {
  const lines = usageOf(command);
  const usage = lines.length === 1
    ? ` Usage: ${lines[0]}`
    : ` Usage:${lines.map((l) => `\n  ${l}`).join("")}`;
  return new UsageError(`${problem}.${usage}`);
}

/**
 * The `help` text: every command form with its summary, or only those of one command.
 *
 * @param command Restrict to this command word.
 * @returns The help text, or `undefined` when `command` is unknown.
 *
 * @example Help on one command
 * ```ts
 * import { helpText } from "./usage.ts";
 * helpText("use"); // "use <cluster>  choose the cluster to manage"
 * ```
 */
export function helpText(command?: string): string | undefined {
  const word = command === "quit" ? "exit" : command;
  const forms = word === undefined ? USAGES : USAGES.filter((u) => u.command === word);
  if (forms.length === 0) return undefined;
  const width = Math.max(...forms.map((u) => u.usage.length));
  return forms.map((u) => `${u.usage.padEnd(width)}  ${u.summary}`).join("\n");
}

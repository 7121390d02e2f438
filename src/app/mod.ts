/**
 * The composition root: the only place that picks adapters and hands them to the CLI.
 *
 * @module
 */

import type { CliDeps, Output } from "../cli/context.ts";
import { openStore } from "./store.ts";
import { detectHostIp, readIdentity, writeIdentity } from "./identity.ts";
import { configureLogging } from "./logging.ts";
import { runAgent } from "./agent_process.ts";

/** Writes to the process's stdout and stderr. */
export const consoleOutput: Output = {
  out: (t) => {
    Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  },
  err: (t) => {
    Deno.stderr.writeSync(new TextEncoder().encode(t + "\n"));
  },
};

/** The real dependencies of the command tree. */
export function realCliDeps(output: Output = consoleOutput): CliDeps {
  return {
    output,
    openStore,
    env: (name) => Deno.env.get(name),
    configureLogging,
    runAgent,
    readIdentity,
    writeIdentity,
    detectHostIp,
  };
}

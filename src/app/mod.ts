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

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string) {
  let bytes = new TextEncoder().encode(text + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** Writes to the process's stdout and stderr (whole lines, however large). */
export const consoleOutput: Output = {
  out: (t) => writeAll(Deno.stdout, t),
  err: (t) => writeAll(Deno.stderr, t),
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

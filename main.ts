/**
 * `gru`: one binary holding the CLI, the REPL and the agent. Maps errors to exit codes:
 * 0 ok, 1 runtime failure, 2 usage or validation error.
 *
 * @module
 */

import { CommanderError } from "@commander-js/extra-typings";
import { buildCli } from "./src/cli/mod.ts";
import { ExitError } from "./src/cli/context.ts";
import { consoleOutput, realCliDeps } from "./src/app/mod.ts";
import { GruError } from "./src/domain/errors.ts";

async function main(args: string[]): Promise<number> {
  const deps = realCliDeps();
  const program = buildCli(deps);
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ||
          err.code === "commander.help"
        ? 0
        : 2;
    }
    if (err instanceof ExitError) {
      consoleOutput.err(`Error: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof GruError) {
      consoleOutput.err(`Error: ${err.message}`);
      return err.code === "validation" ? 2 : 1;
    }
    // A TypeError of the same text: a module `deno run` loads lazily (lazy dynamic imports)
    // without read access to its file (the compiled binary embeds its modules).
    if (
      err instanceof Deno.errors.NotCapable ||
      (err instanceof TypeError && /^Requires \w+ access to /.test(err.message))
    ) {
      // The compiled binary's permissions are fixed (scripts/compile.ts): say what was refused,
      // without a stack trace or Deno's "run again with --allow-…" advice.
      consoleOutput.err(
        `Error: ${err.message.replace(/, run again with .*$/, "")}: not permitted to gru (its ` +
          `permissions are fixed: see "Deploying" in README.md)`,
      );
      return 1;
    }
    consoleOutput.err(`Error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

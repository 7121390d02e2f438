/**
 * The REPL's pure core: one line in, output out. Dispatches on the first word to the command
 * handlers; any error becomes `Error: <message>` on stderr, and the line's outcome says whether
 * it failed and whether it was a usage error (the loop decides whether to go on).
 *
 * @module
 */

import { errorMessage, ValidationError } from "../../domain/errors.ts";
import { type ReplDeps, type ReplSession, UsageError } from "./session.ts";
import { tokenize } from "./tokenize.ts";
import { helpText, usageError } from "./usage.ts";
import { listCommand, showCommand, useCommand } from "./inspect_commands.ts";
import { setCommand, startStopCommand, updateCommand } from "./action_commands.ts";
import { deployCommand, undeployCommand } from "./deploy_commands.ts";
import { refreshNames } from "./completer.ts";

type Handler = (
  args: readonly string[],
  ctx: { session: ReplSession; deps: ReplDeps },
) => Promise<void>;

function helpCommand(args: readonly string[], ctx: { deps: ReplDeps }): Promise<void> {
  if (args.length > 1) throw usageError("help", `Too many arguments to "help"`);
  const word = args[0]?.toLowerCase();
  const text = helpText(word);
  if (text === undefined) throw usageError("help", `Unknown command "${args[0]}"`);
  ctx.deps.output.out(text);
  return Promise.resolve();
}

function exitCommand(args: readonly string[], ctx: { session: ReplSession }): Promise<void> {
  if (args.length > 0) throw usageError("exit", `"exit" takes no arguments`);
  ctx.session.exit = true;
  return Promise.resolve();
}

/** Handlers by command word. */
const HANDLERS: Record<string, Handler> = {
  use: async (args, ctx) => {
    await useCommand(args, ctx);
    await refreshNames(ctx.session, ctx.deps);
  },
  list: listCommand,
  show: showCommand,
  set: setCommand,
  start: (args, ctx) => startStopCommand("start", args, ctx),
  stop: (args, ctx) => startStopCommand("stop", args, ctx),
  update: updateCommand,
  deploy: deployCommand,
  undeploy: undeployCommand,
  help: helpCommand,
  exit: exitCommand,
  quit: exitCommand,
};

/** Every command word the REPL knows, sorted. */
export const COMMAND_WORDS: readonly string[] = Object.keys(HANDLERS).sort();

/**
 * How a line went: `ok`; `usage` (a malformed line, an unknown command or a bad value: the
 * `ValidationError`s, exit 2 in a script); `failed` (anything else, exit 1).
 */
export type LineOutcome = "ok" | "usage" | "failed";

/**
 * Runs one REPL line. Blank lines and `#` comments do nothing; `exit`/`quit` set
 * `session.exit`. Never throws: an error prints `Error: <message>` to `deps.output.err`.
 *
 * @param line One line of input.
 * @param session The session (current cluster, completion cache, exit flag).
 * @param deps The store, the agent client factory and the output.
 * @returns How the line went.
 *
 * @example Running a line
 * ```ts ignore
 * await runLine("use nosuch", newSession(), { store, agents, output }); // "failed"
 * ```
 */
export async function runLine(
  line: string,
  session: ReplSession,
  deps: ReplDeps,
): Promise<LineOutcome> {
  const words = tokenize(line);
  const command = words[0];
  if (command === undefined) return "ok";
  try {
    const handler = Object.hasOwn(HANDLERS, command) ? HANDLERS[command] : undefined;
    if (handler === undefined) {
      throw new UsageError(`Unknown command "${command}": type "help" for the list of commands`);
    }
    await handler(words.slice(1), { session, deps });
    return "ok";
  } catch (err) {
    deps.output.err(`Error: ${errorMessage(err)}`);
    return err instanceof ValidationError ? "usage" : "failed";
  }
}

/**
 * Runs one REPL line, as {@linkcode runLine}.
 *
 * @param line One line of input.
 * @param session The session (current cluster, completion cache, exit flag).
 * @param deps The store, the agent client factory and the output.
 * @returns `false` when the line failed with an error, else `true`.
 *
 * @example Running a line
 * ```ts ignore
 * const session = newSession();
 * await runReplLine("use c1", session, { store, agents, output }); // "Using cluster c1"
 * ```
 */
export async function runReplLine(
  line: string,
  session: ReplSession,
  deps: ReplDeps,
): Promise<boolean> {
  return await runLine(line, session, deps) === "ok";
}

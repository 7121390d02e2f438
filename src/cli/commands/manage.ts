/**
 * `gru manage [--cluster C] [--history FILE]`: the interactive manager, with the original's
 * commands (docs/compat.md#keep-cli).
 * Reads commands from stdin: with a prompt, completion and history on a terminal (a failing
 * command prints its error and the session goes on), line by line without prompts when piped
 * (`printf 'use c\nlist nodes\n' | gru manage`): a script stops at its first failing line, names
 * it on stderr and exits 1 (2 for a usage error).
 *
 * @module
 */

import process from "node:process";
import { Command } from "@commander-js/extra-typings";
import { AgentClient, agentHttpClient } from "../../api/client.ts";
import { agentClientTls } from "../tls_options.ts";
import { type CliDeps, etcdServerOption, ExitError, storeOptionsOf } from "../context.ts";
import { type ReplFailure, type ReplSummary, runRepl } from "../repl/repl.ts";

/** Default history file name, in the home directory. */
export const HISTORY_FILE_NAME = ".gru_manager_history";

/**
 * The `manage` command.
 *
 * @param deps Output, store factory and environment.
 * @returns The commander command.
 *
 * @example Adding it to the tree
 * ```ts ignore
 * program.addCommand(manageCommand(deps));
 * ```
 */
export function manageCommand(deps: CliDeps) {
  return new Command("manage")
    .description(
      "interactive cluster manager (REPL); reads commands from stdin, type help for the list",
    )
    .option("--cluster <name>", "cluster to use from the start")
    .addOption(etcdServerOption())
    .option(
      "--history <file>",
      `history file (default ~/${HISTORY_FILE_NAME} when stdin is a terminal)`,
    )
    .action(async (opts, cmd) => {
      const terminal = Deno.stdin.isTerminal();
      const home = deps.env("HOME");
      const historyFile = opts.history ??
        (terminal && home ? `${home.replace(/\/+$/, "")}/${HISTORY_FILE_NAME}` : undefined);
      const tls = await agentClientTls(cmd);
      const http = tls.tls ? agentHttpClient(tls.tls) : undefined;
      const store = await deps.openStore(storeOptionsOf(cmd));
      const clients = new Map<string, AgentClient>();
      let summary: ReplSummary;
      try {
        summary = await runRepl({
          input: process.stdin,
          terminalOutput: process.stdout,
          output: deps.output,
          store,
          agents: (token) => {
            const key = token ?? "";
            let client = clients.get(key);
            if (!client) {
              clients.set(
                key,
                client = new AgentClient({ token, httpClient: http, requireTls: tls.requireTls }),
              );
            }
            return client;
          },
          cluster: opts.cluster,
          historyFile,
          terminal,
        });
      } finally {
        await store.kv.close();
        http?.close();
      }
      if (summary.failed) throw stoppedAt(summary.failed);
    });
}

/**
 * The error a piped session ends with: the failing line's number and text (at most 80
 * characters), exit 2 for a usage error, else 1.
 *
 * @param failed The line the session stopped at.
 * @returns The error `main.ts` prints and maps to the exit code.
 *
 * @example A failed `deploy` on line 3
 * ```ts
 * import { stoppedAt } from "./manage.ts";
 * stoppedAt({ line: 3, text: "deploy", usage: false }).exitCode; // 1
 * ```
 */
export function stoppedAt(failed: ReplFailure): ExitError {
  const text = failed.text.trim();
  const excerpt = text.length > 80 ? `${text.slice(0, 79)}…` : text;
  return new ExitError(
    `gru manage stopped at line ${failed.line} (${JSON.stringify(excerpt)}): ` +
      `${failed.usage ? "usage error" : "the command failed"}; the lines after it were not run`,
    failed.usage ? 2 : 1,
  );
}

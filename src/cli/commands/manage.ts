/**
 * `gru manage [--cluster C] [--history FILE]`: the interactive manager, with the original's
 * commands (docs/compat.md#keep-cli).
 * Reads commands from stdin: with a prompt, completion and history on a terminal, line by line
 * without prompts when piped (`printf 'use c\nlist nodes\n' | gru manage`).
 *
 * @module
 */

import process from "node:process";
import { Command } from "@commander-js/extra-typings";
import { AgentClient, agentHttpClient } from "../../api/client.ts";
import { agentClientTls } from "../tls_options.ts";
import { type CliDeps, storeOptionsOf } from "../context.ts";
import { runRepl } from "../repl/repl.ts";

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
      try {
        await runRepl({
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
    });
}

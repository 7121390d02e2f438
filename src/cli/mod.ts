/**
 * The `gru` command tree (commander). Commands are built from injected dependencies and throw
 * instead of exiting, so the REPL and tests can run them; `main.ts` maps errors to exit codes.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import type { CliDeps } from "./context.ts";
import { createCommand } from "./commands/create.ts";
import { joinCommand } from "./commands/join.ts";
import { agentCommand } from "./commands/agent.ts";
import { configCommand } from "./commands/config.ts";
import { manageCommand } from "./commands/manage.ts";
import { statusCommand } from "./commands/status.ts";
import { tokenCommand } from "./commands/token.ts";
import { tlsCommand } from "./commands/tls.ts";
import { consoleCommand } from "./commands/console.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { lbCommand } from "./commands/lb.ts";

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;

/** Builds the whole command tree. */
export function buildCli(deps: CliDeps) {
  const program = new Command("gru")
    .description("Gru: decentralized, autonomic manager for Docker containers")
    .version("0.1.0")
    .addOption(
      new Option("--etcd <endpoints>", "comma-separated etcd endpoints (env ETCD_ADDR)")
        .env("ETCD_ADDR"),
    )
    .addOption(new Option("--etcd-user <user>", "etcd username").env("ETCD_USER"))
    .addOption(new Option("--etcd-password <password>", "etcd password").env("ETCD_PASSWORD"))
    .addOption(new Option("--etcd-ca <file>", "CA certificate for etcd TLS").env("ETCD_CA"))
    .addOption(new Option("--etcd-cert <file>", "client certificate for etcd TLS"))
    .addOption(new Option("--etcd-key <file>", "client key for etcd TLS"))
    .addOption(
      new Option("--tls-ca <file>", "CA of the agents' TLS certificates (mutual TLS)").env(
        "GRU_TLS_CA",
      ),
    )
    .addOption(
      new Option("--tls-cert <file>", "TLS certificate: the agent's, or the CLI's client one")
        .env("GRU_TLS_CERT"),
    )
    .addOption(new Option("--tls-key <file>", "its private key").env("GRU_TLS_KEY"))
    .addOption(
      new Option(
        "--store <kind>",
        'store: "etcd" (default), "file:<path>" (embedded, persisted) or "memory"',
      ).env("GRU_STORE"),
    )
    .addOption(
      new Option("-l, --log-level <level>", "log level").choices(LOG_LEVELS).default("info"),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.output.out(s.replace(/\n$/, "")),
      writeErr: (s) => deps.output.err(s.replace(/\n$/, "")),
    });
  program.hook("preAction", async () => {
    await deps.configureLogging(program.opts().logLevel);
  });
  program.addCommand(createCommand(deps));
  program.addCommand(joinCommand(deps));
  program.addCommand(agentCommand(deps));
  program.addCommand(configCommand(deps));
  program.addCommand(manageCommand(deps));
  program.addCommand(statusCommand(deps));
  program.addCommand(tokenCommand(deps));
  program.addCommand(tlsCommand(deps));
  program.addCommand(consoleCommand(deps));
  program.addCommand(simulateCommand(deps));
  program.addCommand(lbCommand(deps));
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * `gru console [--listen HOST:PORT] [--cluster C] [--password-file F]`: serves the web console
 * (overview, charts, configuration manager, operations) until Ctrl-C. It reads etcd with the
 * CLI's own options and the agents with the cluster token (and the global TLS options, as
 * `gru status` does). On a loopback address it needs no login; elsewhere it refuses to start
 * without `--tls-cert`/`--tls-key` and asks for the cluster token (or the console password).
 *
 * The server is imported when the command runs, never before: no other command, the agent above
 * all, loads any of it.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { type CliDeps, ExitError, storeOptionsOf } from "../context.ts";
import { agentClientTls, clientTlsOf } from "../tls_options.ts";

/** Default address of `gru console`. */
export const DEFAULT_CONSOLE_LISTEN = "127.0.0.1:8080";

async function readPassword(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new ExitError(`Cannot read --password-file ${path}: ${why}`, 2);
  }
  const password = text.replace(/\r?\n$/, "");
  if (password.length < 12 || password.includes("\n")) {
    throw new ExitError(
      `Invalid --password-file ${path}: expected one line of at least 12 characters`,
      2,
    );
  }
  return password;
}

/**
 * The `console` command.
 *
 * @param deps Output, store factory and environment.
 * @returns The commander command.
 */
export function consoleCommand(deps: CliDeps) {
  return new Command("console")
    .description("serve the web console: cluster overview, charts, configuration, operations")
    .addOption(
      new Option("--listen <host:port>", "address to serve on (loopback: no login)")
        .default(DEFAULT_CONSOLE_LISTEN),
    )
    .option("-c, --cluster <name>", "cluster shown first (default: the only or first one)")
    .option(
      "--password-file <file>",
      "file holding a console password accepted at login besides the cluster token",
    )
    .action(async (opts, cmd) => {
      const password = opts.passwordFile ? await readPassword(opts.passwordFile) : undefined;
      const tls = await clientTlsOf(cmd);
      const serveTls = tls?.cert !== undefined && tls.key !== undefined
        ? { cert: tls.cert, key: tls.key }
        : undefined;
      const agentTls = await agentClientTls(cmd);
      const { runConsole } = await import("../../console/server/serve.ts");
      const store = await deps.openStore(storeOptionsOf(cmd));
      const controller = new AbortController();
      const stop = () => controller.abort();
      const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
      for (const s of signals) Deno.addSignalListener(s, stop);
      try {
        await runConsole({
          listen: opts.listen,
          cluster: opts.cluster,
          password,
          serveTls,
          agentTls,
          store,
          output: deps.output,
          signal: controller.signal,
        });
      } finally {
        for (const s of signals) Deno.removeSignalListener(s, stop);
        await store.kv.close();
      }
    });
}

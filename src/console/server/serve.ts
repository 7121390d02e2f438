/**
 * Runs the console: checks the listen address against the login rules (a non-loopback address
 * needs TLS, and then a login), builds the app over the CLI's cluster store and agent clients, and
 * serves it until SIGINT or SIGTERM. `gru console` loads this module only when it runs, so no
 * other command (the agent above all) loads the console.
 *
 * @module
 */

import { AgentClient, type AgentClientOptions, agentHttpClient } from "../../api/client.ts";
import type { ClusterStore } from "../../cluster/cluster_store.ts";
import { ValidationError } from "../../domain/errors.ts";
import type { Output } from "../../ports/cli_deps.ts";
import { isLoopbackHost, parseListen } from "./auth.ts";
import { createConsoleApp } from "./app.ts";
import type { ConsoleAgent } from "./context.ts";
import { throttledCollect } from "./memory.ts";

/** Per-request timeout of the console's reads of agents (a dead node must not stall a view). */
export const READ_TIMEOUT_MS = 3000;
/** Per-request timeout of commands (starting a service may pull an image). */
export const COMMAND_TIMEOUT_MS = 60_000;

/** What `gru console` hands over. */
export interface ConsoleRunOptions {
  listen: string;
  cluster?: string | undefined;
  /** The console password, already read from `--password-file`. */
  password?: string | undefined;
  /** PEM texts of `--tls-cert` and `--tls-key`: the console serves HTTPS with them. */
  serveTls?: { cert: string; key: string } | undefined;
  /** TLS towards the agents (`--tls-ca`, and the client certificate), as `gru status` uses. */
  agentTls: Pick<AgentClientOptions, "tls" | "requireTls">;
  store: ClusterStore;
  output: Output;
  /** Stops the server (SIGINT/SIGTERM in the command; tests abort it). */
  signal: AbortSignal;
  /** Called once listening, with the console's URL. */
  onListen?: (url: string) => void;
}

/**
 * The agent clients of the console, one pair per token: reads time out quickly, commands late.
 *
 * @param tls TLS towards the agents.
 * @returns The factory and a function releasing the HTTP client.
 */
export function consoleAgents(
  tls: Pick<AgentClientOptions, "tls" | "requireTls">,
): { agents: (token: string | undefined) => ConsoleAgent; close: () => void } {
  const http = tls.tls ? agentHttpClient(tls.tls) : undefined;
  const clients = new Map<string, ConsoleAgent>();
  const make = (token: string | undefined, timeoutMs: number) =>
    new AgentClient({ token, timeoutMs, httpClient: http, requireTls: tls.requireTls });
  return {
    agents: (token) => {
      const key = token ?? "";
      let client = clients.get(key);
      if (!client) {
        const read = make(token, READ_TIMEOUT_MS);
        const command = make(token, COMMAND_TIMEOUT_MS);
        client = {
          get: (address, path) => read.get(address, path),
          command: (address, cmd) => command.command(address, cmd),
        };
        if (clients.size > 16) clients.clear();
        clients.set(key, client);
      }
      return client;
    },
    close: () => http?.close(),
  };
}

/**
 * Serves the console until `signal` aborts.
 *
 * @param o Listen address, cluster, login settings, TLS, store and output.
 * @throws {ValidationError} A bad `--listen`, or a non-loopback address without TLS.
 */
export async function runConsole(o: ConsoleRunOptions): Promise<void> {
  const listen = parseListen(o.listen);
  if ("error" in listen) {
    throw new ValidationError(`Invalid --listen "${o.listen.slice(0, 80)}": ${listen.error}`);
  }
  const loopback = isLoopbackHost(listen.host);
  if (!loopback && !o.serveTls) {
    throw new ValidationError(
      `Refusing to serve the console on ${o.listen} without TLS: the login and its cookie ` +
        `would cross the network in clear text. Give --tls-cert and --tls-key, or listen on ` +
        `127.0.0.1 (no login there)`,
    );
  }
  if (o.cluster !== undefined) await o.store.requireCluster(o.cluster);
  const { agents, close } = consoleAgents(o.agentTls);
  const app = createConsoleApp({
    store: o.store,
    agents,
    defaultCluster: o.cluster,
    loopback,
    https: o.serveTls !== undefined,
    password: loopback ? undefined : o.password,
    signal: o.signal,
    collect: throttledCollect(Date.now),
  });
  const scheme = o.serveTls ? "https" : "http";
  try {
    const server = Deno.serve({
      hostname: listen.host,
      port: listen.port,
      signal: o.signal,
      ...(o.serveTls ? { cert: o.serveTls.cert, key: o.serveTls.key } : {}),
      onListen: (addr) => {
        const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
        const url = `${scheme}://${host}:${addr.port}/`;
        o.output.out(
          `Gru console at ${url} (${
            loopback
              ? "loopback: no login"
              : `login with the cluster token${o.password ? " or the console password" : ""}`
          }); Ctrl-C to stop`,
        );
        o.onListen?.(url);
      },
    }, (req, info) => app.fetch(req, info));
    await server.finished;
  } finally {
    close();
  }
}

/**
 * TLS towards agents, for every command: the global `--tls-ca`, `--tls-cert` and `--tls-key`
 * (env `GRU_TLS_CA`, `GRU_TLS_CERT`, `GRU_TLS_KEY`). The agent serves with them (and presents
 * the certificate to its peers); `gru manage` and `gru status` verify agents against the CA and
 * present the certificate when agents require one.
 *
 * @module
 */

import { resolve } from "node:path";
import type { AgentClientOptions, AgentTls } from "../api/client.ts";
import type { TlsPaths } from "../ports/tls.ts";
import { ExitError } from "./context.ts";

/** The global TLS paths of any (sub)command. */
export function tlsPathsOf(cmd: { optsWithGlobals(): unknown }): TlsPaths | undefined {
  const o = cmd.optsWithGlobals() as Record<string, string | undefined>;
  if (!o.tlsCa && !o.tlsCert && !o.tlsKey) return undefined;
  if (!o.tlsCert !== !o.tlsKey) {
    throw new ExitError(
      "--tls-cert and --tls-key go together (env GRU_TLS_CERT and GRU_TLS_KEY)",
      2,
    );
  }
  // Absolute, so an identity file saved by `gru join` works from any directory.
  const abs = (p: string | undefined) => p ? resolve(p) : undefined;
  return { ca: abs(o.tlsCa), cert: abs(o.tlsCert), key: abs(o.tlsKey) };
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new ExitError(`Cannot read ${flag} ${path}: ${why}`, 2);
  }
}

/** The PEM texts of the global TLS options, `undefined` without any. */
export async function clientTlsOf(
  cmd: { optsWithGlobals(): unknown },
): Promise<AgentTls | undefined> {
  const paths = tlsPathsOf(cmd);
  if (!paths) return undefined;
  return {
    ca: paths.ca ? await readPem(paths.ca, "--tls-ca") : undefined,
    cert: paths.cert ? await readPem(paths.cert, "--tls-cert") : undefined,
    key: paths.key ? await readPem(paths.key, "--tls-key") : undefined,
  };
}

/**
 * `AgentClient` options from the global TLS options: with TLS configured, agents are verified
 * against the CA and plain HTTP to a non-loopback agent is refused (the token stays encrypted).
 */
export async function agentClientTls(
  cmd: { optsWithGlobals(): unknown },
): Promise<Pick<AgentClientOptions, "tls" | "requireTls">> {
  const tls = await clientTlsOf(cmd);
  return tls ? { tls, requireTls: true } : {};
}

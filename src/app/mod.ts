/**
 * The composition root: the only place that picks adapters and hands them to the CLI.
 *
 * @module
 */

import type {
  AgentRunOptions,
  CliDeps,
  ConfigDirLoadOptions,
  Output,
  StoreOptions,
} from "../ports/cli_deps.ts";
import type { ClusterStore } from "../cluster/cluster_store.ts";
import type { TlsFiles } from "../ports/tls.ts";
import type { ClusterDocs } from "../domain/model.ts";
import type { LoadedConfig } from "../config/config_files.ts";
import { detectHostIp, readIdentity, writeIdentity } from "./identity.ts";

// Adapters load on first use: `gru --help` or `gru config validate` never pay for the etcd
// client, dockerode or the agent, and `gru --help` not even for LogTape, zod or the JSONC
// parser (bench: RSS per command in BENCHMARKS.md, start-up in scripts/bench_lightness.ts).
async function configureLogging(level: string): Promise<void> {
  return (await import("./logging.ts")).configureLogging(level);
}

async function loadConfigDir(dir: string, options?: ConfigDirLoadOptions): Promise<LoadedConfig> {
  return (await import("../adapters/fs/config_dir.ts")).loadConfigDir(dir, options);
}

async function writeConfigDir(dir: string, docs: ClusterDocs): Promise<string[]> {
  return (await import("../adapters/fs/config_dir.ts")).writeConfigDir(dir, docs);
}

async function openStore(options: StoreOptions): Promise<ClusterStore> {
  return (await import("./store.ts")).openStore(options);
}

// `gru tls` only: the x509 library costs start-up time and memory (see docs/security.md).
async function tls(): Promise<TlsFiles> {
  return (await import("../adapters/tls/tls_files.ts")).localTlsFiles;
}

async function runAgent(options: AgentRunOptions, store?: ClusterStore): Promise<number> {
  return (await import("./agent_process.ts")).runAgent(options, store);
}

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
export function realCliDeps(output: Output = consoleOutput): CliDeps<ClusterStore, LoadedConfig> {
  return {
    output,
    openStore,
    tls,
    env: (name) => Deno.env.get(name),
    configureLogging,
    runAgent,
    readIdentity,
    writeIdentity,
    detectHostIp,
    loadConfigDir,
    writeConfigDir,
  };
}

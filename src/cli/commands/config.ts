/**
 * `gru config`: validate a configuration directory offline, import it into a cluster in one
 * transaction, export a cluster's configuration to a directory, and show raw etcd entries.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { ClusterStore } from "../../cluster/cluster_store.ts";
import { clusterKeys } from "../../cluster/keys.ts";
import type { ClusterDocs } from "../../domain/model.ts";
import type { LoadedConfig } from "../../config/config_files.ts";
import {
  countProblems,
  formatPath,
  formatProblem,
  hasErrors,
  plural,
  type Problem,
} from "../../config/problem.ts";
import { type DocSources, validateClusterDocs } from "../../config/validate.ts";
import { type CliDeps, ExitError, type Output, storeOptionsOf } from "../context.ts";

/** `config, policy, 2 services, 1 analytic`: what a set of documents holds. */
export function describeDocs(docs: ClusterDocs): string {
  const parts: string[] = [];
  if (docs.config) parts.push("config");
  if (docs.policy) parts.push("policy");
  if (docs.services) parts.push(plural(docs.services.length, "service"));
  if (docs.analytics) parts.push(plural(docs.analytics.length, "analytic"));
  return parts.length === 0 ? "nothing" : parts.join(", ");
}

function printProblems(print: (text: string) => void, problems: readonly Problem[]): void {
  for (const p of problems) print(formatProblem(p));
}

function rejectIfErrors(dir: string, problems: readonly Problem[], what: string): void {
  if (hasErrors(problems)) {
    throw new ExitError(`Invalid configuration in ${dir}: ${countProblems(problems)}; ${what}`, 2);
  }
}

/**
 * The stored documents the import leaves in place, merged with the new ones, so that references
 * are checked against what the cluster will hold.
 */
async function mergedCheck(
  store: ClusterStore,
  cluster: string,
  loaded: LoadedConfig,
): Promise<Problem[]> {
  const { docs, sources } = loaded;
  if (docs.policy && docs.services && docs.analytics) return [];
  const stored = await store.exportDocs(cluster);
  const k = clusterKeys(cluster);
  const etcd = (key: string) => ({ file: `etcd:${key}`, pathOf: formatPath });
  const merged: ClusterDocs = {
    policy: docs.policy ?? stored.policy,
    services: docs.services ?? stored.services ?? [],
    analytics: docs.analytics ?? stored.analytics ?? [],
  };
  const mergedSources: DocSources = {
    policy: docs.policy ? sources.policy : etcd(k.policy),
    services: docs.services
      ? sources.services
      : new Map(merged.services!.map((s) => [s.name, etcd(k.service(s.name))])),
    analytics: docs.analytics
      ? sources.analytics
      : new Map(merged.analytics!.map((a) => [a.name, etcd(k.analytic(a.name))])),
    unloadedAnalytics: sources.unloadedAnalytics,
  };
  return await validateClusterDocs(merged, mergedSources);
}

/** Points each service's `remote` at its key in this cluster (exports carry their origin's). */
function withRemotes(cluster: string, docs: ClusterDocs, output: Output): ClusterDocs {
  if (!docs.services) return docs;
  const k = clusterKeys(cluster);
  return {
    ...docs,
    services: docs.services.map((s) => {
      const key = k.service(s.name);
      if (s.remote !== "" && s.remote !== key) {
        output.err(`Service "${s.name}": remote "${s.remote}" replaced by "${key}"`);
      }
      return { ...s, remote: key };
    }),
  };
}

function prettyValue(value: string): string {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === "object" && parsed !== null) return JSON.stringify(parsed, null, 2);
  } catch {
    // Not JSON: shown as stored.
  }
  return value;
}

/**
 * Builds `gru config` and its subcommands (`validate`, `import`, `export`, `get`). Commands
 * throw `ExitError` (exit 2 for an invalid configuration) instead of exiting.
 *
 * @param deps Output sink, store factory, and configuration directory reader and writer.
 * @returns The `config` command.
 */
export function configCommand(deps: CliDeps) {
  const { output } = deps;
  const config = new Command("config")
    .description("validate, import and export a cluster's configuration documents");

  async function withStore<T>(
    cmd: { optsWithGlobals(): unknown },
    fn: (store: ClusterStore) => Promise<T>,
  ): Promise<T> {
    const store = await deps.openStore(storeOptionsOf(cmd));
    try {
      return await fn(store);
    } finally {
      await store.kv.close();
    }
  }

  config.command("validate")
    .description("check a configuration directory offline and print every problem")
    .argument("<dir>", "directory with config.json, policy.json, services/, analytics/")
    .action(async (dir) => {
      const { docs, problems } = await deps.loadConfigDir(dir);
      printProblems(output.out, problems);
      rejectIfErrors(dir, problems, "see the problems above");
      output.out(
        `Configuration in ${dir} is valid (${describeDocs(docs)}; ${countProblems(problems)})`,
      );
    });

  config.command("import")
    .description("validate a configuration directory, then write it into the cluster atomically")
    .argument("<cluster>", "cluster name")
    .argument("<dir>", "directory with config.json, policy.json, services/, analytics/")
    .action(async (cluster, dir, _options, cmd) => {
      const loaded = await deps.loadConfigDir(dir, { crossCheck: false });
      const offline = [
        ...loaded.problems,
        ...await validateClusterDocs(loaded.docs, loaded.sources),
      ];
      printProblems(output.err, offline);
      rejectIfErrors(dir, offline, "nothing was imported");
      await withStore(cmd, async (store) => {
        // Problems of documents the dir replaces were printed above; stored ones are new.
        const seen = new Set(offline.map(formatProblem));
        const merged = (await mergedCheck(store, cluster, loaded))
          .filter((p) => !seen.has(formatProblem(p)) && p.severity === "error");
        printProblems(output.err, merged);
        rejectIfErrors(dir, merged, "nothing was imported");
        const docs = withRemotes(cluster, loaded.docs, output);
        await store.importDocs(cluster, docs);
        output.out(`Imported ${describeDocs(docs)} into cluster "${cluster}"`);
      });
    });

  config.command("export")
    .description("write the cluster's configuration documents into a directory")
    .argument("<cluster>", "cluster name")
    .argument("<dir>", "directory to write (created when missing)")
    .action(async (cluster, dir, _options, cmd) => {
      const docs = await withStore(cmd, (store) => store.exportDocs(cluster));
      const files = await deps.writeConfigDir(dir, docs);
      output.out(
        `Exported ${describeDocs(docs)} of cluster "${cluster}" to ${dir} (${
          plural(files.length, "file")
        })`,
      );
    });

  config.command("get")
    .description("print raw etcd entries of the cluster (all, or one key or folder)")
    .argument("<cluster>", "cluster name")
    .argument("[key]", "key relative to /gru/<cluster>/, e.g. config or services/web")
    .action(async (cluster, key, _options, cmd) => {
      const entries = await withStore(cmd, (store) => store.getRaw(cluster, key));
      const keys = clusterKeys(cluster);
      if (entries.length === 0) {
        throw new ExitError(
          key === undefined
            ? `Cluster "${cluster}" has no keys`
            : `No key "${key}" in cluster "${cluster}"`,
          1,
        );
      }
      // The cluster token is a secret: a listing shows that it exists, never its value
      // (`gru token show` prints it on purpose).
      const secret = new Set(key ? [] : [keys.token, keys.tokenPrevious]);
      for (const e of entries) {
        const value = secret.has(e.key) ? "<hidden: gru token show>" : prettyValue(e.value);
        output.out(value.includes("\n") ? `${e.key}:\n${value}` : `${e.key}: ${value}`);
      }
    });

  for (const sub of config.commands) {
    sub.exitOverride().configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, "")),
      writeErr: (s) => output.err(s.replace(/\n$/, "")),
    });
  }
  return config;
}

/**
 * Chooses how the agent reads its containers' CPU and memory, and says which once at start:
 * the kernel's cgroup files when the engine is local and they are readable, else one Docker
 * stats stream per container (more CPU here and in dockerd).
 *
 * Deno refuses reads under `/sys` and `/proc` without `--allow-all` (whatever `--allow-read`
 * says), and the `gru` binary does not have it: its agent reads bind mounts of them instead,
 * named by `GRU_CGROUP_ROOT` (default `/sys/fs/cgroup`) and `GRU_PROC_ROOT` (default `/proc`).
 * deploy/gru-agent.service mounts them at `/run/gru/cgroup` and `/run/gru/proc`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { CgroupUsageReader } from "../adapters/cgroup/cgroup_usage_reader.ts";
import { DockerStatsUsageReader } from "../adapters/docker/docker_stats_reader.ts";
import type { DockerRuntime } from "../adapters/docker/docker_runtime.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import { redactUrl } from "../api/redact.ts";

const log = getLogger(["gru", "agent", "process"]);

/** Where the cgroup files are read: `GRU_CGROUP_ROOT` and `GRU_PROC_ROOT`, or the host's. */
export function cgroupPaths(env: (name: string) => string | undefined): {
  root: string;
  proc: string;
} {
  return {
    root: env("GRU_CGROUP_ROOT") || "/sys/fs/cgroup",
    proc: env("GRU_PROC_ROOT") || "/proc",
  };
}

/** The usage reader for `runtime` (engine at `url`), logged once with the reason of a fallback. */
export async function chooseUsageReader(
  runtime: DockerRuntime,
  url: string,
  env: (name: string) => string | undefined,
): Promise<UsageReader> {
  if (!runtime.endpointIsLocal) {
    log.info(
      "Docker engine at {url}; container usage read from docker-stats (one stream per " +
        "container: the engine is remote, its cgroup files are not on this host)",
      { url: redactUrl(url) },
    );
    return new DockerStatsUsageReader(runtime.streamDocker);
  }
  const paths = cgroupPaths(env);
  const found = await CgroupUsageReader.detectWithReason(paths).catch((err) => ({
    reader: undefined,
    reason: err instanceof Error ? err.message : String(err),
  }));
  if (found.reader) {
    log.info(
      "Docker engine at {url}; container usage read from {source} files under {root}; {how}",
      {
        url: redactUrl(url),
        source: found.reader.kind,
        root: paths.root,
        how: found.procReadable
          ? `containers' cgroups found from ${paths.proc}/<pid>/cgroup`
          : `${paths.proc} is unreadable: containers found at Docker's usual cgroup paths ` +
            "(GRU_PROC_ROOT names a readable bind mount of /proc)",
      },
    );
    return found.reader;
  }
  log.warn(
    "Docker engine at {url}; container usage read from docker-stats, one stream per container " +
      "(more CPU here and in dockerd), because the cgroup files cannot be used: {reason}. The " +
      "gru binary does not have all permissions: bind-mount /sys/fs/cgroup and /proc " +
      "elsewhere and name them with GRU_CGROUP_ROOT and GRU_PROC_ROOT " +
      "(deploy/gru-agent.service does; see README.md)",
    { url: redactUrl(url), reason: found.reason },
  );
  return new DockerStatsUsageReader(runtime.streamDocker);
}

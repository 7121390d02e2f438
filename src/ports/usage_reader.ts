/**
 * Reads a container's resource usage: cumulative CPU time and current memory. Two adapters:
 * cgroup files (v1 and v2; microseconds per read, when the agent runs beside the engine) and
 * the Docker stats API, streamed (anywhere). Missing figures are `undefined`, never 0.
 *
 * @module
 */

/** One reading. */
export interface UsageSample {
  /** Cumulative CPU time of the container, in nanoseconds. */
  cpuNs?: number | undefined;
  /** Current memory use, in bytes. */
  memoryBytes?: number | undefined;
  /** When it was read, in milliseconds since the epoch. */
  at: number;
}

/** What identifies a container to a reader. */
export interface UsageTarget {
  id: string;
  /** The container's main process id on this host (0 if unknown). */
  pid: number;
}

/** A usage reader. `read` never throws for a vanished container: it returns an empty sample. */
export interface UsageReader {
  /** `cgroup-v1`, `cgroup-v2` or `docker-stats`. */
  readonly kind: string;
  read(target: UsageTarget): Promise<UsageSample>;
  /** Drops whatever is kept for a container (a stats stream, a cached path). */
  forget(id: string): void;
  close(): Promise<void>;
}

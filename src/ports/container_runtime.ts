/**
 * The container runtime port: what the agent needs from a Docker engine. The real adapter is
 * `adapters/docker/docker_runtime.ts` (dockerode); unit tests use `adapters/memory/`.
 *
 * Every method may throw `UnavailableError` (engine unreachable or timed out) or
 * `NotFoundError` (no such container or image).
 *
 * @module
 */

/** Engine facts. */
export interface EngineInfo {
  ncpu: number;
  /** Bytes. */
  memTotal: number;
  serverVersion: string;
}

/** What the agent asks to create. */
export interface ContainerSpec {
  name: string;
  image: string;
  cmd?: string[] | undefined;
  entrypoint?: string[] | undefined;
  /** `NAME=value` entries. */
  env: string[];
  labels: Record<string, string>;
  /** e.g. `"0,2"`; empty means unpinned. */
  cpusetCpus: string;
  cpuShares?: number | undefined;
  /** Bytes; 0 means no limit. */
  memory: number;
  /** Guest port (e.g. `"80"` or `"53/udp"`) → host port. */
  portBindings: Record<string, number>;
  volumes?: Record<string, Record<string, never>> | undefined;
  links?: string[] | undefined;
  stopTimeout?: number | undefined;
}

/** A container as listed. */
export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Docker's state: created, running, paused, restarting, exited, dead, removing. */
  state: string;
  /** Seconds since the epoch. */
  created: number;
  /** Host ports published by this container (any label). */
  hostPorts: number[];
}

/** Details of one container. */
export interface ContainerDetails extends ContainerSummary {
  cpusetCpus: string;
  /** Bytes. */
  memory: number;
  /** Guest port (`"80/tcp"`) → host ports. */
  portBindings: Record<string, number[]>;
  /** Milliseconds since the epoch, 0 if never started. */
  startedAt: number;
  pid: number;
}

/** A container event from the engine. */
export interface RuntimeEvent {
  /** Full container id. */
  id: string;
  /** Docker's action: create, start, die, stop, kill, oom, pause, unpause, destroy, health_status… */
  action: string;
  /** The container's labels (from the event's attributes). */
  labels: Record<string, string>;
  /** Milliseconds since the epoch. */
  time: number;
}

/** A Docker engine. */
export interface ContainerRuntime {
  info(): Promise<EngineInfo>;
  /** Containers (running or not) whose labels include every `labels` pair. */
  list(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Every container on the engine, managed or not (for host-port accounting). */
  listAll(): Promise<ContainerSummary[]>;
  inspect(id: string): Promise<ContainerDetails>;
  /** Creates the container and returns its full id. */
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** Stops with `timeoutSeconds` grace; a stopped container is fine. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes (force); a missing container is fine. */
  remove(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  /**
   * Streams container events whose labels include every `labels` pair, from now on, until
   * `signal` aborts (resolves) or the stream breaks (rejects with `UnavailableError`). Callers
   * reconnect with backoff and resync from `list` (events may have been missed meanwhile).
   */
  events(
    labels: Record<string, string>,
    onEvent: (event: RuntimeEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * Follows a container's stdout and stderr from now on, calling `onLine` once per line
   * (without the newline; lines longer than 4096 bytes are cut to 4096). Resolves when the
   * stream ends (container gone) or `signal` aborts. Never busy-loops.
   */
  followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
  /** Whether the image exists on the engine. */
  hasImage(image: string): Promise<boolean>;
  close(): Promise<void>;
}

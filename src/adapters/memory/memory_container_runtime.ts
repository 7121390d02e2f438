/**
 * An in-memory `ContainerRuntime` for fast unit tests of the agent and its loop without Docker.
 * It passes the same contract as the Docker adapter
 * (`tests/contract/container_runtime_contract.ts`) and copies the engine's observable behaviour,
 * quirks included:
 *
 * - `create` refuses a memory limit under 6 MiB or a malformed or unavailable cpuset, then an
 *   image it lacks (`NotFoundError`), then a malformed name (these three are `GruError`,
 *   Docker's HTTP 400), then a name in use (`ConflictError`), in Docker's order. An empty name
 *   gets a generated one. Image labels are merged under the spec's labels.
 * - `start` of a running container is a no-op, of an exited one restarts it, of a paused one is a
 *   `ConflictError`; a host port held by another running or paused container makes it fail with
 *   `UnavailableError` (Docker answers HTTP 500 "port is already allocated") and the container
 *   stays `created`.
 * - `stop` of a created or exited container is a no-op (no events); `remove` of a missing one is
 *   fine; every other method throws `NotFoundError` for a missing container.
 * - `unpause` of a container that is not paused throws `UnavailableError` (Docker 20.10 answers
 *   HTTP 500 "is not paused").
 * - `list` and `listAll` report host ports for running and paused containers only (Docker lists
 *   no published ports for created or exited ones); `inspect` reports the configured bindings in
 *   any state (a binding to host port 0 shows as none there, and is listed as a free port from
 *   32768 on while running). Lists are newest first.
 * - Containers are found by full id, by name or by a unique id prefix.
 * - Events: create; start; kill, die, stop (stop of a running container); kill, die, destroy
 *   (removal of a running one); destroy; pause; unpause; die alone (the container's process
 *   ended, see `kill`); oom, die (see `kill` with `oom`). They reach the `events` subscribers
 *   whose labels all match, asynchronously (as a real stream delivers them after the call).
 * - `followLogs` of a created or exited container resolves at once, as Docker ends such a
 *   stream; a followed container that stops or goes away ends its streams.
 *
 * Test controls: `addImage`/`removeImage`, `setInfo`, `emitLog`, `kill`, `pause`, `failNext`,
 * `clearFailures`, `down`/`up`, `settle`, `peek`, and the `calls` log.
 *
 * @module
 */

import type {
  ContainerDetails,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  RuntimeEvent,
} from "../../ports/container_runtime.ts";
import { type Clock, systemClock } from "../../domain/clock.ts";
import type { Prng } from "../../domain/random.ts";
import { ConflictError, UnavailableError } from "../../domain/errors.ts";
import {
  allocatePorts,
  checkSpec,
  containerName,
  details,
  findContainer,
  matchesLabels,
  type MemoryContainer,
  type MemoryImage,
  newContainer,
  newContainerId,
  normalizeImage,
  resolveContainer,
  summaries,
} from "./memory_containers.ts";
import { MemoryStreams } from "./memory_streams.ts";
import { MemoryCalls, type RuntimeCall, type RuntimeMethod } from "./memory_calls.ts";

export type { MemoryContainerState, MemoryImage } from "./memory_containers.ts";
export type { RuntimeCall, RuntimeMethod } from "./memory_calls.ts";

/** Options of `MemoryContainerRuntime`. */
export interface MemoryContainerRuntimeOptions {
  /** Source of created, startedAt and event times. @default systemClock */
  clock?: Clock;
  /** Images the engine has, by reference (`name` means `name:latest`). @default [] */
  images?: string[] | Record<string, MemoryImage>;
  /** @default 4 */
  ncpu?: number;
  /** Bytes. @default 8 GiB */
  memTotal?: number;
  /** @default "memory" */
  serverVersion?: string;
  /** Source of container ids; by default ids come from `crypto.getRandomValues`. */
  prng?: Prng;
}

/** The fake engine. */
export class MemoryContainerRuntime implements ContainerRuntime {
  readonly #clock: Clock;
  readonly #prng: Prng | undefined;
  readonly #images = new Map<string, MemoryImage>();
  readonly #containers = new Map<string, MemoryContainer>();
  readonly #streams = new MemoryStreams();
  readonly #calls = new MemoryCalls();
  #info: EngineInfo;
  #seq = 0;
  #nextPid = 1000;

  constructor(options: MemoryContainerRuntimeOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#prng = options.prng;
    this.#info = {
      ncpu: options.ncpu ?? 4,
      memTotal: options.memTotal ?? 8 * 1024 ** 3,
      serverVersion: options.serverVersion ?? "memory",
    };
    const images = Array.isArray(options.images)
      ? Object.fromEntries(options.images.map((ref) => [ref, {}]))
      : options.images ?? {};
    for (const [ref, image] of Object.entries(images)) this.addImage(ref, image);
  }

  // ───────────────────────────── test controls ─────────────────────────────

  /** Every port call so far (also the failed ones), oldest first. */
  get calls(): readonly RuntimeCall[] {
    return this.#calls.calls;
  }

  /** Whether `down()` is in force. */
  get isDown(): boolean {
    return this.#calls.unreachable;
  }

  /** Changes what `info` reports. */
  setInfo(info: Partial<EngineInfo>): void {
    this.#info = { ...this.#info, ...info };
  }

  /** Makes the engine have `ref` (`name` means `name:latest`). */
  addImage(ref: string, image: MemoryImage = {}): void {
    this.#images.set(normalizeImage(ref), { labels: { ...image.labels } });
  }

  /** Makes the engine forget `ref`; existing containers are not affected. */
  removeImage(ref: string): void {
    this.#images.delete(normalizeImage(ref));
  }

  /**
   * Makes the next `times` calls of `method` throw `error` (default: an `UnavailableError`)
   * before doing anything. Calls queue up: `failNext("start", a); failNext("start", b)` fails
   * the next two starts with `a` then `b`. A failing `events` or `followLogs` call rejects
   * without opening a stream.
   */
  failNext(method: RuntimeMethod, error?: unknown, times = 1): void {
    this.#calls.failNext(method, error, times);
  }

  /** Drops every failure queued by `failNext`. */
  clearFailures(): void {
    this.#calls.clearFailures();
  }

  /**
   * The engine becomes unreachable: every call throws `UnavailableError` until `up()`, and every
   * open event and log stream rejects with `UnavailableError`. Containers keep their state.
   */
  down(): void {
    this.#calls.unreachable = true;
    this.#streams.breakAll(() =>
      new UnavailableError("Docker engine unreachable (memory runtime is down)")
    );
  }

  /** The engine is reachable again. Streams that `down()` broke stay broken: reconnect. */
  up(): void {
    this.#calls.unreachable = false;
  }

  /**
   * The container's process ends on its own (a crash; with `oom`, the kernel's OOM killer):
   * state `exited`, a `die` event (an `oom` event first with `oom`), its log streams end. Unlike
   * `docker kill`, no `kill` event. Throws `NotFoundError` if missing and `ConflictError` if
   * not running or paused.
   */
  kill(idOrName: string, options: { oom?: boolean } = {}): void {
    const c = this.#find(idOrName, "kill");
    if (c.state !== "running" && c.state !== "paused") {
      throw new ConflictError(`Container ${c.id} is not running`);
    }
    if (options.oom) this.#emit(c, "oom");
    this.#exit(c);
  }

  /** Pauses a running container (`pause` event). `ConflictError` unless running. */
  pause(idOrName: string): void {
    const c = this.#find(idOrName, "pause");
    if (c.state !== "running") throw new ConflictError(`Container ${c.id} is not running`);
    c.state = "paused";
    this.#emit(c, "pause");
  }

  /**
   * The container writes `line` and a newline to stdout (or stderr): every current follower
   * gets it, cut to 4096 bytes; a `line` holding newlines makes several lines (a trailing
   * `\r` is dropped from each). A container that is not running (or is paused) writes nothing.
   * Delivery is asynchronous, in order; `await settle()` to wait for it. `NotFoundError` if
   * missing.
   */
  emitLog(idOrName: string, line: string, _stream: "stdout" | "stderr" = "stdout"): void {
    const c = this.#find(idOrName, "logs");
    if (c.state !== "running") return;
    this.#streams.log(c.id, line);
  }

  /**
   * Resolves once every call made so far has taken effect (streams opened included) and every
   * event and log line emitted so far has been delivered.
   */
  async settle(): Promise<void> {
    while (this.#calls.inflight > 0 || this.#streams.draining) {
      await (this.#streams.draining ?? Promise.resolve());
      await Promise.resolve();
    }
  }

  /** The fake's record of a container (a copy), or undefined. */
  peek(idOrName: string): ContainerDetails | undefined {
    const c = resolveContainer(this.#containers, idOrName);
    return c && details(c);
  }

  // ───────────────────────────── the port ─────────────────────────────

  info(): Promise<EngineInfo> {
    return this.#calls.run("info", [], () => ({ ...this.#info }));
  }

  list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.#calls.run(
      "list",
      [labels],
      () => this.#summaries((c) => matchesLabels(c.labels, labels)),
    );
  }

  listAll(): Promise<ContainerSummary[]> {
    return this.#calls.run("listAll", [], () => this.#summaries(() => true));
  }

  inspect(id: string): Promise<ContainerDetails> {
    return this.#calls.run("inspect", [id], () => details(this.#find(id, "inspect")));
  }

  create(spec: ContainerSpec): Promise<string> {
    return this.#calls.run("create", [spec], () => this.#create(spec));
  }

  start(id: string): Promise<void> {
    return this.#calls.run("start", [id], () => this.#start(this.#find(id, "start")));
  }

  stop(id: string, timeoutSeconds: number): Promise<void> {
    return this.#calls.run("stop", [id, timeoutSeconds], () => {
      const c = this.#find(id, "stop");
      if (c.state !== "running" && c.state !== "paused") return; // already stopped
      this.#emit(c, "kill");
      this.#exit(c);
      this.#emit(c, "stop");
    });
  }

  remove(id: string): Promise<void> {
    return this.#calls.run("remove", [id], () => {
      const c = resolveContainer(this.#containers, id);
      if (!c) return; // a missing container is fine
      if (c.state === "running" || c.state === "paused") {
        this.#emit(c, "kill");
        this.#exit(c);
      }
      this.#containers.delete(c.id);
      this.#emit(c, "destroy");
    });
  }

  unpause(id: string): Promise<void> {
    return this.#calls.run("unpause", [id], () => {
      const c = this.#find(id, "unpause");
      if (c.state !== "paused") {
        throw new UnavailableError(`Docker unpause failed: Container ${c.id} is not paused`);
      }
      c.state = "running";
      this.#emit(c, "unpause");
    });
  }

  events(
    labels: Record<string, string>,
    onEvent: (event: RuntimeEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted) return this.#calls.record("events", [labels]);
    return this.#calls.run("events", [labels], () => {
      if (signal.aborted) return Promise.resolve();
      return this.#streams.subscribe(labels, onEvent, signal);
    });
  }

  followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return this.#calls.record("followLogs", [id]);
    return this.#calls.run("followLogs", [id], () => {
      if (signal.aborted) return Promise.resolve();
      const c = this.#find(id, "logs");
      // Docker ends the log stream of a container that is not running at once.
      if (c.state !== "running" && c.state !== "paused") return Promise.resolve();
      return this.#streams.follow(c.id, onLine, signal);
    });
  }

  hasImage(image: string): Promise<boolean> {
    return this.#calls.run("hasImage", [image], () => this.#images.has(normalizeImage(image)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // ───────────────────────────── internals ─────────────────────────────

  #find(idOrName: string, what: string): MemoryContainer {
    return findContainer(this.#containers, idOrName, what);
  }

  #create(spec: ContainerSpec): string {
    const image = checkSpec(spec, this.#info.ncpu, this.#images);
    const id = newContainerId(this.#prng, (id) => this.#containers.has(id));
    const name = containerName(spec, id, this.#containers.values());
    const c = newContainer(spec, image, {
      seq: ++this.#seq,
      id,
      name,
      createdAt: this.#clock.now(),
    });
    this.#containers.set(id, c);
    this.#emit(c, "create");
    return id;
  }

  #start(c: MemoryContainer): void {
    if (c.state === "running") return; // already started
    if (c.state === "paused") {
      throw new ConflictError(
        `Docker start ${c.id.slice(0, 12)}: cannot start a paused container, try unpause instead`,
      );
    }
    c.published = allocatePorts(c, this.#containers.values());
    c.state = "running";
    c.startedAt = this.#clock.now();
    c.pid = this.#nextPid++;
    this.#emit(c, "start");
  }

  /** Running or paused → exited: a `die` event, its ports freed, its log streams end. */
  #exit(c: MemoryContainer): void {
    c.state = "exited";
    c.pid = 0;
    c.published = [];
    this.#emit(c, "die");
    this.#streams.endLogs(c.id);
  }

  #emit(c: MemoryContainer, action: string): void {
    this.#streams.emit(c.id, c.labels, action, this.#clock.now());
  }

  #summaries(keep: (c: MemoryContainer) => boolean): ContainerSummary[] {
    return summaries(this.#containers.values(), keep);
  }
}

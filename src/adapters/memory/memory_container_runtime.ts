/**
 * An in-memory `ContainerRuntime` for fast unit tests of the agent and its loop without Docker.
 * It passes the same contract as the Docker adapter (`tests/contract/container_runtime_contract.ts`)
 * and copies the engine's observable behaviour, quirks included:
 *
 * - `create` refuses a name in use (`ConflictError`), an image it lacks (`NotFoundError`), a
 *   malformed name, a memory limit under 6 MiB and a malformed or unavailable cpuset
 *   (`GruError`, Docker's HTTP 400). Image labels are merged under the spec's labels.
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
 *   any state. Lists are newest first.
 * - Containers are found by full id, by name or by a unique id prefix.
 * - Events: create; start; kill, die, stop (stop of a running container); kill, die, destroy
 *   (removal of a running one); destroy; pause; unpause; die alone (the container's process
 *   ended, see `kill`); oom, die (see `kill` with `oom`). They reach the `events` subscribers
 *   whose labels all match, asynchronously (as a real stream delivers them after the call).
 * - `followLogs` of a created or exited container resolves at once, as Docker ends such a
 *   stream; a followed container that stops or goes away ends its streams.
 *
 * Test controls: `addImage`/`removeImage`, `emitLog`, `kill`, `pause`, `failNext`,
 * `clearFailures`, `down`/`up`, `settle`, and the `calls` log.
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
import { ConflictError, GruError, NotFoundError, UnavailableError } from "../../domain/errors.ts";

/** The fake's container states (Docker's, minus the transient ones). */
export type MemoryContainerState = "created" | "running" | "paused" | "exited";

/** Names of the port's methods, for `failNext` and the `calls` log. */
export type RuntimeMethod = Exclude<keyof ContainerRuntime, "close">;

/** One recorded call. */
export interface RuntimeCall {
  method: RuntimeMethod;
  args: unknown[];
}

/** An image the fake has. */
export interface MemoryImage {
  /** Labels every container of this image inherits (the spec's labels win). */
  labels?: Record<string, string>;
}

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

interface Container {
  seq: number;
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  state: MemoryContainerState;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt: number;
  pid: number;
  cpusetCpus: string;
  memory: number;
  /** `"80/tcp"` → host port as configured (0: any free port), sorted by key. */
  bindings: Record<string, number>;
  /** Host ports held while running or paused (a free one picked for each 0). */
  published: { port: number; proto: string }[];
}

interface Subscriber {
  labels: Record<string, string>;
  onEvent: (event: RuntimeEvent) => void;
  stop: (err?: unknown) => void;
}

interface Follower {
  id: string;
  onLine: (line: string) => void;
  stop: (err?: unknown) => void;
}

/** Longest log line passed on, in bytes (as the Docker adapter cuts them). */
const MAX_LINE_BYTES = 4096;
/** First host port Docker picks for a binding to port 0. */
const EPHEMERAL_FROM = 32768;
/** Docker's smallest memory limit. */
const MIN_MEMORY = 6 * 1024 * 1024;
/** Docker's container name syntax. */
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Attribute keys the Docker adapter cannot tell from labels in an event, so drops. */
const NON_LABEL_ATTRIBUTES = new Set(["name", "image", "exitCode", "execID", "signal"]);

/** `name` → `name:latest`; references with a tag or digest are kept. */
function normalizeImage(ref: string): string {
  if (ref.includes("@")) return ref;
  const lastPart = ref.slice(ref.lastIndexOf("/") + 1);
  return lastPart.includes(":") ? ref : `${ref}:latest`;
}

/** Whether `have` includes every pair of `want`. */
function matches(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** The CPUs of a cpuset (`"0,2-3"`), or undefined when malformed (Docker's syntax). */
function parseCpuset(cpuset: string): number[] | undefined {
  if (cpuset === "") return [];
  const out: number[] = [];
  for (const part of cpuset.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return undefined;
    for (let c = from; c <= to; c++) out.push(c);
  }
  return out;
}

/** Cuts `line` to `MAX_LINE_BYTES` UTF-8 bytes on a character boundary. */
function cutLine(line: string): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= MAX_LINE_BYTES) return line;
  let end = MAX_LINE_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** The fake engine. */
export class MemoryContainerRuntime implements ContainerRuntime {
  readonly #clock: Clock;
  readonly #prng: Prng | undefined;
  readonly #images = new Map<string, MemoryImage>();
  readonly #containers = new Map<string, Container>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #followers = new Set<Follower>();
  readonly #failures = new Map<RuntimeMethod, unknown[]>();
  readonly #calls: RuntimeCall[] = [];
  #info: EngineInfo;
  #down = false;
  #seq = 0;
  #nextPid = 1000;
  #pending: (() => void)[] = [];
  #draining: Promise<void> | undefined;

  constructor(options: MemoryContainerRuntimeOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#prng = options.prng;
    this.#info = {
      ncpu: options.ncpu ?? 4,
      memTotal: options.memTotal ?? 8 * 1024 ** 3,
      serverVersion: options.serverVersion ?? "memory",
    };
    const images = options.images ?? [];
    if (Array.isArray(images)) { for (const ref of images) this.addImage(ref); }
    else for (const [ref, image] of Object.entries(images)) this.addImage(ref, image);
  }

  // ───────────────────────────── test controls ─────────────────────────────

  /** Every port call so far (also the failed ones), oldest first. */
  get calls(): readonly RuntimeCall[] {
    return this.#calls;
  }

  /** Whether `down()` is in force. */
  get isDown(): boolean {
    return this.#down;
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
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) {
      queue.push(error ?? new UnavailableError(`Docker ${method} failed: injected failure`));
    }
    this.#failures.set(method, queue);
  }

  /** Drops every failure queued by `failNext`. */
  clearFailures(): void {
    this.#failures.clear();
  }

  /**
   * The engine becomes unreachable: every call throws `UnavailableError` until `up()`, and every
   * open event and log stream rejects with `UnavailableError`. Containers keep their state.
   */
  down(): void {
    this.#down = true;
    const err = () => new UnavailableError("Docker engine unreachable (memory runtime is down)");
    for (const s of [...this.#subscribers]) s.stop(err());
    for (const f of [...this.#followers]) f.stop(err());
  }

  /** The engine is reachable again. Streams that `down()` broke stay broken: reconnect. */
  up(): void {
    this.#down = false;
  }

  /**
   * The container's process ends on its own (a crash, or a kill from outside the agent):
   * state `exited`, a `die` event (an `oom` event first with `oom`), its log streams end.
   * Throws `NotFoundError` if missing and `ConflictError` if not running or paused.
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
   * `\r` is dropped from each). A container that is not running writes nothing. Delivery is
   * asynchronous, in order; `await settle()` to wait for it. `NotFoundError` if missing.
   */
  emitLog(idOrName: string, line: string, _stream: "stdout" | "stderr" = "stdout"): void {
    const c = this.#find(idOrName, "logs");
    if (c.state !== "running" && c.state !== "paused") return;
    const lines = line.split("\n").map((l) => cutLine(l.endsWith("\r") ? l.slice(0, -1) : l));
    for (const f of this.#followers) {
      if (f.id !== c.id) continue;
      this.#deliver(() => {
        if (!this.#followers.has(f)) return;
        for (const l of lines) {
          try {
            f.onLine(l);
          } catch (err) {
            f.stop(err); // a caller's callback threw: its stream rejects, like the adapter's
            return;
          }
        }
      });
    }
  }

  /** Resolves once every event and log line emitted so far has been delivered. */
  async settle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** The fake's record of a container (a copy), or undefined. */
  peek(idOrName: string): ContainerDetails | undefined {
    const c = this.#resolve(idOrName);
    return c && this.#details(c);
  }

  // ───────────────────────────── the port ─────────────────────────────

  info(): Promise<EngineInfo> {
    return this.#call("info", [], () => ({ ...this.#info }));
  }

  list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.#call("list", [labels], () => this.#summaries((c) => matches(c.labels, labels)));
  }

  listAll(): Promise<ContainerSummary[]> {
    return this.#call("listAll", [], () => this.#summaries(() => true));
  }

  inspect(id: string): Promise<ContainerDetails> {
    return this.#call("inspect", [id], () => this.#details(this.#find(id, "inspect")));
  }

  create(spec: ContainerSpec): Promise<string> {
    return this.#call("create", [spec], () => this.#create(spec));
  }

  start(id: string): Promise<void> {
    return this.#call("start", [id], () => this.#start(this.#find(id, "start")));
  }

  stop(id: string, timeoutSeconds: number): Promise<void> {
    return this.#call("stop", [id, timeoutSeconds], () => {
      const c = this.#find(id, "stop");
      if (c.state !== "running" && c.state !== "paused") return; // already stopped
      this.#emit(c, "kill");
      this.#exit(c);
      this.#emit(c, "stop");
    });
  }

  remove(id: string): Promise<void> {
    return this.#call("remove", [id], () => {
      const c = this.#resolve(id);
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
    return this.#call("unpause", [id], () => {
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
    if (signal.aborted) return this.#record("events", [labels]);
    return this.#call("events", [labels], () => {
      if (signal.aborted) return Promise.resolve();
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const sub: Subscriber = {
        labels: { ...labels },
        onEvent,
        stop: (err) => {
          if (!this.#subscribers.delete(sub)) return;
          signal.removeEventListener("abort", onAbort);
          if (err === undefined) resolve();
          else reject(err);
        },
      };
      const onAbort = () => sub.stop();
      this.#subscribers.add(sub);
      signal.addEventListener("abort", onAbort, { once: true });
      return promise;
    });
  }

  followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return this.#record("followLogs", [id]);
    return this.#call("followLogs", [id], () => {
      if (signal.aborted) return Promise.resolve();
      const c = this.#find(id, "logs");
      // Docker ends the log stream of a container that is not running at once.
      if (c.state !== "running" && c.state !== "paused") return Promise.resolve();
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const follower: Follower = {
        id: c.id,
        onLine,
        stop: (err) => {
          if (!this.#followers.delete(follower)) return;
          signal.removeEventListener("abort", onAbort);
          if (err === undefined) resolve();
          else reject(err);
        },
      };
      const onAbort = () => follower.stop();
      this.#followers.add(follower);
      signal.addEventListener("abort", onAbort, { once: true });
      return promise;
    });
  }

  hasImage(image: string): Promise<boolean> {
    return this.#call("hasImage", [image], () => this.#images.has(normalizeImage(image)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // ───────────────────────────── internals ─────────────────────────────

  /** Records a call that returns at once (an already aborted stream). */
  #record(method: RuntimeMethod, args: unknown[]): Promise<void> {
    this.#calls.push({ method, args });
    return Promise.resolve();
  }

  /** Records the call, applies `down()` and queued failures, then runs `body`. */
  async #call<T>(method: RuntimeMethod, args: unknown[], body: () => T | Promise<T>): Promise<T> {
    this.#calls.push({ method, args });
    await Promise.resolve(); // never answer synchronously, like a real engine
    if (this.#down) {
      throw new UnavailableError(`Docker ${method} failed: engine unreachable (memory runtime)`);
    }
    const queue = this.#failures.get(method);
    if (queue?.length) throw queue.shift();
    return await body();
  }

  #resolve(idOrName: string): Container | undefined {
    const byId = this.#containers.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^\//, "");
    for (const c of this.#containers.values()) if (c.name === name) return c;
    if (!/^[0-9a-f]+$/.test(idOrName)) return undefined;
    const hits = [...this.#containers.values()].filter((c) => c.id.startsWith(idOrName));
    if (hits.length > 1) {
      throw new GruError(`Docker: multiple IDs found with provided prefix: ${idOrName}`);
    }
    return hits[0];
  }

  #find(idOrName: string, what: string): Container {
    const c = this.#resolve(idOrName);
    if (!c) {
      throw new NotFoundError(
        `Docker ${what} ${idOrName.slice(0, 12)}: No such container: ${idOrName}`,
      );
    }
    return c;
  }

  #newId(): string {
    const words = new Uint32Array(8);
    if (this.#prng) { for (let i = 0; i < 8; i++) words[i] = Math.floor(this.#prng() * 2 ** 32); }
    else crypto.getRandomValues(words);
    let id: string;
    do {
      id = [...words].map((w) => w.toString(16).padStart(8, "0")).join("");
      words[0] = (words[0]! + 1) >>> 0; // a (vanishingly unlikely) clash: next id
    } while (this.#containers.has(id));
    return id;
  }

  #create(spec: ContainerSpec): string {
    // Docker's order: settings, then the image, then the name.
    const what = `Docker create ${spec.name}`;
    if (spec.memory > 0 && spec.memory < MIN_MEMORY) {
      throw new GruError(`${what}: Minimum memory limit allowed is 6MB`);
    }
    const cpus = parseCpuset(spec.cpusetCpus);
    if (!cpus) {
      throw new GruError(
        `${what}: Invalid value ${spec.cpusetCpus} for cpuset cpus: invalid format: ${spec.cpusetCpus}`,
      );
    }
    if (cpus.some((cpu) => cpu >= this.#info.ncpu)) {
      throw new GruError(
        `${what}: Requested CPUs are not available - requested ${spec.cpusetCpus}, available: 0-${
          this.#info.ncpu - 1
        }`,
      );
    }
    const image = this.#images.get(normalizeImage(spec.image));
    if (!image) throw new NotFoundError(`${what}: No such image: ${normalizeImage(spec.image)}`);
    if (spec.name !== "" && !NAME_RE.test(spec.name)) {
      throw new GruError(
        `${what}: Invalid container name (${spec.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    const id = this.#newId();
    const name = spec.name.replace(/^\//, "") || `container_${id.slice(0, 12)}`;
    const holder = [...this.#containers.values()].find((c) => c.name === name);
    if (holder) {
      throw new ConflictError(
        `${what}: Conflict. The container name "/${name}" is already in use by container "${holder.id}"`,
      );
    }
    const bindings: Record<string, number> = {};
    for (const [guest, host] of Object.entries(spec.portBindings)) {
      bindings[guest.includes("/") ? guest : `${guest}/tcp`] = host;
    }
    const c: Container = {
      seq: ++this.#seq,
      id,
      name,
      image: spec.image,
      labels: { ...image.labels, ...spec.labels },
      state: "created",
      createdAt: this.#clock.now(),
      startedAt: 0,
      pid: 0,
      cpusetCpus: spec.cpusetCpus,
      memory: spec.memory,
      // Docker reports bindings sorted by guest port key.
      bindings: Object.fromEntries(Object.entries(bindings).sort(([a], [b]) => a < b ? -1 : 1)),
      published: [],
    };
    this.#containers.set(id, c);
    this.#emit(c, "create");
    return id;
  }

  #start(c: Container): void {
    if (c.state === "running") return; // already started
    if (c.state === "paused") {
      throw new ConflictError(
        `Docker start ${c.id.slice(0, 12)}: cannot start a paused container, try unpause instead`,
      );
    }
    const taken = new Set<string>();
    for (const other of this.#containers.values()) {
      for (const p of other.published) taken.add(`${p.port}/${p.proto}`);
    }
    const published: { port: number; proto: string }[] = [];
    for (const [guest, host] of Object.entries(c.bindings)) {
      const proto = guest.split("/")[1] ?? "tcp";
      let port = host;
      if (port === 0) {
        port = EPHEMERAL_FROM;
        while (taken.has(`${port}/${proto}`)) port++;
      } else if (taken.has(`${port}/${proto}`)) {
        throw new UnavailableError(
          `Docker start ${c.id.slice(0, 12)} failed: driver failed programming external ` +
            `connectivity on endpoint ${c.name}: Bind for 0.0.0.0:${port} failed: port is ` +
            `already allocated`,
        );
      }
      taken.add(`${port}/${proto}`);
      published.push({ port, proto });
    }
    c.published = published;
    c.state = "running";
    c.startedAt = this.#clock.now();
    c.pid = this.#nextPid++;
    this.#emit(c, "start");
  }

  /** Running or paused → exited: a `die` event, its ports freed, its log streams end. */
  #exit(c: Container): void {
    c.state = "exited";
    c.pid = 0;
    c.published = [];
    this.#emit(c, "die");
    for (const f of [...this.#followers]) {
      if (f.id !== c.id) continue;
      // after the lines already on their way
      this.#deliver(() => f.stop());
    }
  }

  #emit(c: Container, action: string): void {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.labels)) {
      if (!NON_LABEL_ATTRIBUTES.has(k)) labels[k] = v;
    }
    const event: RuntimeEvent = { id: c.id, action, labels, time: this.#clock.now() };
    for (const sub of this.#subscribers) {
      if (!matches(c.labels, sub.labels)) continue;
      this.#deliver(() => {
        if (!this.#subscribers.has(sub)) return;
        try {
          sub.onEvent({ ...event, labels: { ...event.labels } });
        } catch (err) {
          sub.stop(err); // a caller's callback threw: its stream rejects, like the adapter's
        }
      });
    }
  }

  /** Queues a delivery; the queue drains in order on a later microtask. */
  #deliver(task: () => void): void {
    this.#pending.push(task);
    this.#draining ??= (async () => {
      await Promise.resolve();
      while (this.#pending.length) {
        const batch = this.#pending;
        this.#pending = [];
        for (const t of batch) t();
        await Promise.resolve();
      }
      this.#draining = undefined;
    })();
  }

  #summaries(keep: (c: Container) => boolean): ContainerSummary[] {
    return [...this.#containers.values()]
      .filter(keep)
      .sort((a, b) => b.seq - a.seq)
      .map((c) => ({
        id: c.id,
        name: c.name,
        image: c.image,
        labels: { ...c.labels },
        state: c.state,
        created: Math.floor(c.createdAt / 1000),
        // Docker lists published ports of running (and paused) containers only.
        hostPorts: [...new Set(c.published.map((p) => p.port))],
      }));
  }

  #details(c: Container): ContainerDetails {
    const portBindings: Record<string, number[]> = {};
    for (const [guest, host] of Object.entries(c.bindings)) {
      portBindings[guest] = host ? [host] : [];
    }
    return {
      id: c.id,
      name: c.name,
      image: c.image,
      labels: { ...c.labels },
      state: c.state,
      created: Math.floor(c.createdAt / 1000),
      hostPorts: Object.values(portBindings).flat(),
      cpusetCpus: c.cpusetCpus,
      memory: c.memory,
      portBindings,
      startedAt: c.startedAt,
      pid: c.pid,
    };
  }
}

/**
 * The container records of `MemoryContainerRuntime` and the pure rules it applies to them, in
 * Docker's words: image references, the checks `create` makes (memory limit, cpuset, image,
 * name), container ids and lookup by id, name or id prefix, host port allocation on `start`,
 * label matching, and the `list` and `inspect` views of a record.
 *
 * @module
 */

import type {
  ContainerDetails,
  ContainerSpec,
  ContainerSummary,
} from "../../ports/container_runtime.ts";
import { tryParseCpuset } from "../../domain/cpuset.ts";
import type { Prng } from "../../domain/random.ts";
import { ConflictError, GruError, NotFoundError, UnavailableError } from "../../domain/errors.ts";

/** The fake's container states (Docker's, minus the transient ones). */
export type MemoryContainerState = "created" | "running" | "paused" | "exited";

/** An image the fake has. */
export interface MemoryImage {
  /** Labels every container of this image inherits (the spec's labels win). */
  labels?: Record<string, string>;
}

/** A host port a running or paused container holds. */
export interface PublishedPort {
  port: number;
  proto: string;
}

/** The fake's record of one container. */
export interface MemoryContainer {
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
  published: PublishedPort[];
}

/** First host port Docker picks for a binding to port 0. */
const EPHEMERAL_FROM = 32768;
/** Docker's smallest memory limit. */
const MIN_MEMORY = 6 * 1024 * 1024;
/** Docker's container name syntax. */
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Docker's cpuset syntax, stricter than the domain's parser: no spaces, no empty parts. */
const CPUSET_RE = /^(\d+(-\d+)?(,\d+(-\d+)?)*)?$/;

/** `name` → `name:latest`; references with a tag or digest are kept. */
export function normalizeImage(ref: string): string {
  if (ref.includes("@")) return ref;
  const lastPart = ref.slice(ref.lastIndexOf("/") + 1);
  return lastPart.includes(":") ? ref : `${ref}:latest`;
}

/** Whether `have` includes every pair of `want`. */
export function matchesLabels(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** How `create` errors name the call. */
function createWhat(spec: ContainerSpec): string {
  return `Docker create ${spec.name}`;
}

/**
 * Checks `spec` as Docker does before it makes a container, in Docker's order: the memory limit
 * and the cpuset (against `ncpu` CPUs), then the image, then the name's syntax. Returns the
 * image from `images`; throws `GruError` (Docker's HTTP 400) or, for a missing image,
 * `NotFoundError`.
 */
export function checkSpec(
  spec: ContainerSpec,
  ncpu: number,
  images: ReadonlyMap<string, MemoryImage>,
): MemoryImage {
  const what = createWhat(spec);
  if (spec.memory > 0 && spec.memory < MIN_MEMORY) {
    throw new GruError(`${what}: Minimum memory limit allowed is 6MB`);
  }
  const cpus = CPUSET_RE.test(spec.cpusetCpus) ? tryParseCpuset(spec.cpusetCpus) : undefined;
  if (!cpus) {
    throw new GruError(
      `${what}: Invalid value ${spec.cpusetCpus} for cpuset cpus: invalid format: ${spec.cpusetCpus}`,
    );
  }
  if (cpus.some((cpu) => cpu >= ncpu)) {
    throw new GruError(
      `${what}: Requested CPUs are not available - requested ${spec.cpusetCpus}, available: 0-${
        ncpu - 1
      }`,
    );
  }
  const image = images.get(normalizeImage(spec.image));
  if (!image) throw new NotFoundError(`${what}: No such image: ${normalizeImage(spec.image)}`);
  if (spec.name !== "" && !NAME_RE.test(spec.name)) {
    throw new GruError(
      `${what}: Invalid container name (${spec.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  return image;
}

/**
 * A new 64-hex-digit container id for which `taken` is false: from `prng` when given, else from
 * `crypto.getRandomValues`.
 */
export function newContainerId(prng: Prng | undefined, taken: (id: string) => boolean): string {
  const words = new Uint32Array(8);
  if (prng) { for (let i = 0; i < 8; i++) words[i] = Math.floor(prng() * 2 ** 32); }
  else crypto.getRandomValues(words);
  let id: string;
  do {
    id = [...words].map((w) => w.toString(16).padStart(8, "0")).join("");
    words[0] = (words[0]! + 1) >>> 0; // a (vanishingly unlikely) clash: next id
  } while (taken(id));
  return id;
}

/**
 * The name a container made from `spec` with id `id` gets (a generated one for an empty name);
 * `ConflictError` if one of `containers` already has it.
 */
export function containerName(
  spec: ContainerSpec,
  id: string,
  containers: Iterable<MemoryContainer>,
): string {
  const name = spec.name.replace(/^\//, "") || `container_${id.slice(0, 12)}`;
  const holder = [...containers].find((c) => c.name === name);
  if (holder) {
    throw new ConflictError(
      `${createWhat(spec)}: Conflict. The container name "/${name}" is already in use by ` +
        `container "${holder.id}"`,
    );
  }
  return name;
}

/**
 * The record of a new container made from `spec` and `image`, in state `created`: labels of the
 * image under the spec's, port bindings keyed `"80/tcp"` (a bare `"80"` means TCP) and sorted
 * by key, as Docker reports them.
 */
export function newContainer(
  spec: ContainerSpec,
  image: MemoryImage,
  fields: Pick<MemoryContainer, "seq" | "id" | "name" | "createdAt">,
): MemoryContainer {
  const bindings: Record<string, number> = {};
  for (const [guest, host] of Object.entries(spec.portBindings)) {
    bindings[guest.includes("/") ? guest : `${guest}/tcp`] = host;
  }
  return {
    ...fields,
    image: spec.image,
    labels: { ...image.labels, ...spec.labels },
    state: "created",
    startedAt: 0,
    pid: 0,
    cpusetCpus: spec.cpusetCpus,
    memory: spec.memory,
    bindings: Object.fromEntries(Object.entries(bindings).sort(([a], [b]) => a < b ? -1 : 1)),
    published: [],
  };
}

/**
 * The host ports `c` would hold once started, given the ones `containers` hold: a binding to
 * port 0 gets the first free port from 32768 on. `UnavailableError` (Docker's "port is already
 * allocated") if a configured port is held.
 */
export function allocatePorts(
  c: MemoryContainer,
  containers: Iterable<MemoryContainer>,
): PublishedPort[] {
  const taken = new Set<string>();
  for (const other of containers) {
    for (const p of other.published) taken.add(`${p.port}/${p.proto}`);
  }
  const published: PublishedPort[] = [];
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
  return published;
}

/**
 * The container `idOrName` names: by full id, by name (with or without a leading `/`) or by a
 * unique id prefix; undefined if none. `GruError` for a prefix of several ids.
 */
export function resolveContainer(
  containers: ReadonlyMap<string, MemoryContainer>,
  idOrName: string,
): MemoryContainer | undefined {
  const byId = containers.get(idOrName);
  if (byId) return byId;
  const name = idOrName.replace(/^\//, "");
  for (const c of containers.values()) if (c.name === name) return c;
  if (!/^[0-9a-f]+$/.test(idOrName)) return undefined;
  const hits = [...containers.values()].filter((c) => c.id.startsWith(idOrName));
  if (hits.length > 1) {
    throw new GruError(`Docker: multiple IDs found with provided prefix: ${idOrName}`);
  }
  return hits[0];
}

/** Like `resolveContainer`, but `NotFoundError` (naming the call `what`) if there is none. */
export function findContainer(
  containers: ReadonlyMap<string, MemoryContainer>,
  idOrName: string,
  what: string,
): MemoryContainer {
  const c = resolveContainer(containers, idOrName);
  if (!c) {
    throw new NotFoundError(
      `Docker ${what} ${idOrName.slice(0, 12)}: No such container: ${idOrName}`,
    );
  }
  return c;
}

/** What the `list` and `inspect` views of `c` share (copies). */
function view(c: MemoryContainer): Omit<ContainerSummary, "hostPorts"> {
  return {
    id: c.id,
    name: c.name,
    image: c.image,
    labels: { ...c.labels },
    state: c.state,
    created: Math.floor(c.createdAt / 1000),
  };
}

/** The `list` view of the containers `keep` accepts, newest first. */
export function summaries(
  containers: Iterable<MemoryContainer>,
  keep: (c: MemoryContainer) => boolean,
): ContainerSummary[] {
  return [...containers]
    .filter(keep)
    .sort((a, b) => b.seq - a.seq)
    .map((c) => ({
      ...view(c),
      // Docker lists published ports of running (and paused) containers only.
      hostPorts: [...new Set(c.published.map((p) => p.port))],
    }));
}

/** The `inspect` view of `c` (a copy): its configured bindings in any state. */
export function details(c: MemoryContainer): ContainerDetails {
  const portBindings: Record<string, number[]> = {};
  for (const [guest, host] of Object.entries(c.bindings)) {
    portBindings[guest] = host ? [host] : [];
  }
  return {
    ...view(c),
    hostPorts: Object.values(portBindings).flat(),
    cpusetCpus: c.cpusetCpus,
    memory: c.memory,
    portBindings,
    startedAt: c.startedAt,
    pid: c.pid,
  };
}

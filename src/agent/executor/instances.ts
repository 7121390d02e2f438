/**
 * The instances of this node: lists them from the engine by label (never by image string,
 * docs/compat.md#d27), adopts existing containers' resources at start-up, and starts and stops instances
 * through the resource ledger, one action at a time.
 *
 * Every start, stop and refresh runs in one serial queue, and the bounds are checked inside
 * it, on a listing taken there: whatever was decided before (by the loop or by a manual
 * command) is checked again against what is true when the action runs.
 * - a start is refused (409) when this node already has `MaxInstances` (0 = no limit) of the
 *   service running or starting;
 * - a stop is refused (409) when it would take the service below its floor, unless forced:
 *   for a base service of this node the floor is `max(1, MinInstances)` instances on this node
 *   (what upkeep keeps); for any other service it is `MinInstances` instances cluster-wide,
 *   counted as this node's instances plus those the live peers last reported. A stopped
 *   instance can always be removed.
 *
 * @module
 */

import type { ContainerRuntime, ContainerSummary } from "../../ports/container_runtime.ts";
import {
  type Instance,
  type InstanceStatus,
  LABEL_CLUSTER,
  LABEL_NODE,
  LABEL_SERVICE,
  type ServiceDescriptor,
} from "../../domain/model.ts";
import { getLogger } from "@logtape/logtape";
import {
  ConflictError,
  errorMessage,
  NotFoundError,
  ValidationError,
} from "../../domain/errors.ts";
import type { Clock } from "../../domain/clock.ts";
import { newUuidHex } from "../../domain/random.ts";
import { ResourceLedger } from "./resources.ts";
import { parseCpuset } from "../../domain/cpuset.ts";
import { buildContainerSpec, type SpecContext } from "./container_spec.ts";

const log = getLogger(["gru", "agent", "instances"]);

/** What the bound checks read of the rest of the agent, at the moment an action runs. */
export interface InstanceBounds {
  /** Whether `service` is a base service of this node. */
  isBase(service: string): boolean;
  /** Running and pending instances of `service` on the other live nodes, as last heard. */
  elsewhere(service: string): number;
}

/** Options of `InstanceManager`. */
export interface InstanceManagerOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  cluster: string;
  node: string;
  spec: Omit<SpecContext, "suffix" | "cluster" | "node">;
  /** Absent: no base services and no peers (a cluster of one). */
  bounds?: InstanceBounds | undefined;
  /**
   * Runs before a running instance is stopped, inside the action queue: withdraws it from
   * discovery and waits for load balancers to drain it (the agent's wiring). A failure is
   * logged; the stop goes on.
   */
  beforeStop?: ((instance: Instance) => Promise<void>) | undefined;
}

/** Options of `InstanceManager.stop`. */
export interface StopOptions {
  /** The instance (id or id prefix); else the newest running one. */
  id?: string | undefined;
  /** Stop even below the service's floor (manual commands only). */
  force?: boolean | undefined;
}

function statusOf(state: string): InstanceStatus {
  if (state === "running" || state === "restarting") return "running";
  if (state === "paused") return "paused";
  return "stopped";
}

/** Starts, stops and lists this node's instances. */
export class InstanceManager {
  readonly ledger = new ResourceLedger({ cpus: 0, memory: 0 });
  #options: InstanceManagerOptions;
  #known = new Map<string, Instance>();
  #queue: Promise<unknown> = Promise.resolve();
  /** A refresh queued and not begun yet, which later callers share. */
  #queuedRefresh: Promise<Instance[]> | undefined;

  constructor(options: InstanceManagerOptions) {
    this.#options = options;
  }

  get #labels(): Record<string, string> {
    return { [LABEL_CLUSTER]: this.#options.cluster, [LABEL_NODE]: this.#options.node };
  }

  /** Runs `fn` after every earlier action: one action at a time on this node. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Reads the engine's totals and adopts every managed container of this node. */
  async init(): Promise<void> {
    const info = await this.#options.runtime.info();
    this.ledger.setTotals({ cpus: info.ncpu, memory: info.memTotal });
    await this.refresh();
  }

  /**
   * Lists this node's containers, adopting new ones (their cores, memory and ports go into
   * the ledger) and forgetting removed ones. It runs in the serial queue, so it never sees a
   * start or a stop half done (a listing taken before a start's create and applied after it
   * would drop the new instance and release its reservation). Callers arriving while a
   * refresh is queued and not begun share it.
   */
  refresh(): Promise<Instance[]> {
    if (this.#queuedRefresh) return this.#queuedRefresh;
    const queued = this.serial(() => {
      this.#queuedRefresh = undefined;
      return this.#refresh();
    });
    this.#queuedRefresh = queued;
    return queued;
  }

  async #refresh(): Promise<Instance[]> {
    const listed = await this.#options.runtime.list(this.#labels);
    const seen = new Set<string>();
    for (const c of listed) {
      seen.add(c.id);
      const known = this.#known.get(c.id);
      if (known) {
        const status = statusOf(c.state);
        if (status !== known.status) {
          // Restarted or stopped meanwhile: its pid and start time changed. Re-read it in
          // place, so a concurrent list() never misses it.
          await this.#adopt(c);
        }
        continue;
      }
      await this.#adopt(c);
    }
    for (const id of [...this.#known.keys()]) {
      if (!seen.has(id)) {
        this.#known.delete(id);
        this.ledger.release(id);
      }
    }
    return this.list();
  }

  async #adopt(c: ContainerSummary): Promise<void> {
    let d;
    try {
      d = await this.#options.runtime.inspect(c.id);
    } catch (err) {
      if (err instanceof NotFoundError) {
        // Removed meanwhile.
        this.#known.delete(c.id);
        this.ledger.release(c.id);
        return;
      }
      throw err;
    }
    let cpus: number[] = [];
    try {
      cpus = parseCpuset(d.cpusetCpus);
    } catch {
      cpus = [];
    }
    const ports: Record<string, number> = {};
    for (const [guest, hosts] of Object.entries(d.portBindings)) {
      if (hosts[0] !== undefined) ports[guest.replace(/\/tcp$/, "")] = hosts[0];
    }
    const service = d.labels[LABEL_SERVICE] ?? "";
    this.ledger.adopt({ key: d.id, service, cpus, memory: d.memory, ports });
    this.#known.set(d.id, {
      id: d.id,
      name: d.name,
      service,
      status: statusOf(d.state),
      cpus,
      memory: d.memory,
      ports: Object.entries(ports).map(([guest, host]) => ({ guest, host })),
      startedAt: d.startedAt || d.created * 1000,
      pid: d.pid,
    });
  }

  /** The instances known from the last refresh, oldest first. */
  list(service?: string): Instance[] {
    return [...this.#known.values()]
      .filter((i) => service === undefined || i.service === service)
      .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id))
      .map((i) => ({ ...i, cpus: [...i.cpus], ports: i.ports.map((p) => ({ ...p })) }));
  }

  /**
   * Starts one new instance of `service`: reserve, create, start. On any failure the
   * reservation is released and a created container removed, so nothing leaks.
   */
  start(service: ServiceDescriptor): Promise<Instance> {
    return this.serial(async () => {
      const rt = this.#options.runtime;
      if (!(await rt.hasImage(service.image))) {
        throw new ValidationError(
          `Cannot start ${service.name}: image "${service.image}" is not on this node's engine`,
        );
      }
      await this.#refresh();
      const live = this.list(service.name).filter((i) => i.status !== "stopped").length;
      const max = service.maxInstances;
      if (max > 0 && live >= max) {
        throw new ConflictError(
          `Cannot start ${service.name} on node ${this.#options.node}: max instances reached ` +
            `(${live} of ${max} on this node)`,
        );
      }
      // A stopped instance keeps its cores and ports: start it again rather than leak them
      // (as the original's start did; docs/compat.md#diff-commands).
      const stopped = this.list(service.name).find((i) => i.status === "stopped");
      if (stopped) {
        try {
          await rt.start(stopped.id);
          const d = await rt.inspect(stopped.id);
          await this.#adopt({ ...d, hostPorts: d.hostPorts });
          const again = this.#known.get(stopped.id);
          if (again) {
            return { ...again, cpus: [...again.cpus], ports: again.ports.map((p) => ({ ...p })) };
          }
        } catch (err) {
          // A stopped container that will not start again would block its service for good
          // (after an engine restart, containerd can keep its dead task: "task … already
          // exists"): remove it and create a fresh one instead.
          log.warn("Cannot start stopped {service} instance {id} again ({error}): replacing it", {
            service: service.name,
            id: stopped.id.slice(0, 12),
            error: errorMessage(err),
          });
          await rt.remove(stopped.id).catch(() => {});
          this.#known.delete(stopped.id);
          this.ledger.release(stopped.id);
        }
      }
      this.ledger.setForeignPorts((await rt.listAll()).flatMap((c) => c.hostPorts));
      const suffix = newUuidHex();
      const provisional = `pending-${suffix}`;
      const r = this.ledger.reserve(service, provisional);
      let id: string | undefined;
      try {
        const spec = buildContainerSpec(service, r, {
          ...this.#options.spec,
          cluster: this.#options.cluster,
          node: this.#options.node,
          suffix,
        });
        id = await rt.create(spec);
        this.ledger.rekey(provisional, id);
        await rt.start(id);
        const started = await rt.inspect(id).catch(() => undefined);
        const inst: Instance = {
          id,
          name: spec.name,
          service: service.name,
          status: "running",
          cpus: r.cpus,
          memory: r.memory,
          ports: Object.entries(r.ports).map(([guest, host]) => ({ guest, host })),
          startedAt: this.#options.clock.now(),
          pid: started?.pid ?? 0,
        };
        this.#known.set(id, inst);
        return { ...inst };
      } catch (err) {
        this.ledger.release(provisional);
        if (id) {
          this.ledger.release(id);
          await rt.remove(id).catch(() => {});
        }
        throw err;
      }
    });
  }

  /**
   * Stops and removes one instance of `service`: the given `id`, else the newest running one.
   * Its resources are released once it is gone.
   */
  stop(service: ServiceDescriptor, options: StopOptions = {}): Promise<Instance> {
    return this.serial(async () => {
      await this.#refresh();
      const mine = this.list(service.name);
      let target: Instance | undefined;
      if (options.id) {
        target = mine.find((i) => i.id === options.id || i.id.startsWith(options.id!));
        if (!target) {
          throw new NotFoundError(
            `No instance "${options.id}" of service ${service.name} on node ${this.#options.node}`,
          );
        }
      } else {
        const running = mine.filter((i) => i.status !== "stopped");
        target = running.at(-1) ?? mine.at(-1);
        if (!target) {
          throw new NotFoundError(
            `No instance of service ${service.name} on node ${this.#options.node}`,
          );
        }
      }
      if (target.status !== "stopped" && !options.force) this.#checkFloor(service, mine, target);
      if (target.status === "running" && this.#options.beforeStop) {
        await this.#options.beforeStop(target).catch((err) =>
          log.warn("Cannot drain {service} instance {id} before stopping it: {error}", {
            service: service.name,
            id: target.id.slice(0, 12),
            error: errorMessage(err),
          })
        );
      }
      const rt = this.#options.runtime;
      // A stop that fails (say the request ran out of time) still ends in a forced remove: the
      // instance is on its way out either way. Only a failed remove fails the stop.
      await rt.stop(target.id, service.configuration.stopTimeout).catch(() => {});
      await rt.remove(target.id);
      this.#known.delete(target.id);
      this.ledger.release(target.id);
      return { ...target, status: "stopped" };
    });
  }

  /** Throws `ConflictError` when stopping `target` would take `service` below its floor. */
  #checkFloor(service: ServiceDescriptor, mine: Instance[], target: Instance): void {
    const live = mine.filter((i) => i.status !== "stopped").length;
    const bounds = this.#options.bounds;
    const what =
      `Cannot stop ${service.name} instance ${target.name} on node ${this.#options.node}`;
    const force = `; stop it with force: true to go below anyway`;
    if (bounds?.isBase(service.name)) {
      const floor = Math.max(1, service.minInstances);
      if (live - 1 < floor) {
        throw new ConflictError(
          `${what}: it is a base service of this node, which keeps ${floor} ` +
            `(${live} running here)${force}`,
        );
      }
      return;
    }
    const min = service.minInstances;
    const total = live + (bounds?.elsewhere(service.name) ?? 0);
    if (min > 0 && total - 1 < min) {
      throw new ConflictError(
        `${what}: min instances reached (${total} of ${min} cluster-wide, ${live} here)${force}`,
      );
    }
  }

  /** Throws `ConflictError` unless the node could host one more instance. */
  assertCanHost(service: ServiceDescriptor): void {
    const r = this.ledger.canHost(service);
    if (!r.ok) throw new ConflictError(r.reason);
  }
}

/**
 * The node's resource ledger: cores, memory and host ports. A start reserves what the new
 * container needs *before* it is created, so two quick starts never get the same core or port
 * (docs/compat.md#d19); a failed start or a removal releases it. Pure: no I/O.
 *
 * @module
 */

import { ConflictError } from "../../domain/errors.ts";
import type { NodeCapacity, ServiceDescriptor } from "../../domain/model.ts";
import { memoryLimitBytes } from "../../domain/size.ts";
import { expandPortRange } from "../../domain/port_range.ts";
import { parseCpuset } from "../../domain/cpuset.ts";

/** What one instance holds. */
export interface Reservation {
  /** Instance key: the container id once known, a provisional key before. */
  key: string;
  service: string;
  cpus: number[];
  /** Bytes. */
  memory: number;
  /** Guest port → host port. */
  ports: Record<string, number>;
}

/** Free capacity as seen by the ledger. */
export interface LedgerView {
  totalCpus: number;
  freeCpus: number[];
  totalMemory: number;
  usedMemory: number;
  reservations: Reservation[];
}

/** The ledger. */
export class ResourceLedger {
  #totalCpus: number;
  #totalMemory: number;
  #byKey = new Map<string, Reservation>();
  /** Host ports used by containers the ledger does not own (other agents, other software). */
  #foreignPorts = new Set<number>();

  constructor(totals: { cpus: number; memory: number }) {
    this.#totalCpus = totals.cpus;
    this.#totalMemory = totals.memory;
  }

  /** Updates totals (the engine's NCPU and MemTotal). */
  setTotals(totals: { cpus: number; memory: number }): void {
    this.#totalCpus = totals.cpus;
    this.#totalMemory = totals.memory;
  }

  /** Host ports in use by anything else on the engine. */
  setForeignPorts(ports: Iterable<number>): void {
    const own = new Set([...this.#byKey.values()].flatMap((r) => Object.values(r.ports)));
    this.#foreignPorts = new Set([...ports].filter((p) => !own.has(p)));
  }

  /** A copy of the current state. */
  view(): LedgerView {
    const used = new Set([...this.#byKey.values()].flatMap((r) => r.cpus));
    const freeCpus: number[] = [];
    for (let i = 0; i < this.#totalCpus; i++) if (!used.has(i)) freeCpus.push(i);
    return {
      totalCpus: this.#totalCpus,
      freeCpus,
      totalMemory: this.#totalMemory,
      usedMemory: [...this.#byKey.values()].reduce((s, r) => s + r.memory, 0),
      reservations: [...this.#byKey.values()].map((r) => ({ ...r, ports: { ...r.ports } })),
    };
  }

  /** Cores and memory of the node, and how much of each no instance holds. */
  capacity(): NodeCapacity {
    const v = this.view();
    return {
      totalCpus: v.totalCpus,
      freeCpus: v.freeCpus.length,
      totalMemory: v.totalMemory,
      freeMemory: Math.max(0, v.totalMemory - v.usedMemory),
    };
  }

  /** Cores some instance holds. */
  usedCores(): number[] {
    return [...new Set([...this.#byKey.values()].flatMap((r) => r.cpus))].sort((a, b) => a - b);
  }

  /** Whether the node could host one more instance of `service` (no reservation made). */
  canHost(service: ServiceDescriptor): { ok: true } | { ok: false; reason: string } {
    try {
      this.#plan(service, "probe");
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  /**
   * Reserves cores, memory and one host port per guest port for a new instance of `service`.
   * Throws `ConflictError` naming what is short.
   */
  reserve(service: ServiceDescriptor, key: string): Reservation {
    const r = this.#plan(service, key);
    this.#byKey.set(key, r);
    return r;
  }

  /** Records what an existing container holds (adoption at start-up); overlaps are allowed. */
  adopt(r: Reservation): void {
    this.#byKey.set(r.key, { ...r, ports: { ...r.ports } });
    for (const p of Object.values(r.ports)) this.#foreignPorts.delete(p);
  }

  /** Moves a reservation to a new key (provisional key → container id). */
  rekey(from: string, to: string): void {
    const r = this.#byKey.get(from);
    if (!r) return;
    this.#byKey.delete(from);
    this.#byKey.set(to, { ...r, key: to });
  }

  /** Releases what `key` holds; unknown keys are ignored. */
  release(key: string): void {
    this.#byKey.delete(key);
  }

  /** The reservation held under `key`. */
  get(key: string): Reservation | undefined {
    return this.#byKey.get(key);
  }

  #plan(service: ServiceDescriptor, key: string): Reservation {
    const cfg = service.configuration;
    const view = this.view();
    let cpus: number[] = [];
    if (cfg.cpusetCpus) {
      cpus = parseCpuset(cfg.cpusetCpus);
      const bad = cpus.filter((c) => c >= view.totalCpus);
      if (bad.length) {
        throw new ConflictError(
          `Cannot place ${service.name}: cpuset "${cfg.cpusetCpus}" names cores ${bad.join(",")} ` +
            `but the node has ${view.totalCpus}`,
        );
      }
      const busy = cpus.filter((c) => !view.freeCpus.includes(c));
      if (busy.length) {
        throw new ConflictError(
          `Cannot place ${service.name}: cores ${
            busy.join(",")
          } of cpuset "${cfg.cpusetCpus}" are taken`,
        );
      }
    } else if (cfg.cpuNumber > 0) {
      if (view.freeCpus.length < cfg.cpuNumber) {
        throw new ConflictError(
          `Cannot place ${service.name}: needs ${cfg.cpuNumber} free cores, ` +
            `${view.freeCpus.length} of ${view.totalCpus} free`,
        );
      }
      cpus = view.freeCpus.slice(0, cfg.cpuNumber);
    }
    const memory = memoryLimitBytes(cfg.memory);
    if (memory > 0 && view.usedMemory + memory > view.totalMemory) {
      throw new ConflictError(
        `Cannot place ${service.name}: needs ${memory} bytes of memory, ` +
          `${Math.max(0, view.totalMemory - view.usedMemory)} free`,
      );
    }
    const taken = new Set([
      ...this.#foreignPorts,
      ...view.reservations.flatMap((r) => Object.values(r.ports)),
    ]);
    const ports: Record<string, number> = {};
    for (const [guest, range] of Object.entries(cfg.ports)) {
      const free = expandPortRange(range).find((p) => !taken.has(p));
      if (free === undefined) {
        throw new ConflictError(
          `Cannot place ${service.name}: no free host port in ${range} for guest port ${guest}`,
        );
      }
      ports[guest] = free;
      taken.add(free);
    }
    return { key, service: service.name, cpus, memory, ports };
  }
}

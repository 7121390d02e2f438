/**
 * The agent's bounded in-memory history, for the console's charts (`GET /gru/v1/history`): per
 * service, one sample per loop tick (running and pending instances, `cpu_avg`, `memory_avg`,
 * each analytic) over the last hour, and the decisions that did something as markers (scale-out,
 * scale-in, swap, blocked, dry-run, failed) with their reasons. The record phase feeds it.
 *
 * Memory is bounded whatever the loop interval: samples older than the window are dropped, each
 * service keeps at most `maxSamples` (in column arrays that grow by doubling up to that bound),
 * at most `maxServices` services and `maxAnalytics` analytics per service are tracked, and at
 * most `maxMarkers` markers are kept.
 *
 * @module
 */

import type { DecisionRecord } from "./decisions.ts";

/** How long samples are kept by default: one hour. */
export const HISTORY_WINDOW_MS = 3_600_000;

/** Bounds of a {@linkcode ServiceHistory}. */
export interface HistoryBounds {
  /** Samples older than this (relative to the newest tick) are dropped. @default one hour */
  windowMs: number;
  /** Most samples per service (one hour at a 1 s loop). @default 3600 */
  maxSamples: number;
  /** Most services tracked; ticks of further services are not kept. @default 64 */
  maxServices: number;
  /** Most analytics per service. @default 16 */
  maxAnalytics: number;
  /** Most decision markers kept. @default 1000 */
  maxMarkers: number;
  /** Most reasons per marker (each cut to 300 characters). @default 8 */
  maxReasons: number;
}

const DEFAULTS: HistoryBounds = {
  windowMs: HISTORY_WINDOW_MS,
  maxSamples: 3600,
  maxServices: 64,
  maxAnalytics: 16,
  maxMarkers: 1000,
  maxReasons: 8,
};

/** What a marker says happened. */
export type MarkerKind = "scale-out" | "scale-in" | "swap" | "blocked" | "dry-run" | "failed";

/** A decision that did (or would have done) something to a service. */
export interface HistoryMarker {
  /** Milliseconds since the epoch. */
  t: number;
  service: string;
  kind: MarkerKind;
  /** The chosen policy, or `upkeep` for base-service and cluster-bound actions. */
  policy: string;
  /** The decision's outcome (`executed`, `dry-run`, `blocked`, `failed`, `none`). */
  outcome: string;
  reasons: string[];
}

/** One service's samples as columns (unknown figures are `null`). */
export interface SeriesView {
  t: number[];
  running: number[];
  pending: number[];
  cpuAvg: (number | null)[];
  memoryAvg: (number | null)[];
  analytics: Record<string, (number | null)[]>;
}

/** State of the node's metric sink (InfluxDB) as the last ticks saw it. */
export type SinkState = "ok" | "down" | "off";

/** What `GET /gru/v1/history` answers. */
export interface HistoryView {
  /** Newest tick time (ms), 0 before the first. */
  now: number;
  windowMs: number;
  influx: SinkState;
  services: Record<string, SeriesView>;
  markers: HistoryMarker[];
}

/** Which part of the history to read. */
export interface HistoryQuery {
  /** One service only (default: all). */
  service?: string | undefined;
  /** Only samples and markers of the last `minutes` (default: the whole window). */
  minutes?: number | undefined;
  /** At most one sample (the last) per `stepMs` of time (default: every sample). */
  stepMs?: number | undefined;
}

const BASE_COLUMNS = 5; // t, running, pending, cpuAvg, memoryAvg

type Column = Float64Array | Float32Array;

/** A column: times need doubles; counts and fractions fit single precision (half the memory). */
function column(c: number | "analytic", length: number): Column {
  return c === 0 ? new Float64Array(length) : new Float32Array(length);
}

/** A ring of samples of one service, stored as typed columns (NaN: unknown). */
export class SeriesRing {
  #cap: number;
  #max: number;
  #start = 0;
  #len = 0;
  #cols: Column[];
  #analytics = new Map<string, Column>();
  #maxAnalytics: number;

  constructor(maxSamples: number, maxAnalytics: number, initial = 64) {
    this.#max = Math.max(1, Math.floor(maxSamples));
    this.#cap = Math.min(this.#max, Math.max(1, initial));
    this.#cols = Array.from({ length: BASE_COLUMNS }, (_, c) => column(c, this.#cap));
    this.#maxAnalytics = maxAnalytics;
  }

  /** How many samples are held. */
  get length(): number {
    return this.#len;
  }

  /** Allocated slots (grows by doubling up to the bound). */
  get capacity(): number {
    return this.#cap;
  }

  /** Time of the newest sample, or -Infinity. */
  get newest(): number {
    return this.#len === 0 ? -Infinity : this.#cols[0]![this.#index(this.#len - 1)]!;
  }

  #index(i: number): number {
    return (this.#start + i) % this.#cap;
  }

  #grow(): void {
    const cap = Math.min(this.#max, this.#cap * 2);
    const copy = (col: Column) => {
      const out = (col instanceof Float64Array ? new Float64Array(cap) : new Float32Array(cap))
        .fill(Number.NaN);
      for (let i = 0; i < this.#len; i++) out[i] = col[this.#index(i)]!;
      return out;
    };
    this.#cols = this.#cols.map(copy);
    for (const [name, col] of this.#analytics) this.#analytics.set(name, copy(col));
    this.#start = 0;
    this.#cap = cap;
  }

  /** Appends one sample (the oldest goes when the ring is full). */
  push(s: {
    t: number;
    running: number;
    pending: number;
    cpuAvg: number | undefined;
    memoryAvg: number | undefined;
    analytics: Record<string, number | undefined>;
  }): void {
    if (this.#len === this.#cap && this.#cap < this.#max) this.#grow();
    let slot: number;
    if (this.#len === this.#cap) {
      slot = this.#start;
      this.#start = (this.#start + 1) % this.#cap;
    } else {
      slot = this.#index(this.#len);
      this.#len++;
    }
    const num = (v: number | undefined) => v === undefined || !Number.isFinite(v) ? NaN : v;
    const values = [s.t, s.running, s.pending, num(s.cpuAvg), num(s.memoryAvg)];
    for (let c = 0; c < BASE_COLUMNS; c++) this.#cols[c]![slot] = values[c]!;
    for (const col of this.#analytics.values()) col[slot] = NaN;
    for (const [name, value] of Object.entries(s.analytics)) {
      let col = this.#analytics.get(name);
      if (!col) {
        if (this.#analytics.size >= this.#maxAnalytics) continue;
        col = column("analytic", this.#cap).fill(Number.NaN);
        this.#analytics.set(name, col);
      }
      col[slot] = num(value);
    }
  }

  /** Drops the samples older than `t`. */
  dropBefore(t: number): void {
    const times = this.#cols[0]!;
    while (this.#len > 0 && times[this.#start]! < t) {
      this.#start = (this.#start + 1) % this.#cap;
      this.#len--;
    }
  }

  /** The samples at or after `from`, oldest first; with `stepMs`, the last of each step. */
  view(from: number, stepMs = 0): SeriesView {
    const out: SeriesView = {
      t: [],
      running: [],
      pending: [],
      cpuAvg: [],
      memoryAvg: [],
      analytics: {},
    };
    // Single precision back to the 4 decimals the figures carry.
    const known = (v: number) => Number.isNaN(v) ? null : Math.round(v * 1e4) / 1e4;
    const picked: number[] = [];
    const step = stepMs >= 1 ? stepMs : 0;
    let bucket = NaN;
    for (let i = 0; i < this.#len; i++) {
      const slot = this.#index(i);
      const t = this.#cols[0]![slot]!;
      if (t < from) continue;
      const b = step > 0 ? Math.floor(t / step) : i;
      if (b === bucket) picked[picked.length - 1] = slot;
      else picked.push(slot);
      bucket = b;
    }
    const col = (c: number) => picked.map((slot) => this.#cols[c]![slot]!);
    out.t = col(0);
    out.running = col(1);
    out.pending = col(2);
    out.cpuAvg = col(3).map(known);
    out.memoryAvg = col(4).map(known);
    for (const [name, col] of this.#analytics) {
      out.analytics[name] = picked.map((slot) => known(col[slot]!));
    }
    return out;
  }
}

function cut(reasons: readonly (string | undefined)[], max: number): string[] {
  return reasons.filter((r): r is string => typeof r === "string" && r !== "").slice(0, max)
    .map((r) => r.length > 300 ? `${r.slice(0, 299)}…` : r);
}

const POLICY_KIND: Record<string, MarkerKind> = {
  scaleout: "scale-out",
  scalein: "scale-in",
  swap: "swap",
};

/**
 * The markers of one decision record: one per target of a chosen scaling policy whose outcome is
 * not `none`, and one per other service a container action touched (base-service upkeep, the
 * cluster bounds).
 *
 * @param record The decision record.
 * @param maxReasons Most reasons per marker.
 * @returns The markers, possibly none.
 */
export function markersOf(
  record: DecisionRecord,
  maxReasons = DEFAULTS.maxReasons,
): HistoryMarker[] {
  const out: HistoryMarker[] = [];
  const { chosen, outcome } = record;
  const policyKind = POLICY_KIND[chosen.policy];
  const targeted = new Set<string>();
  if (policyKind && outcome !== "none") {
    const kind: MarkerKind = outcome === "executed" ? policyKind : outcome;
    for (const service of new Set(chosen.targets)) {
      targeted.add(service);
      out.push({
        t: record.time,
        service,
        kind,
        policy: chosen.policy,
        outcome,
        reasons: cut([
          ...(record.trigger ? [`fast path: ${record.trigger.why}`] : []),
          ...chosen.reasons,
          record.why,
        ], maxReasons),
      });
    }
  }
  const byService = new Map<string, typeof record.actions>();
  for (const a of record.actions) {
    if (targeted.has(a.service)) continue;
    byService.set(a.service, [...(byService.get(a.service) ?? []), a]);
  }
  for (const [service, actions] of byService) {
    const failed = actions.some((a) => !a.ok);
    const starts = actions.filter((a) => a.action === "start").length;
    out.push({
      t: record.time,
      service,
      kind: failed ? "failed" : starts * 2 >= actions.length ? "scale-out" : "scale-in",
      policy: "upkeep",
      outcome: failed ? "failed" : "executed",
      reasons: cut(actions.flatMap((a) => [`${a.action}: ${a.why}`, a.error]), maxReasons),
    });
  }
  return out;
}

/** What the sink reported, to tell whether its writes fail. */
export interface SinkReport {
  kind: string;
  written: number;
  failedWrites: number;
}

/** The bounded history of one node's services and decisions. */
export class ServiceHistory {
  #bounds: HistoryBounds;
  #series = new Map<string, SeriesRing>();
  #markers: HistoryMarker[] = [];
  #now = 0;
  #influx: SinkState = "off";
  #lastSink: SinkReport | undefined;

  constructor(bounds: Partial<HistoryBounds> = {}) {
    this.#bounds = { ...DEFAULTS, ...bounds };
  }

  /** Services tracked (for tests and gauges). */
  get serviceCount(): number {
    return this.#series.size;
  }

  /**
   * Adds one tick: a sample per service of the record's inputs and the record's markers; then
   * drops what fell out of the window (and services without samples left).
   *
   * @param record The tick's decision record.
   * @param sink What the metric sink reported after the tick, if there is one.
   */
  add(record: DecisionRecord, sink?: SinkReport): void {
    const t = record.time;
    if (t > this.#now) this.#now = t;
    for (const [name, s] of Object.entries(record.inputs.services)) {
      let ring = this.#series.get(name);
      if (!ring) {
        if (this.#series.size >= this.#bounds.maxServices) continue;
        ring = new SeriesRing(this.#bounds.maxSamples, this.#bounds.maxAnalytics);
        this.#series.set(name, ring);
      }
      ring.push({
        t,
        running: s.running,
        pending: s.pending,
        cpuAvg: s.cpu_avg,
        memoryAvg: s.memory_avg,
        analytics: s.analytics,
      });
    }
    this.#markers.push(...markersOf(record, this.#bounds.maxReasons));
    this.#noteSink(sink);
    this.#prune();
  }

  #noteSink(sink: SinkReport | undefined): void {
    if (!sink || sink.kind === "none") this.#influx = "off";
    else if (this.#lastSink && sink.failedWrites > this.#lastSink.failedWrites) {
      this.#influx = "down";
    } else if (!this.#lastSink || sink.written > this.#lastSink.written) this.#influx = "ok";
    else if (this.#influx === "off") this.#influx = "ok";
    this.#lastSink = sink ? { ...sink } : undefined;
  }

  #prune(): void {
    const from = this.#now - this.#bounds.windowMs;
    for (const [name, ring] of this.#series) {
      ring.dropBefore(from);
      if (ring.length === 0) this.#series.delete(name);
    }
    let drop = 0;
    while (drop < this.#markers.length && this.#markers[drop]!.t < from) drop++;
    drop = Math.max(drop, this.#markers.length - this.#bounds.maxMarkers);
    if (drop > 0) this.#markers.splice(0, drop);
  }

  /**
   * The history, or part of it.
   *
   * @param q One service and/or the last minutes only.
   * @returns Columns per service, and the markers, oldest first.
   */
  view(q: HistoryQuery = {}): HistoryView {
    const span = q.minutes === undefined
      ? this.#bounds.windowMs
      : Math.min(this.#bounds.windowMs, q.minutes * 60_000);
    const from = this.#now - span;
    const services: Record<string, SeriesView> = {};
    for (const [name, ring] of this.#series) {
      if (q.service === undefined || q.service === name) {
        services[name] = ring.view(from, q.stepMs);
      }
    }
    return {
      now: this.#now,
      windowMs: this.#bounds.windowMs,
      influx: this.#influx,
      services,
      markers: this.#markers.filter((m) =>
        m.t >= from && (q.service === undefined || m.service === q.service)
      ),
    };
  }
}

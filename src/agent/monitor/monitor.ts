/**
 * The monitor: keeps instance state current from Docker events (reconnecting and resyncing when
 * the stream drops, so a dockerd restart never kills the agent: docs/compat.md#d4), samples each
 * running container's CPU and memory on its own timer into time-based windows, follows container
 * logs for `gru:` metric lines, and accepts the same metrics over HTTP. `snapshot()` gives the
 * analyzer what it needs; missing data is `undefined`, never 0 (docs/compat.md#d15).
 *
 * User metrics are bounded: a name must follow the rule of `metric_name.ts`, a service keeps at
 * most `maxMetricsPerService` distinct metrics (a new one beyond that is refused and counted),
 * and a metric without a value for `staleWindows` windows is pruned, as are the metrics of a
 * service that is no longer known. A refused metric changes nothing.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ContainerRuntime } from "../../ports/container_runtime.ts";
import type { UsageReader } from "../../ports/usage_reader.ts";
import { Backoff } from "../../domain/backoff.ts";
import type { Clock } from "../../domain/clock.ts";
import { repeat } from "../../domain/repeat.ts";
import { errorMessage, ValidationError } from "../../domain/errors.ts";
import { excerpt } from "../../domain/excerpt.ts";
import { type Instance, LABEL_CLUSTER, LABEL_NODE } from "../../domain/model.ts";
import type { InstanceManager } from "../executor/instances.ts";
import { CounterWindow, GaugeWindow, ValueWindow } from "./window.ts";
import { parseGruLine } from "./log_line.ts";
import { metricNameProblem } from "./metric_name.ts";

const log = getLogger(["gru", "agent", "monitor"]);

/** Monitor settings, read on every use (they follow config reloads). */
export interface MonitorSettings {
  /** Window of the averages, in ms. */
  windowMs: number;
  /** How long a new instance stays pending, in ms. */
  warmupMs: number;
  /** Follow container logs for `gru:` lines. */
  logReading: boolean;
  /** Known service names (user metrics for others are dropped). */
  services: ReadonlySet<string>;
}

/** Options of `Monitor`. */
export interface MonitorOptions {
  runtime: ContainerRuntime;
  usage: UsageReader;
  instances: InstanceManager;
  clock: Clock;
  cluster: string;
  node: string;
  settings: () => MonitorSettings;
  /** Called after the instance list changed (start, die, destroy…). */
  onChange?: () => void;
  /** Sampling period in ms. @default 1000 */
  sampleMs?: number;
  /** Most distinct user metrics kept per service. @default 64 */
  maxMetricsPerService?: number;
  /** A user metric without a value for this many windows is pruned. @default 3 */
  staleWindows?: number;
}

/** Default of {@linkcode MonitorOptions.maxMetricsPerService}. */
export const DEFAULT_MAX_METRICS_PER_SERVICE = 64;

/** Counters of the user metrics (served in `/metrics`). */
export interface UserMetricStats {
  /** Distinct user metrics kept now, all services together. */
  metrics: number;
  /** Pushes refused for a bad metric name. */
  refusedNames: number;
  /** New metrics refused because their service had `maxMetricsPerService` already. */
  refusedOverLimit: number;
  /** Metrics pruned for having no value for `staleWindows` windows (or an unknown service). */
  pruned: number;
}

/** One instance as the analyzer sees it. */
export interface InstanceSnapshot extends Instance {
  /** `pending` during warm-up. */
  phase: "pending" | "running" | "stopped" | "paused";
  /** Cores used over the window (idle time counted); undefined when unknown. */
  cpuCores: number | undefined;
  memoryBytes: number | undefined;
  /** Age of the newest usage sample, ms. */
  sampleAgeMs: number | undefined;
}

/** What the analyzer gets. */
export interface MonitorSnapshot {
  at: number;
  instances: InstanceSnapshot[];
  /** Service → metric → window mean (undefined when no value in the window). */
  userMetrics: Record<string, Record<string, number | undefined>>;
  /** Which usage reader is in use. */
  usageSource: string;
  /** Whether the Docker event stream is connected. */
  eventsConnected: boolean;
}

interface UserSeries {
  window: ValueWindow;
  /** Time of the newest value. */
  lastAt: number;
}

interface Series {
  cpu: CounterWindow;
  mem: GaugeWindow;
  lastAt: number;
}

/** The monitor. */
export class Monitor {
  #options: MonitorOptions;
  #series = new Map<string, Series>();
  #user = new Map<string, Map<string, UserSeries>>();
  #userStats = { refusedNames: 0, refusedOverLimit: 0, pruned: 0 };
  /** Services whose bound was hit (logged once until they are under it again). */
  #full = new Set<string>();
  #followers = new Map<string, AbortController>();
  #abort = new AbortController();
  #tasks = new Set<Promise<void>>();
  #eventsConnected = false;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;

  constructor(options: MonitorOptions) {
    this.#options = options;
  }

  /** Starts the event listener and the sampler. */
  start(): void {
    this.#tasks.add(this.#eventLoop());
    this.#tasks.add(this.#sampleLoop());
  }

  /** Stops everything it started. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    for (const f of this.#followers.values()) f.abort();
    this.#followers.clear();
    await Promise.allSettled(this.#tasks);
    await this.#refreshing?.catch(() => {});
  }

  /**
   * Records user-metric values (from logs or HTTP). Throws a `ValidationError`, recording
   * nothing, for an unknown service, a bad metric name, a value that is not a finite number
   * >= 0, or a new metric beyond the service's bound.
   */
  pushUserMetric(
    service: string,
    metric: string,
    values: number[],
    at = this.#options.clock.now(),
  ) {
    if (!this.#options.settings().services.has(service)) {
      throw new ValidationError(
        `Unknown service ${excerpt(service, 64)} for metric ${excerpt(metric, 64)}`,
      );
    }
    const problem = metricNameProblem(metric);
    if (problem !== undefined) {
      this.#userStats.refusedNames++;
      throw new ValidationError(`${problem} (service "${service}")`);
    }
    for (const v of values) {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new ValidationError(
          `Metric ${service}/${metric}: expected finite numbers >= 0, found ${excerpt(v, 40)}`,
        );
      }
    }
    let m = this.#user.get(service);
    if (!m) this.#user.set(service, m = new Map());
    let series = m.get(metric);
    if (!series) {
      const max = this.#options.maxMetricsPerService ?? DEFAULT_MAX_METRICS_PER_SERVICE;
      if (m.size >= max) this.#pruneStale(at, service, m);
      if (m.size >= max) {
        this.#userStats.refusedOverLimit++;
        if (!this.#full.has(service)) {
          this.#full.add(service);
          log.warn(
            "Service {service} has {max} user metrics: new metrics are refused until some go stale",
            { service, max },
          );
        }
        throw new ValidationError(
          `Service "${service}" has ${max} user metrics already: new metric "${metric}" refused (a metric without values for ${this.#staleWindows} windows is dropped)`,
        );
      }
      if (values.length === 0) return;
      m.set(metric, series = { window: new ValueWindow(), lastAt: at });
    }
    for (const v of values) series.window.add(at, v);
    if (values.length > 0) series.lastAt = Math.max(series.lastAt, at);
  }

  /** Counters of the user metrics. */
  userMetricStats(): UserMetricStats {
    let metrics = 0;
    for (const m of this.#user.values()) metrics += m.size;
    return { metrics, ...this.#userStats };
  }

  get #staleWindows(): number {
    return this.#options.staleWindows ?? 3;
  }

  /** Drops the metrics of `service` without a value for `staleWindows` windows. */
  #pruneStale(now: number, service: string, metrics: Map<string, UserSeries>): void {
    const staleMs = this.#staleWindows * this.#options.settings().windowMs;
    for (const [name, series] of metrics) {
      if (now - series.lastAt > staleMs) {
        metrics.delete(name);
        this.#userStats.pruned++;
      }
    }
    if (metrics.size === 0) this.#user.delete(service);
    const max = this.#options.maxMetricsPerService ?? DEFAULT_MAX_METRICS_PER_SERVICE;
    if (metrics.size < max) this.#full.delete(service);
  }

  /** Re-lists the instances (coalescing concurrent calls) and syncs followers. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#refreshAgain = false;
          await this.#options.instances.refresh();
          this.#syncFollowers();
        } while (this.#refreshAgain);
        this.#options.onChange?.();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** The current view: instances with their usage, and user metrics over the window. */
  snapshot(): MonitorSnapshot {
    const now = this.#options.clock.now();
    const s = this.#options.settings();
    const instances = this.#options.instances.list().map((i): InstanceSnapshot => {
      const series = this.#series.get(i.id);
      const warm = now - i.startedAt >= s.warmupMs;
      const phase = i.status === "running" ? (warm ? "running" : "pending") : i.status;
      // Only samples after the warm-up count: a start-up spike never drives scaling.
      const windowMs = Math.min(s.windowMs, Math.max(0, now - (i.startedAt + s.warmupMs)));
      const cpu = series && phase === "running" ? series.cpu.rate(now, windowMs) : undefined;
      const mem = series && phase === "running" ? series.mem.mean(now, s.windowMs) : undefined;
      return {
        ...i,
        phase,
        cpuCores: cpu?.value === undefined ? undefined : cpu.value / 1e9,
        memoryBytes: mem?.value,
        sampleAgeMs: series ? now - series.lastAt : undefined,
      };
    });
    const userMetrics: Record<string, Record<string, number | undefined>> = {};
    for (const [service, metrics] of [...this.#user]) {
      if (!s.services.has(service)) {
        this.#userStats.pruned += metrics.size;
        this.#user.delete(service);
        this.#full.delete(service);
        continue;
      }
      this.#pruneStale(now, service, metrics);
      if (metrics.size === 0) continue;
      const out: Record<string, number | undefined> = {};
      for (const [name, series] of metrics) out[name] = series.window.mean(now, s.windowMs).value;
      userMetrics[service] = out;
    }
    return {
      at: now,
      instances,
      userMetrics,
      usageSource: this.#options.usage.kind,
      eventsConnected: this.#eventsConnected,
    };
  }

  /** Samples every running instance once. */
  async sample(): Promise<void> {
    const running = this.#options.instances.list().filter((i) => i.status === "running");
    const live = new Set(running.map((i) => i.id));
    for (const id of [...this.#series.keys()]) {
      if (!live.has(id)) {
        this.#series.delete(id);
        this.#options.usage.forget(id);
      }
    }
    await Promise.all(running.map(async (i) => {
      const u = await this.#options.usage.read({ id: i.id, pid: i.pid ?? 0 }).catch(() =>
        undefined
      );
      if (!u) return;
      let s = this.#series.get(i.id);
      if (!s) {
        this.#series.set(i.id, s = { cpu: new CounterWindow(), mem: new GaugeWindow(), lastAt: 0 });
      }
      if (u.cpuNs !== undefined) s.cpu.add(u.at, u.cpuNs);
      if (u.memoryBytes !== undefined) s.mem.add(u.at, u.memoryBytes);
      if (u.cpuNs !== undefined || u.memoryBytes !== undefined) s.lastAt = u.at;
    }));
  }

  #sampleLoop(): Promise<void> {
    return repeat(() => this.sample(), {
      clock: this.#options.clock,
      signal: this.#abort.signal,
      delayMs: () => this.#options.sampleMs ?? 1000,
      onError: (err) => log.debug("Sampling failed: {error}", { error: errorMessage(err) }),
    });
  }

  async #eventLoop(): Promise<void> {
    const signal = this.#abort.signal;
    const labels = { [LABEL_CLUSTER]: this.#options.cluster, [LABEL_NODE]: this.#options.node };
    const backoff = new Backoff(this.#options.clock, { minMs: 250, maxMs: 5000 });
    while (!signal.aborted) {
      try {
        const stream = this.#options.runtime.events(labels, (e) => {
          if (
            ["start", "die", "destroy", "pause", "unpause", "stop", "kill", "oom"].includes(
              e.action,
            )
          ) {
            this.refresh().catch((err) =>
              log.warn("Resync failed: {error}", { error: errorMessage(err) })
            );
          }
        }, signal);
        // Awaited below; until then a failure must not go unhandled (it would end the process).
        stream.catch(() => {});
        // Resync after (re)connecting: events may have been missed while away.
        await this.refresh();
        if (!this.#eventsConnected) log.info("Docker event stream connected");
        this.#eventsConnected = true;
        backoff.reset();
        await stream;
        if (signal.aborted) return;
        throw new Error("event stream ended");
      } catch (err) {
        if (signal.aborted) return;
        if (this.#eventsConnected) {
          log.warn("Docker event stream lost ({error}); reconnecting", {
            error: errorMessage(err),
          });
        }
        this.#eventsConnected = false;
        try {
          await backoff.wait(signal);
        } catch {
          return;
        }
      }
    }
  }

  #syncFollowers(): void {
    const want = this.#options.settings().logReading;
    const running = new Map(
      this.#options.instances.list().filter((i) => i.status === "running").map((i) => [i.id, i]),
    );
    for (const [id, ctl] of this.#followers) {
      if (!want || !running.has(id)) {
        ctl.abort();
        this.#followers.delete(id);
      }
    }
    if (!want || this.#abort.signal.aborted) return;
    for (const id of running.keys()) {
      if (this.#followers.has(id)) continue;
      const ctl = new AbortController();
      this.#followers.set(id, ctl);
      const task = this.#options.runtime.followLogs(id, (line) => this.#onLogLine(line), ctl.signal)
        .catch((err) =>
          log.debug("Log stream of {id} ended: {error}", {
            id: id.slice(0, 12),
            error: errorMessage(err),
          })
        )
        .finally(() => {
          if (this.#followers.get(id) === ctl) this.#followers.delete(id);
          this.#tasks.delete(task);
        });
      this.#tasks.add(task);
    }
  }

  #onLogLine(line: string): void {
    const m = parseGruLine(line);
    if (m === undefined) return;
    if ("error" in m) {
      if (m.badMetricName) this.#userStats.refusedNames++;
      log.debug("Ignored metric line: {error}", { error: m.error });
      return;
    }
    try {
      this.pushUserMetric(m.service, m.metric, [m.value]);
    } catch (err) {
      log.debug("Ignored metric line: {error}", { error: errorMessage(err) });
    }
  }
}

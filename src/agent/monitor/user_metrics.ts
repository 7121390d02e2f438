/**
 * The user metrics of the monitor: values pushed per service and metric (from `gru:` log lines
 * or over HTTP), averaged over the monitor's window.
 *
 * They are bounded: a name must follow the rule of `metric_name.ts`, a service keeps at most
 * `maxMetricsPerService` distinct metrics (a new one beyond that is refused and counted), and a
 * metric without a value for `staleWindows` windows is pruned, as are the metrics of a service
 * that is no longer known. A refused metric changes nothing.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { ValidationError } from "../../domain/errors.ts";
import { excerpt } from "../../domain/excerpt.ts";
import { ValueWindow } from "./window.ts";
import { metricNameProblem } from "./metric_name.ts";

const log = getLogger(["gru", "agent", "monitor"]);

/** Default of {@linkcode UserMetricsOptions.maxMetricsPerService}. */
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

/** What the user metrics read on every use (they follow config reloads). */
export interface UserMetricSettings {
  /** Window of the averages, in ms. */
  windowMs: number;
  /** Known service names (metrics for others are refused, then dropped). */
  services: ReadonlySet<string>;
}

/** Options of `UserMetrics`. */
export interface UserMetricsOptions {
  settings: () => UserMetricSettings;
  /** Most distinct user metrics kept per service. @default 64 */
  maxMetricsPerService?: number;
  /** A user metric without a value for this many windows is pruned. @default 3 */
  staleWindows?: number;
}

interface UserSeries {
  window: ValueWindow;
  /** Time of the newest value. */
  lastAt: number;
}

/** The user metrics of every known service, with their counters. */
export class UserMetrics {
  #options: UserMetricsOptions;
  #services = new Map<string, Map<string, UserSeries>>();
  #stats = { refusedNames: 0, refusedOverLimit: 0, pruned: 0 };
  /** Services whose bound was hit (logged once until they are under it again). */
  #full = new Set<string>();

  constructor(options: UserMetricsOptions) {
    this.#options = options;
  }

  /**
   * Records values of a metric at `at`. Throws a `ValidationError`, recording nothing, for an
   * unknown service, a bad metric name, a value that is not a finite number >= 0, or a new
   * metric beyond the service's bound.
   */
  push(service: string, metric: string, values: number[], at: number): void {
    if (!this.#options.settings().services.has(service)) {
      throw new ValidationError(
        `Unknown service ${excerpt(service, 64)} for metric ${excerpt(metric, 64)}`,
      );
    }
    const problem = metricNameProblem(metric);
    if (problem !== undefined) {
      this.#stats.refusedNames++;
      throw new ValidationError(`${problem} (service "${service}")`);
    }
    for (const v of values) {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new ValidationError(
          `Metric ${service}/${metric}: expected finite numbers >= 0, found ${excerpt(v, 40)}`,
        );
      }
    }
    let m = this.#services.get(service);
    if (!m) this.#services.set(service, m = new Map());
    let series = m.get(metric);
    if (!series) {
      const max = this.#max;
      if (m.size >= max) this.#pruneStale(at, this.#options.settings().windowMs, service, m);
      if (m.size >= max) {
        this.#stats.refusedOverLimit++;
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

  /** Counts a bad metric name refused before it reached `push` (a `gru:` log line). */
  refuseName(): void {
    this.#stats.refusedNames++;
  }

  /**
   * Service → metric → mean over the window ending at `now` (undefined when no value in it),
   * after pruning the stale metrics and those of services no longer known.
   */
  means(now: number): Record<string, Record<string, number | undefined>> {
    const s = this.#options.settings();
    const means: Record<string, Record<string, number | undefined>> = {};
    for (const [service, metrics] of [...this.#services]) {
      if (!s.services.has(service)) {
        this.#stats.pruned += metrics.size;
        this.#services.delete(service);
        this.#full.delete(service);
        continue;
      }
      this.#pruneStale(now, s.windowMs, service, metrics);
      if (metrics.size === 0) continue;
      const out: Record<string, number | undefined> = {};
      for (const [name, series] of metrics) out[name] = series.window.mean(now, s.windowMs).value;
      means[service] = out;
    }
    return means;
  }

  /** Counters of the user metrics. */
  stats(): UserMetricStats {
    let metrics = 0;
    for (const m of this.#services.values()) metrics += m.size;
    return { metrics, ...this.#stats };
  }

  get #max(): number {
    return this.#options.maxMetricsPerService ?? DEFAULT_MAX_METRICS_PER_SERVICE;
  }

  get #staleWindows(): number {
    return this.#options.staleWindows ?? 3;
  }

  /** Drops the metrics of `service` without a value for `staleWindows` windows. */
  #pruneStale(
    now: number,
    windowMs: number,
    service: string,
    metrics: Map<string, UserSeries>,
  ): void {
    const staleMs = this.#staleWindows * windowMs;
    for (const [name, series] of metrics) {
      if (now - series.lastAt > staleMs) {
        metrics.delete(name);
        this.#stats.pruned++;
      }
    }
    if (metrics.size === 0) this.#services.delete(service);
    if (metrics.size < this.#max) this.#full.delete(service);
  }
}

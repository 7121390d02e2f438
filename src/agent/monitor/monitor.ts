/**
 * The monitor: keeps instance state current from Docker events (reconnecting and resyncing when
 * the stream drops, so a dockerd restart never kills the agent: docs/compat.md#d4), samples each
 * running container's CPU and memory on its own timer into time-based windows, follows container
 * logs for `gru:` metric lines, and accepts the same metrics over HTTP. `snapshot()` gives the
 * analyzer what it needs; missing data is `undefined`, never 0 (docs/compat.md#d15). The user
 * metrics, with their bounds, are kept by `user_metrics.ts`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ContainerRuntime } from "../../ports/container_runtime.ts";
import type { UsageReader } from "../../ports/usage_reader.ts";
import { Backoff } from "../../domain/backoff.ts";
import type { Clock } from "../../domain/clock.ts";
import { repeat } from "../../domain/repeat.ts";
import { errorMessage } from "../../domain/errors.ts";
import { type Instance, LABEL_CLUSTER, LABEL_NODE } from "../../domain/model.ts";
import type { InstanceManager } from "../executor/instances.ts";
import { CounterWindow, GaugeWindow } from "./window.ts";
import { parseGruLine } from "./log_line.ts";
import { UserMetrics, type UserMetricStats } from "./user_metrics.ts";

export { DEFAULT_MAX_METRICS_PER_SERVICE, type UserMetricStats } from "./user_metrics.ts";

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

interface Series {
  cpu: CounterWindow;
  mem: GaugeWindow;
  lastAt: number;
}

/** The monitor. */
/**
 * How long a container listing stays good while the engine's event stream is connected. Every
 * start, stop, death or removal of a labelled container arrives as an event, which lists again at
 * once; the periodic listing only guards against an event missed without the stream noticing.
 * Listing 100 containers every loop cost the agent and the engine CPU for nothing new.
 */
export const RESYNC_MS = 10_000;

/**
 * How long after an event the engine's listing may still show the container's old state (a
 * listing right after `die` can still say running): a listing begun sooner than this after the
 * last event does not count as fresh.
 */
export const SETTLE_MS = 1_000;

export class Monitor {
  #options: MonitorOptions;
  /** Monotonic ms at which the last listing that succeeded began. */
  #listedAt: number | undefined;
  /** Monotonic ms of the last event. */
  #eventAt: number | undefined;
  #series = new Map<string, Series>();
  #user: UserMetrics;
  #followers = new Map<string, AbortController>();
  #abort = new AbortController();
  #tasks = new Set<Promise<void>>();
  #eventsConnected = false;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #sampling: Promise<void> = Promise.resolve();

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#user = new UserMetrics(options);
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
  ): void {
    this.#user.push(service, metric, values, at);
  }

  /** Counters of the user metrics. */
  userMetricStats(): UserMetricStats {
    return this.#user.stats();
  }

  /**
   * Re-lists the instances (coalescing concurrent calls) and syncs followers. The listing runs
   * in the instance manager's serial queue, after any start or stop under way, never beside one.
   */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#refreshAgain = false;
          const began = this.#options.clock.monotonic();
          await this.#options.instances.refresh();
          this.#listedAt = began;
          this.#syncFollowers();
        } while (this.#refreshAgain);
        this.#options.onChange?.();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /**
   * Lists again unless the event stream is connected, the last listing is younger than
   * {@link RESYNC_MS}, and it began at least {@link SETTLE_MS} after the last event (the loop
   * calls this every tick).
   */
  resync(): Promise<void> {
    const at = this.#listedAt;
    const event = this.#eventAt;
    const fresh = at !== undefined && this.#options.clock.monotonic() - at < RESYNC_MS &&
      (event === undefined || at - event >= SETTLE_MS);
    return this.#eventsConnected && fresh && !this.#refreshing ? Promise.resolve() : this.refresh();
  }

  /**
   * The current view: instances with their usage, and user metrics over the window; `windowMs`
   * replaces the usage window (the loop's fast path looks at a short one).
   */
  snapshot(options: { windowMs?: number } = {}): MonitorSnapshot {
    const now = this.#options.clock.now();
    const s = { ...this.#options.settings() };
    if (options.windowMs !== undefined) s.windowMs = options.windowMs;
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
    return {
      at: now,
      instances,
      userMetrics: this.#user.means(now),
      usageSource: this.#options.usage.kind,
      eventsConnected: this.#eventsConnected,
    };
  }

  /**
   * Samples every running instance once. Calls are serialized (the sampler's and the loop's
   * fast path's), so samples always reach the windows in time order.
   */
  sample(): Promise<void> {
    const run = this.#sampling.then(() => this.#sampleOnce());
    this.#sampling = run.catch(() => {});
    return run;
  }

  async #sampleOnce(): Promise<void> {
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
            this.#eventAt = this.#options.clock.monotonic();
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
      if (m.badMetricName) this.#user.refuseName();
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

/**
 * The agent's self-metrics in the Prometheus text exposition format 0.0.4: a tiny registry
 * (counters, histograms and gauges computed at render time, all with labels) and
 * {@linkcode PrometheusTelemetry}, the `Telemetry` port over it. Served by the API at `/metrics`.
 *
 * @module
 */

import type { Dependency, GossipRejection, LoopPhase, Telemetry } from "../../ports/telemetry.ts";

/** Label names to values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a gauge computed at render time. */
export interface GaugeSample {
  labels?: Labels | undefined;
  value: number;
}

/** The content type of {@linkcode MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Upper bounds (seconds) of the loop-phase histogram buckets (`+Inf` is implicit). */
export const LOOP_PHASE_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a `# HELP` text: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN`, or a JS number). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** `{a="1",b="2"}` (label names sorted), or the empty string when there are no labels. */
function formatLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.keys(labels)
    .sort()
    .filter((k) => LABEL_NAME.test(k) && k !== extra?.[0])
    .map((k) => `${k}="${escapeLabelValue(labels[k] ?? "")}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

function checkName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new Error(`Invalid Prometheus metric name "${name}"`);
}

/** A monotonically increasing counter, by labels. */
export class Counter {
  readonly name: string;
  readonly help: string;
  #series = new Map<string, { labels: Labels; value: number }>();

  constructor(name: string, help: string) {
    checkName(name);
    this.name = name;
    this.help = help;
  }

  /** Adds `by` (default 1; negative or non-finite amounts are ignored) to the series. */
  inc(labels: Labels = {}, by = 1): void {
    if (!(Number.isFinite(by) && by >= 0)) return;
    const key = seriesKey(labels);
    const s = this.#series.get(key);
    if (s) s.value += by;
    else this.#series.set(key, { labels: { ...labels }, value: by });
  }

  /** The series' current value (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#series.get(seriesKey(labels))?.value ?? 0;
  }

  /** The exposition lines of this counter. */
  render(): string[] {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} counter`];
    for (const s of this.#series.values()) {
      out.push(`${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return out;
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Per-bucket (non-cumulative) counts; the last one is `+Inf`. */
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram with fixed buckets, by labels. */
export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  #series = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    checkName(name);
    this.name = name;
    this.help = help;
    this.buckets = [...new Set(buckets.filter((b) => Number.isFinite(b)))].sort((a, b) => a - b);
  }

  #get(labels: Labels): HistogramSeries {
    const key = seriesKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = {
        labels: { ...labels },
        counts: new Array(this.buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, s);
    }
    return s;
  }

  /** Creates the series with zero counts, so it is exposed before its first observation. */
  touch(labels: Labels = {}): void {
    this.#get(labels);
  }

  /** Records one value (NaN is ignored). */
  observe(labels: Labels, value: number): void {
    if (Number.isNaN(value)) return;
    const s = this.#get(labels);
    let i = this.buckets.findIndex((b) => value <= b);
    if (i < 0) i = this.buckets.length;
    s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  /** The series' count and sum (zeros when never observed). */
  get(labels: Labels = {}): { count: number; sum: number } {
    const s = this.#series.get(seriesKey(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }

  /** The exposition lines of this histogram (cumulative buckets, `+Inf`, `_sum`, `_count`). */
  render(): string[] {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (const [i, bound] of [...this.buckets, Infinity].entries()) {
        cumulative += s.counts[i] ?? 0;
        const le = formatLabels(s.labels, ["le", formatValue(bound)]);
        out.push(`${this.name}_bucket${le} ${cumulative}`);
      }
      out.push(`${this.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${formatLabels(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** A gauge whose samples are computed at render time. */
export class ComputedGauge {
  readonly name: string;
  readonly help: string;
  #collect: () => readonly GaugeSample[];

  constructor(name: string, help: string, collect: () => readonly GaugeSample[]) {
    checkName(name);
    this.name = name;
    this.help = help;
    this.#collect = collect;
  }

  /** The exposition lines; a collector that throws exposes no samples. */
  render(): string[] {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} gauge`];
    let samples: readonly GaugeSample[];
    try {
      samples = this.#collect();
    } catch {
      samples = [];
    }
    for (const s of samples) {
      out.push(`${this.name}${formatLabels(s.labels ?? {})} ${formatValue(s.value)}`);
    }
    return out;
  }
}

type Metric = Counter | Histogram | ComputedGauge;

/** A set of metrics rendered together, in registration order. */
export class MetricsRegistry {
  #metrics = new Map<string, Metric>();

  #add<M extends Metric>(m: M): M {
    if (this.#metrics.has(m.name)) throw new Error(`Metric "${m.name}" is registered already`);
    this.#metrics.set(m.name, m);
    return m;
  }

  /** Registers a counter. Throws on an invalid or duplicate name. */
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  /** Registers a histogram with these bucket upper bounds. Throws on an invalid or duplicate name. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** Registers a gauge computed at render time. Throws on an invalid or duplicate name. */
  gauge(name: string, help: string, collect: () => readonly GaugeSample[]): ComputedGauge {
    return this.#add(new ComputedGauge(name, help, collect));
  }

  /** Every metric in the text exposition format 0.0.4 (ends with a line feed). */
  render(): string {
    const lines: string[] = [];
    for (const m of this.#metrics.values()) lines.push(...m.render());
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
  }
}

const PHASES: readonly LoopPhase[] = ["monitor", "analyze", "plan", "execute", "total"];
const DEPENDENCIES: readonly Dependency[] = ["etcd", "docker", "metrics", "gossip"];
const GOSSIP_REJECTIONS: readonly GossipRejection[] = [
  "unknown_origin",
  "unsigned",
  "bad_signature",
  "future_version",
  "future_time",
  "future_action",
  "too_large",
  "capacity",
  "sender",
];

/**
 * The `Telemetry` port over a Prometheus registry. Pass it to the agent (its loop, executor,
 * gossiper) and serve {@linkcode PrometheusTelemetry.render} at `GET /metrics`.
 *
 * @example Counting and rendering
 * ```ts
 * import { PrometheusTelemetry } from "./prometheus_telemetry.ts";
 * const t = new PrometheusTelemetry();
 * t.decision("scaleout", "executed");
 * t.gauge("gru_up", "Whether the agent runs", () => [{ value: 1 }]);
 * t.render().includes('gru_decisions_total{outcome="executed",policy="scaleout"} 1'); // true
 * ```
 */
export class PrometheusTelemetry implements Telemetry {
  /** The underlying registry (to add more metrics). */
  readonly registry: MetricsRegistry = new MetricsRegistry();
  readonly #phases: Histogram;
  readonly #decisions: Counter;
  readonly #actions: Counter;
  readonly #rounds: Counter;
  readonly #exchanges: Counter;
  readonly #dependencyErrors: Counter;
  readonly #gossipRejected: Counter;
  readonly #shadows: Counter;

  constructor() {
    const r = this.registry;
    this.#phases = r.histogram(
      "gru_loop_phase_seconds",
      "Duration of the autonomic loop's phases, in seconds.",
      LOOP_PHASE_BUCKETS,
    );
    this.#decisions = r.counter(
      "gru_decisions_total",
      "Decisions made by the autonomic loop, by chosen policy and outcome.",
    );
    this.#actions = r.counter(
      "gru_actions_total",
      "Container actions taken by the agent, by action and outcome.",
    );
    this.#rounds = r.counter("gru_gossip_rounds_total", "Gossip rounds run.");
    this.#exchanges = r.counter(
      "gru_gossip_exchanges_total",
      "Gossip exchanges with friends, by result.",
    );
    this.#dependencyErrors = r.counter(
      "gru_dependency_errors_total",
      "Failed calls to a dependency (etcd, docker, metrics, gossip).",
    );
    this.#gossipRejected = r.counter(
      "gru_gossip_rejected_total",
      "Gossip entries dropped before merging (and messages refused, reason sender), by reason.",
    );
    this.#shadows = r.counter(
      "gru_shadow_decisions_total",
      "What each shadow strategy would have chosen, by strategy, policy and agreement.",
    );
    for (const reason of GOSSIP_REJECTIONS) this.#gossipRejected.inc({ reason }, 0);
    for (const phase of PHASES) this.#phases.touch({ phase });
    for (const action of ["start", "stop"]) {
      for (const outcome of ["ok", "failed"]) this.#actions.inc({ action, outcome }, 0);
    }
    this.#rounds.inc({}, 0);
    for (const result of ["ok", "failed"]) this.#exchanges.inc({ result }, 0);
    for (const dependency of DEPENDENCIES) this.#dependencyErrors.inc({ dependency }, 0);
  }

  /** Registers a gauge computed at render time (e.g. `gru_instances{service,status}`). */
  gauge(name: string, help: string, collect: () => readonly GaugeSample[]): void {
    this.registry.gauge(name, help, collect);
  }

  /** Every metric in the text exposition format 0.0.4. */
  render(): string {
    return this.registry.render();
  }

  loopPhase(phase: LoopPhase, ms: number): void {
    this.#phases.observe({ phase }, ms / 1000);
  }

  decision(policy: string, outcome: string): void {
    this.#decisions.inc({ policy, outcome });
  }

  shadowDecision(strategy: string, policy: string, agrees: boolean): void {
    this.#shadows.inc({ strategy, policy, agrees: agrees ? "true" : "false" });
  }

  action(action: "start" | "stop", outcome: "ok" | "failed"): void {
    this.#actions.inc({ action, outcome });
  }

  gossipRound(reached: number, asked: number): void {
    this.#rounds.inc();
    this.#exchanges.inc({ result: "ok" }, Math.max(0, reached));
    this.#exchanges.inc({ result: "failed" }, Math.max(0, asked - reached));
  }

  dependencyError(dependency: Dependency): void {
    this.#dependencyErrors.inc({ dependency });
  }

  gossipRejected(reason: GossipRejection, count = 1): void {
    if (count > 0) this.#gossipRejected.inc({ reason }, count);
  }
}

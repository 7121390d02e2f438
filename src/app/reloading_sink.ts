/**
 * A metric sink that follows the cluster's `Metric` configuration: when it changes (an
 * `update agent`), the old sink is flushed and closed and a new one takes over. A configuration
 * the sink cannot use is logged and the previous sink stays in force.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { MetricPoint, MetricSink, MetricSinkStats } from "../ports/metric_sink.ts";
import type { AgentConfig } from "../domain/model.ts";
import { createMetricSink, NoSink } from "../adapters/influx/create_sink.ts";
import { errorMessage } from "../domain/errors.ts";

const log = getLogger(["gru", "metrics"]);

/** A sink rebuilt whenever `metric()` changes. */
export class ReloadingSink implements MetricSink {
  #metric: () => AgentConfig["metric"];
  #key = "";
  #sink: MetricSink = new NoSink();
  #retired: Promise<unknown>[] = [];

  /** @param metric Read on every write (not at construction: the agent may not exist yet). */
  constructor(metric: () => AgentConfig["metric"]) {
    this.#metric = metric;
  }

  get kind(): string {
    return this.#sink.kind;
  }

  #refresh(): void {
    const metric = this.#metric();
    const key = JSON.stringify(metric);
    if (key === this.#key) return;
    this.#key = key;
    try {
      const next = createMetricSink(metric);
      const old = this.#sink;
      this.#sink = next;
      this.#retired.push(old.close().catch(() => {}));
      log.info("Metrics go to {kind}", { kind: next.kind });
    } catch (err) {
      log.error("Metric configuration rejected, keeping {kind}: {error}", {
        kind: this.#sink.kind,
        error: errorMessage(err),
      });
    }
  }

  write(points: readonly MetricPoint[]): void {
    this.#refresh();
    this.#sink.write(points);
  }

  flush(): Promise<void> {
    return this.#sink.flush();
  }

  stats(): MetricSinkStats {
    return this.#sink.stats();
  }

  async close(): Promise<void> {
    await this.#sink.close();
    await Promise.all(this.#retired);
  }
}

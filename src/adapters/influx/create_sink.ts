/**
 * Picks the metric sink for an agent's `Metric` configuration:
 *
 * - `metricService` `none` (or empty) → a {@linkcode NoSink};
 * - `influxdb` with `Token`, `Org` or `Bucket` → the 2.x API (`Url`, `Token`, `Org`, `Bucket`;
 *   `Bucket` defaults to `DbName`);
 * - `influxdb` otherwise → the 1.x API (`Url`, `DbName`, `Username`, `Password`: the original's
 *   keys keep working).
 *
 * Optional keys for both: `TimeoutMs`, `FlushIntervalMs`, `MaxBuffered`, `BatchSize`.
 *
 * @module
 */

import { ValidationError } from "../../domain/errors.ts";
import type { AgentConfig } from "../../domain/model.ts";
import type { MetricPoint, MetricSink, MetricSinkStats } from "../../ports/metric_sink.ts";
import type { BufferedSinkOptions } from "./buffered_sink.ts";
import { createInfluxV1Sink } from "./influx_v1_sink.ts";
import { createInfluxV2Sink } from "./influx_v2_sink.ts";

/** A sink that discards everything and counts nothing. */
export class NoSink implements MetricSink {
  readonly kind = "none";
  write(_points: readonly MetricPoint[]): void {}
  flush(): Promise<void> {
    return Promise.resolve();
  }
  stats(): MetricSinkStats {
    return { buffered: 0, written: 0, dropped: 0, failedWrites: 0, rejected: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function positive(conf: Record<string, string>, key: string): number | undefined {
  const raw = conf[key]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new ValidationError(`Metric.Configuration.${key} must be a positive number: ${raw}`);
  }
  return n;
}

/**
 * Builds the sink for a `Metric` configuration.
 *
 * @throws ValidationError for an unknown service, a missing or malformed `Url`, or a missing
 *   `DbName` (1.x) / `Org` and `Bucket` (2.x).
 */
export function createMetricSink(
  metric: AgentConfig["metric"],
  overrides: Omit<BufferedSinkOptions, "kind"> = {},
): MetricSink {
  const service = (metric.metricService ?? "").trim().toLowerCase();
  if (service === "" || service === "none") return new NoSink();
  if (service !== "influxdb") {
    throw new ValidationError(
      `Metric.MetricService must be "influxdb" or "none", not "${metric.metricService}"`,
    );
  }
  const conf = metric.configuration ?? {};
  const url = conf["Url"]?.trim();
  if (!url) throw new ValidationError("Metric.Configuration.Url is required for influxdb");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new ValidationError(`Metric.Configuration.Url is not a URL: ${url}`, { cause: e });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ValidationError(`Metric.Configuration.Url must be http(s): ${url}`);
  }
  const timeoutMs = positive(conf, "TimeoutMs");
  const options: Omit<BufferedSinkOptions, "kind"> = { ...overrides };
  const flushIntervalMs = positive(conf, "FlushIntervalMs");
  if (flushIntervalMs !== undefined) options.flushIntervalMs = flushIntervalMs;
  const maxBuffered = positive(conf, "MaxBuffered");
  if (maxBuffered !== undefined) options.maxBuffered = maxBuffered;
  const maxBatch = positive(conf, "BatchSize");
  if (maxBatch !== undefined) options.maxBatch = maxBatch;

  const token = conf["Token"]?.trim();
  const org = conf["Org"]?.trim();
  const bucket = conf["Bucket"]?.trim() || conf["DbName"]?.trim();
  if (token || conf["Org"]?.trim() || conf["Bucket"]?.trim()) {
    if (!bucket) throw new ValidationError("Metric.Configuration.Bucket is required for 2.x");
    return createInfluxV2Sink({
      url,
      token,
      org: org ?? "",
      bucket,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    }, options);
  }
  const db = conf["DbName"]?.trim();
  if (!db) throw new ValidationError("Metric.Configuration.DbName is required for influxdb");
  return createInfluxV1Sink({
    url,
    db,
    username: conf["Username"] || undefined,
    password: conf["Password"] || undefined,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  }, options);
}

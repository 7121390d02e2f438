/**
 * Where measurements go: InfluxDB 1.x (`/write?db=`), InfluxDB 2.x API (also VictoriaMetrics and
 * InfluxDB >= 1.8's compatibility API), or nowhere. `write` never blocks and never throws: points
 * are buffered (bounded), written in batches, retried with backoff while the database is down,
 * and what overflows the bound is dropped, counted and logged. A batch the database refuses for
 * good (HTTP 4xx other than 429) is dropped, counted and logged instead of being retried.
 *
 * @module
 */

/** One point. */
export interface MetricPoint {
  measurement: string;
  tags: Record<string, string>;
  /** Numbers are written as floats, booleans as booleans, strings as strings. */
  fields: Record<string, number | string | boolean>;
  /** Milliseconds since the epoch. */
  time: number;
}

/** Counters of a sink. */
export interface MetricSinkStats {
  /** Points waiting to be written. */
  buffered: number;
  /** Points written so far. */
  written: number;
  /** Points dropped because the buffer was full. */
  dropped: number;
  /** Failed write attempts. */
  failedWrites: number;
  /**
   * Points dropped because the database refused their batch for good (HTTP 4xx other than
   * 429: a malformed point, a missing database, bad credentials); such a batch is not retried.
   */
  rejected: number;
  lastError?: string | undefined;
}

/** A metric sink. */
export interface MetricSink {
  /** `influxdb-v1`, `influxdb-v2` or `none`. */
  readonly kind: string;
  /** Queues points; never blocks, never throws. */
  write(points: readonly MetricPoint[]): void;
  /** Tries to write everything buffered now; resolves when done or when a write fails. */
  flush(): Promise<void>;
  stats(): MetricSinkStats;
  /** Flushes (best effort, bounded in time) and stops timers. */
  close(): Promise<void>;
}

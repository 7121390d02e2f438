/**
 * Metric sink for the InfluxDB 2.x write API (`/api/v2/write?org=&bucket=&precision=ms`, token
 * auth), through `@influxdata/influxdb-client`. Also works with InfluxDB >= 1.8's compatibility
 * API and with VictoriaMetrics.
 *
 * The client's own buffering and retrying are switched off (no flush timer, batch size above
 * ours, `maxRetries: 0`, a tiny retry buffer): each of our batches is handed over with
 * `writeRecords` and sent with `flush`, which rejects when the write fails, and our
 * {@linkcode BufferedSink} keeps the points and backs off, except when the server answered a 4xx
 * other than 429: that batch is turned into a {@linkcode RejectedWriteError} and dropped. The client's console logger is
 * replaced by one that logs to `gru.metrics` at debug level (our sink logs failures itself).
 *
 * @module
 */

import { HttpError, InfluxDB, setLogger, type WriteApi } from "@influxdata/influxdb-client";
import { getLogger } from "@logtape/logtape";
import {
  BufferedSink,
  type BufferedSinkOptions,
  isRejection,
  type LineWriter,
  RejectedWriteError,
} from "./buffered_sink.ts";

const log = getLogger(["gru", "metrics"]);

let quietLogger = false;
function quietClientLogger(): void {
  if (quietLogger) return;
  quietLogger = true;
  setLogger({
    error: (message: string, error?: unknown) =>
      log.debug("influxdb-client: {message} {error}", { message, error: String(error ?? "") }),
    warn: (message: string, error?: unknown) =>
      log.debug("influxdb-client: {message} {error}", { message, error: String(error ?? "") }),
  });
}

/** Where and how to write. */
export interface InfluxV2Options {
  /** Base URL, e.g. `http://127.0.0.1:8086`. */
  url: string;
  token?: string | undefined;
  org: string;
  bucket: string;
  /** Per-request timeout in ms (default 5000). */
  timeoutMs?: number;
}

/** A writer with a `close` for the client's write API. */
export interface InfluxV2Writer {
  write: LineWriter;
  close(): Promise<void>;
}

/** A {@linkcode LineWriter} backed by one `WriteApi` of `@influxdata/influxdb-client`. */
export function influxV2Writer(opts: InfluxV2Options, maxBatch = 1000): InfluxV2Writer {
  quietClientLogger();
  const client = new InfluxDB({
    url: opts.url.replace(/\/+$/, ""),
    token: opts.token ?? "",
    timeout: opts.timeoutMs ?? 5000,
  });
  const api: WriteApi = client.getWriteApi(opts.org, opts.bucket, "ms", {
    batchSize: maxBatch + 1,
    flushInterval: 0,
    maxRetries: 0,
    maxBufferLines: 1,
    maxRetryTime: 0x7fffffff,
    gzipThreshold: 1 << 30,
  });
  let chain = Promise.resolve();
  const write: LineWriter = (body, signal) => {
    // one batch at a time through the shared WriteApi
    const run = chain.then(async () => {
      if (signal.aborted) throw signal.reason;
      api.writeRecords(body.split("\n"));
      try {
        await api.flush();
      } catch (e) {
        if (e instanceof HttpError && isRejection(e.statusCode)) {
          const detail = (e.body ?? e.message).trim().slice(0, 300);
          throw new RejectedWriteError(
            e.statusCode,
            `InfluxDB refused the write: HTTP ${e.statusCode} ${detail}`,
          );
        }
        throw e;
      }
    });
    chain = run.catch(() => {});
    return run;
  };
  return {
    write,
    // does not wait for a write still in flight (bounded by the request timeout)
    close: () => {
      api.dispose();
      return Promise.resolve();
    },
  };
}

/** A buffered sink writing through the 2.x API (`kind` `influxdb-v2`). */
export function createInfluxV2Sink(
  opts: InfluxV2Options,
  sinkOptions: Omit<BufferedSinkOptions, "kind"> = {},
): BufferedSink {
  const w = influxV2Writer(opts, sinkOptions.maxBatch ?? 1000);
  return new BufferedSink(w.write, { ...sinkOptions, kind: "influxdb-v2", onClose: w.close });
}

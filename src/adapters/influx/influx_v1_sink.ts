/**
 * Metric sink for the InfluxDB 1.x HTTP API: `POST {Url}/write?db={DbName}&precision=ms`, with
 * basic auth from `Username`/`Password` when a user is configured. HTTP 5xx, 429 and network
 * errors are failed writes (the points stay buffered and the {@linkcode BufferedSink} backs
 * off); any other 4xx is a {@linkcode RejectedWriteError}: the batch is dropped, counted and
 * logged with the start of the response body, since retrying it cannot help. (InfluxDB 1.x
 * answers a batch with some bad points with 400 "partial write" after writing the good ones;
 * the whole batch is counted as rejected.)
 *
 * @module
 */

import {
  BufferedSink,
  type BufferedSinkOptions,
  isRejection,
  type LineWriter,
  RejectedWriteError,
} from "./buffered_sink.ts";

/** Where and how to write. */
export interface InfluxV1Options {
  /** Base URL, e.g. `http://127.0.0.1:8086`. */
  url: string;
  /** Database name. */
  db: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Per-request timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Optional retention policy (`rp=`). */
  retentionPolicy?: string | undefined;
}

/** Combines an outer abort signal with a timeout; `done()` clears the timer. */
export function requestSignal(
  outer: AbortSignal,
  timeoutMs: number,
): { signal: AbortSignal; done: () => void } {
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(new Error(`request timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onAbort = () => ctl.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener("abort", onAbort, { once: true });
  return {
    signal: ctl.signal,
    done: () => {
      clearTimeout(timer);
      outer.removeEventListener("abort", onAbort);
    },
  };
}

/** The `/write` URL for these options. */
export function influxV1WriteUrl(opts: InfluxV1Options): string {
  const u = new URL(opts.url.replace(/\/+$/, "") + "/write");
  u.searchParams.set("db", opts.db);
  u.searchParams.set("precision", "ms");
  if (opts.retentionPolicy) u.searchParams.set("rp", opts.retentionPolicy);
  return u.toString();
}

/** A {@linkcode LineWriter} for the 1.x `/write` endpoint. */
export function influxV1Writer(opts: InfluxV1Options): LineWriter {
  const url = influxV1WriteUrl(opts);
  const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
  if (opts.username) {
    const raw = new TextEncoder().encode(`${opts.username}:${opts.password ?? ""}`);
    headers["authorization"] = `Basic ${btoa(String.fromCharCode(...raw))}`;
  }
  const timeoutMs = opts.timeoutMs ?? 5000;
  return async (body, outer) => {
    const { signal, done } = requestSignal(outer, timeoutMs);
    try {
      const res = await fetch(url, { method: "POST", headers, body, signal });
      const text = await res.text();
      if (res.status >= 400) {
        const detail = text.trim().slice(0, 300);
        if (isRejection(res.status)) {
          throw new RejectedWriteError(
            res.status,
            `InfluxDB refused the write: HTTP ${res.status} ${detail}`,
          );
        }
        throw new Error(`InfluxDB write failed: HTTP ${res.status} ${detail}`);
      }
    } finally {
      done();
    }
  };
}

/** A buffered sink writing to InfluxDB 1.x (`kind` `influxdb-v1`). */
export function createInfluxV1Sink(
  opts: InfluxV1Options,
  sinkOptions: Omit<BufferedSinkOptions, "kind"> = {},
): BufferedSink {
  return new BufferedSink(influxV1Writer(opts), {
    ...sinkOptions,
    kind: "influxdb-v1",
    dialect: "v1",
  });
}

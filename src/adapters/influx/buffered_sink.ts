/**
 * The buffering, batching and retrying half of every InfluxDB sink, around a plain
 * `writeLines(body)` function that sends one batch of line protocol.
 *
 * - `write` encodes points to lines at once and queues them; it never blocks nor throws.
 * - The queue is bounded (default 10 000 points): beyond it the **oldest** points are dropped,
 *   counted in `stats().dropped` and logged at most once a minute.
 * - A timer flushes the queue (default every second) in batches of at most 1000 lines; a full
 *   batch is sent at once.
 * - While writes fail (network errors, timeouts, HTTP 5xx and 429) the points stay queued and
 *   the next attempt waits 250 ms, doubling up to 10 s.
 * - A batch the database refuses for good (the writer throws a {@linkcode RejectedWriteError}:
 *   HTTP 4xx other than 429, such as a malformed point, a missing database or bad credentials)
 *   is dropped at once, counted in `stats().rejected` and logged (at most once a minute, with
 *   the count since), and the queue moves on: one bad batch never blocks export. A batch that was written is removed for good: nothing is ever sent twice
 *   (the original's ever-growing batch, bug #23, cannot come back).
 * - `close` flushes within a bounded time (default 2 s), aborts what is still in flight and
 *   clears every timer.
 *
 * While a batch is in flight, new points queue behind it and the bound applies to the queue; if
 * the batch fails it goes back to the front and the queue is trimmed to the bound again (oldest
 * first). So at most `maxBuffered + maxBatch` lines are held, and only for one request.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { Backoff } from "../../domain/backoff.ts";
import { type Clock, systemClock } from "../../domain/clock.ts";
import type { MetricPoint, MetricSink, MetricSinkStats } from "../../ports/metric_sink.ts";
import { encodeLines, type LineDialect } from "./line_protocol.ts";

const log = getLogger(["gru", "metrics"]);

/**
 * Thrown by a {@linkcode LineWriter} when the database refused a batch for good: retrying the
 * same lines cannot succeed (HTTP 4xx other than 429).
 */
export class RejectedWriteError extends Error {
  /** The HTTP status. */
  readonly status: number;

  /**
   * @param status The HTTP status.
   * @param message What the database said (short).
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "RejectedWriteError";
    this.status = status;
  }
}

/** Whether an HTTP status means "this batch will never be accepted" (4xx but 429). */
export function isRejection(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429;
}

/**
 * Sends one batch of lines (joined by `\n`). Resolves when the database accepted it, rejects
 * otherwise. Should give up when `signal` aborts.
 */
export type LineWriter = (body: string, signal: AbortSignal) => Promise<void>;

/** Options of a {@linkcode BufferedSink}. */
export interface BufferedSinkOptions {
  /** `kind` reported by the sink, e.g. `influxdb-v1`. */
  kind: string;
  /** How names with backslashes are encoded for the server's parser (default `v2`). */
  dialect?: LineDialect;
  /** Maximum points held (default 10 000). */
  maxBuffered?: number;
  /** Maximum lines per request (default 1000). */
  maxBatch?: number;
  /** Flush period in ms (default 1000). */
  flushIntervalMs?: number;
  /** First retry delay in ms (default 250); doubles after each failure. */
  initialBackoffMs?: number;
  /** Longest retry delay in ms (default 10 000). */
  maxBackoffMs?: number;
  /** Time `close` may spend flushing, in ms (default 2000). */
  closeTimeoutMs?: number;
  /** Minimum ms between two "points dropped" / "write failed" log lines (default 60 000). */
  logIntervalMs?: number;
  /** Time source and timers (default: the system clock). */
  clock?: Clock;
  /** Called at the end of `close` (e.g. to release the writer's client). */
  onClose?: () => Promise<void>;
}

/** A {@linkcode MetricSink} that buffers, batches and retries around a {@linkcode LineWriter}. */
export class BufferedSink implements MetricSink {
  readonly kind: string;
  readonly #writeLines: LineWriter;
  readonly #dialect: LineDialect;
  readonly #clock: Clock;
  readonly #maxBuffered: number;
  readonly #maxBatch: number;
  readonly #flushIntervalMs: number;
  /** Retry delays; `attempts` is 0 while writes succeed. */
  readonly #backoff: Backoff;
  readonly #closeTimeoutMs: number;
  readonly #logIntervalMs: number;
  readonly #onClose: (() => Promise<void>) | undefined;

  /** Lines waiting, oldest first, from index `#head` on (compacted now and then). */
  #queue: string[] = [];
  #head = 0;
  /** The batch being written. */
  #inflight: string[] = [];
  #running: Promise<void> | undefined;
  /** Aborts the pending timer. */
  #timer: AbortController | undefined;
  #timerAt = Infinity;
  /** Aborts in-flight writes when `close` gives up. */
  readonly #abort = new AbortController();
  #closed = false;
  /** No timer-driven attempt before this time. */
  #retryAt = 0;

  #written = 0;
  #dropped = 0;
  #failedWrites = 0;
  #rejected = 0;
  #rejectedUnlogged = 0;
  #lastRejectLog = -Infinity;
  #lastError: string | undefined;
  #droppedUnlogged = 0;
  #lastDropLog = -Infinity;
  #lastFailLog = -Infinity;

  /**
   * @param writeLines sends one batch.
   * @param options bounds, timings and clock.
   */
  constructor(writeLines: LineWriter, options: BufferedSinkOptions) {
    this.kind = options.kind;
    this.#writeLines = writeLines;
    this.#dialect = options.dialect ?? "v2";
    this.#clock = options.clock ?? systemClock;
    this.#maxBuffered = Math.max(1, Math.floor(options.maxBuffered ?? 10_000));
    this.#maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1000));
    this.#flushIntervalMs = Math.max(1, options.flushIntervalMs ?? 1000);
    const minMs = Math.max(1, options.initialBackoffMs ?? 250);
    this.#backoff = new Backoff(this.#clock, {
      minMs,
      maxMs: Math.max(minMs, options.maxBackoffMs ?? 10_000),
    });
    this.#closeTimeoutMs = Math.max(0, options.closeTimeoutMs ?? 2000);
    this.#logIntervalMs = Math.max(0, options.logIntervalMs ?? 60_000);
    this.#onClose = options.onClose;
  }

  get #queued(): number {
    return this.#queue.length - this.#head;
  }

  write(points: readonly MetricPoint[]): void {
    try {
      const lines = encodeLines(points, this.#dialect);
      if (lines.length === 0) return;
      if (this.#closed) {
        this.#drop(lines.length);
        return;
      }
      for (const line of lines) this.#queue.push(line);
      this.#trim();
      if (this.#running) return;
      if (this.#queued >= this.#maxBatch && this.#backoff.attempts === 0) this.#flushSoon();
      else this.#schedule(Math.max(this.#flushIntervalMs, this.#retryAt - this.#clock.now()));
    } catch (e) {
      // never throw to the caller
      log.error("Metric sink write failed unexpectedly: {error}", { error: String(e) });
    }
  }

  flush(): Promise<void> {
    if (this.#running) return this.#running;
    if (this.#queued === 0) return Promise.resolve();
    this.#cancelTimer();
    const run = this.#drain().finally(() => {
      this.#running = undefined;
      this.#afterRun();
    });
    this.#running = run;
    return run;
  }

  stats(): MetricSinkStats {
    return {
      buffered: this.#queued + this.#inflight.length,
      written: this.#written,
      dropped: this.#dropped,
      failedWrites: this.#failedWrites,
      rejected: this.#rejected,
      lastError: this.#lastError,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) {
      await this.#running?.catch(() => {});
      return;
    }
    this.#closed = true;
    this.#cancelTimer();
    const deadline = new AbortController();
    const timeout = this.#clock.sleep(this.#closeTimeoutMs, deadline.signal).then(
      () => "timeout" as const,
      () => "done" as const,
    );
    try {
      const done = (async () => {
        await this.#running;
        await this.flush();
        return "done" as const;
      })();
      if ((await Promise.race([done, timeout])) === "timeout") {
        this.#abort.abort(new Error("metric sink closed"));
        await done.catch(() => {});
      }
    } finally {
      deadline.abort();
      this.#cancelTimer();
    }
    const left = this.#queued + this.#inflight.length;
    if (left > 0) {
      log.warn("Metric sink closed with {count} points not written", { count: left });
    }
    this.#flushDropLog(true);
    await this.#onClose?.().catch(() => {});
  }

  /** Writes batches until the queue is empty or a write fails. */
  async #drain(): Promise<void> {
    while (this.#queued > 0 && !this.#abort.signal.aborted) {
      const end = Math.min(this.#queue.length, this.#head + this.#maxBatch);
      this.#inflight = this.#queue.slice(this.#head, end);
      this.#head = end;
      this.#compact();
      try {
        await this.#writeLines(this.#inflight.join("\n"), this.#abort.signal);
      } catch (e) {
        if (e instanceof RejectedWriteError && !this.#abort.signal.aborted) {
          this.#rejectedBatch(e);
          continue;
        }
        this.#failed(e);
        return;
      }
      this.#written += this.#inflight.length;
      this.#inflight = [];
      if (this.#backoff.attempts > 0) {
        log.info("Metric writes recovered ({kind})", { kind: this.kind });
      }
      this.#backoff.reset();
      this.#retryAt = 0;
      this.#lastError = undefined;
    }
  }

  /** The database refused the in-flight batch for good: drop it, count it, log it. */
  #rejectedBatch(e: RejectedWriteError): void {
    const n = this.#inflight.length;
    this.#inflight = [];
    this.#rejected += n;
    this.#rejectedUnlogged += n;
    this.#lastError = e.message;
    // the database answered: it is up, so no backoff
    this.#backoff.reset();
    this.#retryAt = 0;
    const now = this.#clock.now();
    if (now - this.#lastRejectLog >= this.#logIntervalMs) {
      this.#lastRejectLog = now;
      log.error(
        "InfluxDB rejected a batch ({kind}, HTTP {status}): dropped {count} points ({total} in all), not retried: {error}",
        {
          kind: this.kind,
          status: e.status,
          count: this.#rejectedUnlogged,
          total: this.#rejected,
          error: e.message,
        },
      );
      this.#rejectedUnlogged = 0;
    }
  }

  #failed(e: unknown): void {
    // the batch goes back to the front; the bound applies again, oldest first
    this.#queue = this.#inflight.concat(this.#queue.slice(this.#head));
    this.#head = 0;
    this.#inflight = [];
    this.#trim();
    this.#failedWrites++;
    this.#lastError = e instanceof Error ? e.message : String(e);
    const delay = this.#backoff.next();
    this.#retryAt = this.#clock.now() + delay;
    const now = this.#clock.now();
    if (now - this.#lastFailLog >= this.#logIntervalMs) {
      this.#lastFailLog = now;
      log.warn(
        "Metric write failed ({kind}), {buffered} points kept, retrying in {delay} ms: {error}",
        {
          kind: this.kind,
          buffered: this.#queued,
          delay,
          error: this.#lastError,
        },
      );
    }
  }

  /** After a drain: schedule the next attempt if points are left. */
  #afterRun(): void {
    if (this.#closed || this.#queued === 0) return;
    const failing = this.#backoff.attempts > 0;
    if (failing) this.#schedule(Math.max(0, this.#retryAt - this.#clock.now()));
    else if (this.#queued >= this.#maxBatch) this.#flushSoon();
    else this.#schedule(this.#flushIntervalMs);
  }

  /** Flushes right after the current task (a full batch is waiting). */
  #flushSoon(): void {
    queueMicrotask(() => {
      if (!this.#running && !this.#closed) this.flush().catch(() => {});
    });
  }

  /** Arms the timer to fire in `ms` unless it already fires sooner. */
  #schedule(ms: number): void {
    if (this.#closed) return;
    const at = this.#clock.now() + ms;
    if (this.#timer && this.#timerAt <= at) return;
    this.#cancelTimer();
    const timer = new AbortController();
    this.#timer = timer;
    this.#timerAt = at;
    this.#clock.sleep(ms, timer.signal).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.flush().catch(() => {});
      },
      () => {},
    );
  }

  #cancelTimer(): void {
    this.#timer?.abort();
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Drops the oldest queued lines beyond the bound. */
  #trim(): void {
    const over = this.#queued - this.#maxBuffered;
    if (over <= 0) return;
    this.#head += over;
    this.#compact();
    this.#drop(over);
  }

  #drop(n: number): void {
    this.#dropped += n;
    this.#droppedUnlogged += n;
    this.#flushDropLog(false);
  }

  #flushDropLog(force: boolean): void {
    if (this.#droppedUnlogged === 0) return;
    const now = this.#clock.now();
    if (!force && now - this.#lastDropLog < this.#logIntervalMs) return;
    this.#lastDropLog = now;
    log.warn("Metric buffer full ({kind}): dropped {count} oldest points ({total} in all)", {
      kind: this.kind,
      count: this.#droppedUnlogged,
      total: this.#dropped,
    });
    this.#droppedUnlogged = 0;
  }

  /** Releases the consumed front of the queue once it is large. */
  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

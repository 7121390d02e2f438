/**
 * The event and log streams of `MemoryContainerRuntime`: the open `events` subscriptions and
 * `followLogs` streams, and the queue that delivers events and log lines to them asynchronously
 * and in order, as a real stream delivers them after the call that caused them.
 *
 * @module
 */

import type { RuntimeEvent } from "../../ports/container_runtime.ts";
import { matchesLabels } from "./memory_containers.ts";

/** An open stream: `stop()` ends it (its promise resolves), `stop(err)` makes it reject. */
interface Stream {
  stop: (err?: unknown) => void;
}

/** An open `events` stream. */
interface Subscriber extends Stream {
  labels: Record<string, string>;
  onEvent: (event: RuntimeEvent) => void;
}

/** An open `followLogs` stream. */
interface Follower extends Stream {
  id: string;
  onLine: (line: string) => void;
}

/** Longest log line passed on, in bytes (as the Docker adapter cuts them). */
const MAX_LINE_BYTES = 4096;
/** Attribute keys the Docker adapter cannot tell from labels in an event, so drops. */
const NON_LABEL_ATTRIBUTES = new Set(["name", "image", "exitCode", "execID", "signal"]);

/** Cuts `line` to `MAX_LINE_BYTES` UTF-8 bytes on a character boundary. */
function cutLine(line: string): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= MAX_LINE_BYTES) return line;
  let end = MAX_LINE_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/**
 * Adds a stream made of `fields` to `streams`; it stays there until stopped or until `signal`
 * aborts (which ends it). Returns the stream's promise.
 */
function open<S extends Stream>(
  streams: Set<S>,
  signal: AbortSignal,
  fields: Omit<S, "stop">,
): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const stream = {
    ...fields,
    stop: (err?: unknown) => {
      if (!streams.delete(stream)) return;
      signal.removeEventListener("abort", onAbort);
      if (err === undefined) resolve();
      else reject(err);
    },
  } as S;
  const onAbort = () => stream.stop();
  streams.add(stream);
  signal.addEventListener("abort", onAbort, { once: true });
  return promise;
}

/** The open streams of the fake engine and their delivery queue. */
export class MemoryStreams {
  readonly #subscribers = new Set<Subscriber>();
  readonly #followers = new Set<Follower>();
  #pending: (() => void)[] = [];
  #draining: Promise<void> | undefined;

  /** While deliveries are queued, a promise of the queue's end; undefined when idle. */
  get draining(): Promise<void> | undefined {
    return this.#draining;
  }

  /**
   * Opens an `events` stream for the containers whose labels include all of `labels`; it ends
   * when `signal` aborts.
   */
  subscribe(
    labels: Record<string, string>,
    onEvent: (event: RuntimeEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return open(this.#subscribers, signal, { labels: { ...labels }, onEvent });
  }

  /** Opens a `followLogs` stream of container `id`; it ends when `signal` aborts. */
  follow(id: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    return open(this.#followers, signal, { id, onLine });
  }

  /**
   * Queues event `action` of container `id` (with labels `labels`, at `time`) for every
   * subscriber whose labels `labels` includes. A subscriber whose callback throws has its
   * stream rejected with the error.
   */
  emit(id: string, labels: Record<string, string>, action: string, time: number): void {
    const eventLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) {
      if (!NON_LABEL_ATTRIBUTES.has(k)) eventLabels[k] = v;
    }
    const event: RuntimeEvent = { id, action, labels: eventLabels, time };
    for (const sub of this.#subscribers) {
      if (!matchesLabels(labels, sub.labels)) continue;
      this.#deliver(() => {
        if (!this.#subscribers.has(sub)) return;
        try {
          sub.onEvent({ ...event, labels: { ...event.labels } });
        } catch (err) {
          sub.stop(err); // a caller's callback threw: its stream rejects, like the adapter's
        }
      });
    }
  }

  /**
   * Queues `line` of container `id` for its followers: one line per newline-separated part,
   * without a trailing `\r`, cut to 4096 bytes.
   */
  log(id: string, line: string): void {
    const lines = line.split("\n").map((l) => cutLine(l.endsWith("\r") ? l.slice(0, -1) : l));
    for (const f of this.#followers) {
      if (f.id !== id) continue;
      this.#deliver(() => {
        if (!this.#followers.has(f)) return;
        for (const l of lines) {
          try {
            f.onLine(l);
          } catch (err) {
            f.stop(err); // a caller's callback threw: its stream rejects, like the adapter's
            return;
          }
        }
      });
    }
  }

  /** Ends the log streams of container `id`, after the lines already on their way. */
  endLogs(id: string): void {
    for (const f of [...this.#followers]) {
      if (f.id !== id) continue;
      this.#deliver(() => f.stop());
    }
  }

  /** Rejects every open stream at once, each with a new `error()`. */
  breakAll(error: () => unknown): void {
    for (const s of [...this.#subscribers]) s.stop(error());
    for (const f of [...this.#followers]) f.stop(error());
  }

  /** Queues a delivery; the queue drains in order on a later microtask. */
  #deliver(task: () => void): void {
    this.#pending.push(task);
    this.#draining ??= (async () => {
      await Promise.resolve();
      while (this.#pending.length) {
        const batch = this.#pending;
        this.#pending = [];
        for (const t of batch) t();
        await Promise.resolve();
      }
      this.#draining = undefined;
    })();
  }
}

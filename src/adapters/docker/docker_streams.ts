/**
 * Decoding of Docker's HTTP streams: concatenated JSON objects (events, stats), multiplexed or
 * raw container logs split into lines, event messages mapped to `RuntimeEvent`s, and a pump that
 * settles exactly once however the stream ends.
 *
 * @module
 */

import type Docker from "dockerode";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { RuntimeEvent } from "../../ports/container_runtime.ts";

/**
 * Splits a stream of concatenated JSON objects (Docker's events and stats streams: one object
 * per line, but chunks may cut an object or carry several) into parsed values. Tolerates
 * missing newlines by tracking brace depth outside strings. A single object larger than
 * `maxBytes` is dropped rather than buffered without bound.
 */
export class JsonObjectSplitter {
  #buf = "";
  #depth = 0;
  #inString = false;
  #escape = false;
  #scanned = 0;
  readonly #maxChars: number;
  readonly #decoder = new TextDecoder();

  constructor(maxBytes = 4 * 1024 * 1024) {
    this.#maxChars = maxBytes;
  }

  /** Feeds a chunk and returns the objects it completed (unparseable ones are skipped). */
  push(chunk: Uint8Array | string): unknown[] {
    this.#buf += typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    const out: unknown[] = [];
    let start = 0;
    let i = this.#scanned;
    for (; i < this.#buf.length; i++) {
      const c = this.#buf.charCodeAt(i);
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === 0x5c) this.#escape = true; // backslash
        else if (c === 0x22) this.#inString = false;
        continue;
      }
      if (c === 0x22) {
        if (this.#depth > 0) this.#inString = true;
      } else if (c === 0x7b) { // {
        if (this.#depth === 0) start = i;
        this.#depth++;
      } else if (c === 0x7d && this.#depth > 0) { // }
        this.#depth--;
        if (this.#depth === 0) {
          try {
            out.push(JSON.parse(this.#buf.slice(start, i + 1)));
          } catch {
            // not JSON after all: skip it
          }
          start = i + 1;
        }
      } else if (this.#depth === 0) {
        start = i + 1; // whitespace or garbage between objects
      }
    }
    this.#buf = this.#buf.slice(start);
    this.#scanned = this.#buf.length;
    if (this.#buf.length > this.#maxChars) this.reset();
    return out;
  }

  /** Forgets any partial object. */
  reset(): void {
    this.#buf = "";
    this.#depth = 0;
    this.#inString = false;
    this.#escape = false;
    this.#scanned = 0;
  }
}

/** Longest log line passed on, in bytes (longer lines are cut). */
export const MAX_LOG_LINE_BYTES = 4096;

/**
 * Splits a byte stream into lines (`\n`, with a trailing `\r` dropped), cutting lines to
 * `maxBytes` (on a UTF-8 character boundary) without ever buffering more than that.
 */
export class LineSplitter {
  readonly #max: number;
  readonly #buf: Uint8Array;
  #len = 0;
  #overflow = false;
  readonly #decoder = new TextDecoder();

  constructor(maxBytes = MAX_LOG_LINE_BYTES) {
    this.#max = maxBytes;
    this.#buf = new Uint8Array(maxBytes + 4);
  }

  /** Feeds bytes, calling `emit` once per completed line. */
  push(bytes: Uint8Array, emit: (line: string) => void): void {
    let from = 0;
    while (from < bytes.length) {
      const nl = bytes.indexOf(0x0a, from);
      const end = nl < 0 ? bytes.length : nl;
      this.#append(bytes.subarray(from, end));
      if (nl < 0) return;
      emit(this.#take());
      from = nl + 1;
    }
  }

  /** Emits a last unterminated line, if any. */
  flush(emit: (line: string) => void): void {
    if (this.#len > 0 || this.#overflow) emit(this.#take());
  }

  #append(part: Uint8Array): void {
    const room = this.#buf.length - this.#len;
    if (part.length > room) this.#overflow = true;
    const n = Math.min(room, part.length);
    this.#buf.set(part.subarray(0, n), this.#len);
    this.#len += n;
  }

  #take(): string {
    let end = this.#len;
    if (end > this.#max) {
      end = this.#max;
      // back off to the start of the character that would straddle the cut
      while (end > 0 && (this.#buf[end]! & 0xc0) === 0x80) end--;
    } else if (end > 0 && this.#buf[end - 1] === 0x0d) {
      end--;
    }
    const line = this.#decoder.decode(this.#buf.subarray(0, end));
    this.#len = 0;
    this.#overflow = false;
    return line;
  }
}

/** The part of dockerode's modem that demultiplexes attach/logs streams. */
export type StreamDemuxer = Pick<Docker["modem"], "demuxStream">;

type DemuxSource = Parameters<StreamDemuxer["demuxStream"]>[0];
type DemuxSink = Parameters<StreamDemuxer["demuxStream"]>[1];

/**
 * Turns Docker's attach/logs stream into lines. A non-TTY container's stream is multiplexed
 * (frames of an 8-byte header: stream type, three zero bytes, big-endian payload length; then
 * the payload): dockerode's `demuxStream` decodes it, and a header that is not a valid frame
 * makes it pass the rest through as stdout. A TTY container's stream is raw (`raw`). stdout
 * and stderr each get their own line splitter, so their lines never mix. Everything happens
 * synchronously inside `push`, so an exception of `emit` surfaces there.
 */
export class LogDemuxer {
  readonly #stdout = new LineSplitter();
  readonly #stderr = new LineSplitter();
  /** What `demuxStream` reads from: `push` emits each chunk on it. */
  readonly #source = new EventEmitter();
  readonly #raw: boolean;
  readonly #emit: (line: string) => void;

  /**
   * @param emit Called once per line.
   * @param options `modem`: dockerode's (`docker.modem`); `raw`: the container has a TTY.
   */
  constructor(
    emit: (line: string) => void,
    options: { modem: StreamDemuxer; raw?: boolean | undefined },
  ) {
    this.#emit = emit;
    this.#raw = options.raw ?? false;
    if (!this.#raw) {
      options.modem.demuxStream(
        this.#source as unknown as DemuxSource,
        this.#sink(this.#stdout),
        this.#sink(this.#stderr),
      );
    }
  }

  /** Feeds a chunk of the stream. */
  push(chunk: Uint8Array): void {
    if (this.#raw) this.#stdout.push(chunk, this.#emit);
    else this.#source.emit("data", Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  /** Emits unterminated last lines. */
  flush(): void {
    this.#stdout.flush(this.#emit);
    this.#stderr.flush(this.#emit);
  }

  /** A writable for `demuxStream` that splits what it gets into lines at once. */
  #sink(lines: LineSplitter): DemuxSink {
    const sink = {
      write: (bytes: Uint8Array) => {
        lines.push(bytes, this.#emit);
        return true;
      },
    };
    return sink as unknown as DemuxSink;
  }
}

/** Attributes Docker puts in an event's `Actor.Attributes` that are not container labels. */
const NON_LABEL_ATTRIBUTES = new Set(["name", "image", "exitCode", "execID", "signal"]);

interface DockerEventMessage {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Maps one message of Docker's event stream to a `RuntimeEvent` (undefined if not one). */
export function toRuntimeEvent(raw: unknown): RuntimeEvent | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const m = raw as DockerEventMessage;
  if (m.Type !== undefined && m.Type !== "container") return undefined;
  const id = m.Actor?.ID ?? m.id;
  const fullAction = m.Action ?? m.status;
  if (typeof id !== "string" || !id || typeof fullAction !== "string") return undefined;
  const action = fullAction.split(":")[0]!.trim();
  if (!action) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.Actor?.Attributes ?? {})) {
    if (!NON_LABEL_ATTRIBUTES.has(k) && typeof v === "string") labels[k] = v;
  }
  const time = typeof m.timeNano === "number"
    ? m.timeNano / 1e6
    : typeof m.time === "number"
    ? m.time * 1000
    : Date.now();
  return { id, action, labels, time };
}

/**
 * Runs `stream` until it ends, errors or `signal` aborts; `onData` handles each chunk. Settles
 * exactly once; the stream is destroyed in every case.
 */
export function pump(
  stream: Readable,
  signal: AbortSignal,
  onData: (chunk: Uint8Array) => void,
  onEnd: (settle: { resolve: () => void; reject: (err: unknown) => void }) => void,
  onError: (err: unknown) => unknown,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      stream.off("data", data);
      stream.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => finish();
    const data = (chunk: Uint8Array | string) => {
      if (done) return;
      try {
        onData(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
      } catch (err) {
        finish(err); // a caller's callback threw
      }
    };
    stream.on("data", data);
    stream.on("error", (err) => {
      if (!done) finish(signal.aborted ? undefined : onError(err));
    });
    const ended = () => {
      if (done) return;
      if (signal.aborted) return finish();
      onEnd({ resolve: () => finish(), reject: (err) => finish(err ?? new Error("ended")) });
    };
    stream.on("end", ended);
    stream.on("close", ended);
    if (signal.aborted) finish();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

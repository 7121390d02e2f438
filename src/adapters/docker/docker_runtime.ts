/**
 * `ContainerRuntime` over a real Docker engine with dockerode (unix socket or TCP, TLS
 * optional). Engine errors become `UnavailableError` (cannot reach / timeout) or
 * `NotFoundError` (404); nothing here retries: callers decide.
 *
 * @module
 */

import Docker from "dockerode";
import type { Readable } from "node:stream";
import type {
  ContainerDetails,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  RuntimeEvent,
} from "../../ports/container_runtime.ts";
import {
  ConflictError,
  errorMessage,
  GruError,
  NotFoundError,
  UnavailableError,
} from "../../domain/errors.ts";
import type { DockerEndpoint } from "./docker_url.ts";

/** Options of `DockerRuntime`. */
export interface DockerRuntimeOptions {
  endpoint: DockerEndpoint;
  /** Per-request timeout in ms. @default 10000 */
  timeoutMs?: number;
  /** PEM contents for TLS. */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined };
}

interface DockerError extends Error {
  statusCode?: number;
  json?: { message?: string };
  code?: string;
}

function wrap(err: unknown, what: string): GruError {
  const e = err as DockerError;
  const detail = e?.json?.message ?? errorMessage(err);
  if (e?.statusCode === 404) return new NotFoundError(`Docker ${what}: ${detail}`, { cause: err });
  if (e?.statusCode === 409) return new ConflictError(`Docker ${what}: ${detail}`, { cause: err });
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new GruError(`Docker ${what}: ${detail}`, { cause: err });
  }
  return new UnavailableError(`Docker ${what} failed: ${detail}`, { cause: err });
}

function hostPortsOf(ports: Docker.Port[] | undefined): number[] {
  return [...new Set((ports ?? []).flatMap((p) => p.PublicPort ? [p.PublicPort] : []))];
}

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

/**
 * Demultiplexes Docker's attach/logs stream of a non-TTY container: frames of an 8-byte header
 * (stream type 0/1/2, three zero bytes, big-endian payload length) and a payload. Each stream
 * gets its own line splitter so that stdout and stderr lines never mix. A header that is not
 * a valid frame switches to raw mode (the whole rest is treated as stdout).
 */
export class LogDemuxer {
  readonly #lines = [new LineSplitter(), new LineSplitter(), new LineSplitter()];
  readonly #header = new Uint8Array(8);
  #headerLen = 0;
  #remaining = 0;
  #stream = 1;
  #raw = false;
  readonly #emit: (line: string) => void;

  constructor(emit: (line: string) => void, options: { raw?: boolean } = {}) {
    this.#emit = emit;
    this.#raw = options.raw ?? false;
  }

  /** Feeds a chunk of the stream. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#raw) {
        this.#lines[1]!.push(chunk.subarray(at), this.#emit);
        return;
      }
      if (this.#remaining === 0) {
        const n = Math.min(8 - this.#headerLen, chunk.length - at);
        this.#header.set(chunk.subarray(at, at + n), this.#headerLen);
        this.#headerLen += n;
        at += n;
        if (this.#headerLen < 8) return;
        this.#headerLen = 0;
        const h = this.#header;
        if (h[0]! > 2 || h[1] !== 0 || h[2] !== 0 || h[3] !== 0) {
          this.#raw = true;
          this.#lines[1]!.push(h.slice(), this.#emit);
          continue;
        }
        this.#stream = h[0]!;
        this.#remaining = new DataView(h.buffer).getUint32(4);
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - at);
      this.#lines[this.#stream]!.push(chunk.subarray(at, at + n), this.#emit);
      this.#remaining -= n;
      at += n;
    }
  }

  /** Emits unterminated last lines. */
  flush(): void {
    for (const l of this.#lines) l.flush(this.#emit);
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
function pump(
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

/** The Docker adapter. */
export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;

  /**
   * A client for long-lived streams (events, logs, stats): dockerode's `timeout` is an idle
   * timeout that would cut a quiet stream, so this one only bounds the wait for the response
   * headers (`connectionTimeout`).
   */
  readonly streamDocker: Docker;

  /**
   * Whether the engine runs on this host (unix socket or loopback), so its containers'
   * cgroup files are readable here.
   */
  readonly endpointIsLocal: boolean;

  constructor(options: DockerRuntimeOptions) {
    const ep = options.endpoint;
    const timeout = options.timeoutMs ?? 10_000;
    const base: Docker.DockerOptions = ep.kind === "socket" ? { socketPath: ep.socketPath } : {
      host: ep.host,
      port: ep.port,
      protocol: ep.protocol,
      ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
      ...(options.tls?.cert ? { cert: options.tls.cert } : {}),
      ...(options.tls?.key ? { key: options.tls.key } : {}),
    };
    this.docker = new Docker({ ...base, timeout });
    this.endpointIsLocal = ep.kind === "socket" ||
      ["127.0.0.1", "localhost", "::1"].includes(ep.host);
    this.streamDocker = new Docker({ ...base, connectionTimeout: timeout } as Docker.DockerOptions);
  }

  async info(): Promise<EngineInfo> {
    try {
      const i = await this.docker.info();
      return { ncpu: i.NCPU, memTotal: i.MemTotal, serverVersion: i.ServerVersion };
    } catch (err) {
      throw wrap(err, "info");
    }
  }

  async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    return await this.#list({ label });
  }

  async listAll(): Promise<ContainerSummary[]> {
    return await this.#list({});
  }

  async #list(filters: Record<string, string[]>): Promise<ContainerSummary[]> {
    try {
      const cs = await this.docker.listContainers({ all: true, filters: JSON.stringify(filters) });
      return cs.map((c) => ({
        id: c.Id,
        name: (c.Names?.[0] ?? "").replace(/^\//, ""),
        image: c.Image,
        labels: c.Labels ?? {},
        state: c.State,
        created: c.Created,
        hostPorts: hostPortsOf(c.Ports),
      }));
    } catch (err) {
      throw wrap(err, "list containers");
    }
  }

  async inspect(id: string): Promise<ContainerDetails> {
    try {
      const c = await this.docker.getContainer(id).inspect();
      const bindings: Record<string, number[]> = {};
      for (const [guest, hosts] of Object.entries(c.HostConfig.PortBindings ?? {})) {
        bindings[guest] = ((hosts ?? []) as { HostPort?: string }[])
          .map((h) => Number(h.HostPort)).filter((n) => n > 0);
      }
      const started = Date.parse(c.State.StartedAt);
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        image: c.Config.Image,
        labels: c.Config.Labels ?? {},
        state: c.State.Status,
        created: Math.floor(Date.parse(c.Created) / 1000),
        hostPorts: Object.values(bindings).flat(),
        cpusetCpus: c.HostConfig.CpusetCpus ?? "",
        memory: c.HostConfig.Memory ?? 0,
        portBindings: bindings,
        startedAt: Number.isFinite(started) && started > 0 ? started : 0,
        pid: c.State.Pid ?? 0,
      };
    } catch (err) {
      throw wrap(err, `inspect ${id.slice(0, 12)}`);
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    const exposed: Record<string, Record<string, never>> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const [guest, host] of Object.entries(spec.portBindings)) {
      const key = guest.includes("/") ? guest : `${guest}/tcp`;
      exposed[key] = {};
      bindings[key] = [{ HostIp: "", HostPort: String(host) }];
    }
    try {
      const c = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        ...(spec.cmd?.length ? { Cmd: spec.cmd } : {}),
        ...(spec.entrypoint?.length ? { Entrypoint: spec.entrypoint } : {}),
        Env: spec.env,
        Labels: spec.labels,
        ExposedPorts: exposed,
        ...(spec.volumes && Object.keys(spec.volumes).length ? { Volumes: spec.volumes } : {}),
        ...(spec.stopTimeout !== undefined ? { StopTimeout: spec.stopTimeout } : {}),
        HostConfig: {
          CpusetCpus: spec.cpusetCpus,
          ...(spec.cpuShares ? { CpuShares: spec.cpuShares } : {}),
          Memory: spec.memory,
          PortBindings: bindings,
          ...(spec.links?.length ? { Links: spec.links } : {}),
        },
      });
      return c.id;
    } catch (err) {
      throw wrap(err, `create ${spec.name}`);
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if ((err as DockerError).statusCode === 304) return; // already started
      throw wrap(err, `start ${id.slice(0, 12)}`);
    }
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutSeconds });
    } catch (err) {
      if ((err as DockerError).statusCode === 304) return; // already stopped
      throw wrap(err, `stop ${id.slice(0, 12)}`);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return;
      throw wrap(err, `remove ${id.slice(0, 12)}`);
    }
  }

  async unpause(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).unpause();
    } catch (err) {
      throw wrap(err, `unpause ${id.slice(0, 12)}`);
    }
  }

  async events(
    labels: Record<string, string>,
    onEvent: (event: RuntimeEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted) return;
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    let stream: Readable;
    try {
      stream = await this.streamDocker.getEvents({
        filters: JSON.stringify({ type: ["container"], label }),
      }) as unknown as Readable;
    } catch (err) {
      if (signal.aborted) return;
      throw wrap(err, "events");
    }
    const json = new JsonObjectSplitter();
    await pump(
      stream,
      signal,
      (chunk) => {
        for (const raw of json.push(chunk)) {
          const event = toRuntimeEvent(raw);
          if (event) onEvent(event);
        }
      },
      ({ reject }) => reject(new UnavailableError("Docker event stream ended")),
      (err) => wrap(err, "event stream"),
    );
  }

  async followLogs(
    id: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted) return;
    let stream: Readable;
    let tty: boolean;
    try {
      tty = (await this.docker.getContainer(id).inspect()).Config?.Tty === true;
      if (signal.aborted) return;
      stream = await this.streamDocker.getContainer(id).logs({
        follow: true,
        stdout: true,
        stderr: true,
        since: Math.floor(Date.now() / 1000),
        tail: 0,
      }) as unknown as Readable;
    } catch (err) {
      if (signal.aborted) return;
      throw wrap(err, `logs ${id.slice(0, 12)}`);
    }
    const demux = new LogDemuxer(onLine, { raw: tty });
    await pump(
      stream,
      signal,
      (chunk) => demux.push(chunk),
      ({ resolve }) => {
        demux.flush();
        resolve();
      },
      (err) => wrap(err, `log stream ${id.slice(0, 12)}`),
    );
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return false;
      throw wrap(err, `inspect image ${image}`);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

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
import { JsonObjectSplitter, LogDemuxer, pump, toRuntimeEvent } from "./docker_streams.ts";

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

/** Docker's container names and ids; anything else never reaches the engine. */
const CONTAINER_REF = /^\/?[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Checks a container id or name before it goes into a URL path: an empty id would turn
 * `/containers/{id}/json` into a redirect that dockerode follows to a bogus host, and an
 * uncaught DNS error there ends the process. A bad reference is a 404, as Docker says for an
 * unknown one.
 */
function ref(id: string): string {
  if (!CONTAINER_REF.test(id)) {
    const err: DockerError = new Error(`No such container: ${JSON.stringify(id.slice(0, 80))}`);
    err.statusCode = 404;
    throw err;
  }
  return id;
}

function hostPortsOf(ports: Docker.Port[] | undefined): number[] {
  return [...new Set((ports ?? []).flatMap((p) => p.PublicPort ? [p.PublicPort] : []))];
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

  /** The per-request timeout, ms. */
  readonly #timeoutMs: number;

  /**
   * A client with no timeout of its own, for requests that carry their own deadline (stop):
   * dockerode's `connectionTimeout` runs until the response headers, which a stop sends only
   * once the container is gone.
   */
  readonly #deadlineDocker: Docker;

  constructor(options: DockerRuntimeOptions) {
    const ep = options.endpoint;
    const timeout = options.timeoutMs ?? 10_000;
    this.#timeoutMs = timeout;
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
    this.#deadlineDocker = new Docker(base);
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
      const c = await this.docker.getContainer(ref(id)).inspect();
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
      await this.docker.getContainer(ref(id)).start();
    } catch (err) {
      if ((err as DockerError).statusCode === 304) return; // already started
      throw wrap(err, `start ${id.slice(0, 12)}`);
    }
  }

  /**
   * Stops a container, waiting up to `timeoutSeconds` for it to exit after SIGTERM before the
   * engine kills it. The engine answers only once the container is gone, so this request gets
   * its own deadline of the grace period plus the per-request timeout as a margin (the
   * per-request idle timeout would cut a grace period longer than itself with a socket
   * hang-up, leaving the container running).
   */
  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const deadlineMs = Math.max(0, timeoutSeconds) * 1000 + this.#timeoutMs;
    try {
      await this.#deadlineDocker.getContainer(ref(id)).stop({
        t: timeoutSeconds,
        abortSignal: AbortSignal.timeout(deadlineMs),
      });
    } catch (err) {
      if ((err as DockerError).statusCode === 304) return; // already stopped
      const e = err as DockerError;
      if (e?.name === "AbortError" || e?.name === "TimeoutError") {
        throw new UnavailableError(
          `Docker stop ${id.slice(0, 12)} failed: no answer within ${deadlineMs / 1000} s ` +
            `(grace period ${timeoutSeconds} s plus ${this.#timeoutMs / 1000} s)`,
          { cause: err },
        );
      }
      throw wrap(err, `stop ${id.slice(0, 12)}`);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(ref(id)).remove({ force: true });
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return;
      // Another caller's removal is under way (an engine under load can take seconds to unmount
      // a container's layers): the container is going, so wait for it to be gone.
      if (
        (err as DockerError).statusCode === 409 && /already in progress/.test(String(err)) &&
        await this.#gone(id)
      ) return;
      throw wrap(err, `remove ${id.slice(0, 12)}`);
    }
  }

  /** Whether the container disappears within about ten seconds. */
  async #gone(id: string): Promise<boolean> {
    for (let i = 0; i < 40; i++) {
      try {
        await this.docker.getContainer(ref(id)).inspect();
      } catch (err) {
        if ((err as DockerError).statusCode === 404) return true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  async unpause(id: string): Promise<void> {
    try {
      await this.docker.getContainer(ref(id)).unpause();
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
      tty = (await this.docker.getContainer(ref(id)).inspect()).Config?.Tty === true;
      if (signal.aborted) return;
      stream = await this.streamDocker.getContainer(ref(id)).logs({
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
    const demux = new LogDemuxer(onLine, { modem: this.docker.modem, raw: tty });
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

/**
 * HTTP client for the agent API, used by `gru manage`, `gru status` and gossip. Every request
 * has a timeout and its answer is read up to a size limit; HTTP error statuses become the
 * matching `GruError` subclass. With TLS options it verifies agents against the cluster's CA and
 * presents a client certificate (mutual TLS), through `Deno.createHttpClient`.
 *
 * @module
 */

import {
  ConflictError,
  GruError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from "../domain/errors.ts";
import { type AgentCommand, API_PREFIX, type CommandResult, type ErrorBody } from "./protocol.ts";

/** Default limit of an answer's body: 4 MiB. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** PEM texts of TLS towards agents. */
export interface AgentTls {
  /** CA certificate(s) agents' certificates are verified against. */
  ca?: string | undefined;
  /** Client certificate (chain) presented to agents that require one. */
  cert?: string | undefined;
  /** Its private key. */
  key?: string | undefined;
}

/**
 * An HTTP client (connection pool) that verifies agents against `tls.ca` and presents
 * `tls.cert`; share one among many `AgentClient`s and close it at the end.
 *
 * @param tls PEM texts; `cert` and `key` go together.
 * @returns The client to pass as `AgentClientOptions.httpClient`.
 */
export function agentHttpClient(tls: AgentTls): Deno.HttpClient {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ValidationError("A TLS client certificate needs its key, and a key its certificate");
  }
  try {
    return Deno.createHttpClient({
      ...(tls.ca !== undefined ? { caCerts: [tls.ca] } : {}),
      ...(tls.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    });
  } catch (err) {
    throw new ValidationError(
      `Cannot use the TLS CA, certificate or key (PEM expected): ${describe(err)}`,
      { cause: err },
    );
  }
}

/** Options of `AgentClient`. */
export interface AgentClientOptions {
  /** Cluster token sent as a bearer token. */
  token?: string | undefined;
  /** Per-request timeout in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Largest answer body accepted, in bytes. @default 4 MiB */
  maxResponseBytes?: number;
  /** TLS towards agents: the client makes (and `close()` releases) its own HTTP client. */
  tls?: AgentTls | undefined;
  /** A shared HTTP client from `agentHttpClient` (not closed by `close()`); wins over `tls`. */
  httpClient?: Deno.HttpClient | undefined;
  /**
   * Refuse plain `http://` addresses other than loopback ones, so the token never crosses the
   * network in clear text (set when TLS is configured). @default false
   */
  requireTls?: boolean;
}

const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

/** Talks to agents by their address (`http://ip:port` or `https://ip:port`). */
export class AgentClient {
  #token: string | undefined;
  #timeoutMs: number;
  #maxBytes: number;
  #client: Deno.HttpClient | undefined;
  #ownsClient: boolean;
  #tls: boolean;
  #requireTls: boolean;

  constructor(options: AgentClientOptions = {}) {
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.#ownsClient = options.httpClient === undefined && options.tls !== undefined;
    this.#client = options.httpClient ??
      (options.tls !== undefined ? agentHttpClient(options.tls) : undefined);
    this.#tls = this.#client !== undefined;
    this.#requireTls = options.requireTls ?? false;
  }

  /** Releases the HTTP client this client made (a shared one stays open). */
  close(): void {
    if (this.#ownsClient) this.#client?.close();
    this.#client = undefined;
  }

  /** Sends a command and returns the agent's answer. */
  command(address: string, command: AgentCommand): Promise<CommandResult> {
    return this.request<CommandResult>(address, "POST", "/commands", {
      Name: command.name,
      Target: command.target,
      Object: command.object ?? null,
    });
  }

  /** GETs `path` (relative to `/gru/v1`). */
  get<T>(address: string, path: string): Promise<T> {
    return this.request<T>(address, "GET", path);
  }

  /** Sends one request; `path` is relative to `/gru/v1`. */
  async request<T>(address: string, method: string, path: string, body?: unknown): Promise<T> {
    const url = `${address.replace(/\/+$/, "")}${API_PREFIX}${path}`;
    if (this.#requireTls && !url.startsWith("https://") && !LOOPBACK.test(url)) {
      throw new UnavailableError(
        `Refusing plain HTTP to the agent at ${address}: TLS is configured, so the token ` +
          `never crosses the network in clear text (serve the agent with --tls-cert/--tls-key)`,
      );
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#token) headers["authorization"] = `Bearer ${this.#token}`;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        ...(this.#client ? { client: this.#client } : {}),
      });
    } catch (err) {
      throw new UnavailableError(`Cannot reach agent at ${address}: ${this.#describe(err, url)}`, {
        cause: err,
      });
    }
    let text: string;
    try {
      text = await readLimited(res, this.#maxBytes);
    } catch (err) {
      if (err instanceof GruError) {
        throw new GruError(`${method} ${url}: ${err.message}`, { cause: err });
      }
      throw new UnavailableError(`Cannot read the answer of ${address}: ${describe(err)}`, {
        cause: err,
      });
    }
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: handled below
    }
    if (res.ok) return parsed as T;
    const e = (parsed as ErrorBody | undefined)?.error;
    const message = e?.message ?? `${method} ${url} answered ${res.status} ${text.slice(0, 80)}`;
    const options = { details: e?.details };
    switch (res.status) {
      case 400:
      case 413:
      case 422:
        throw new ValidationError(message, options);
      case 401:
      case 403:
        throw new UnauthorizedError(message, options);
      case 404:
        throw new NotFoundError(message, options);
      case 409:
        throw new ConflictError(message, options);
      case 503:
      case 504:
        throw new UnavailableError(message, options);
      default:
        throw new GruError(message, options);
    }
  }

  /** What went wrong, with a hint for TLS failures. */
  #describe(err: unknown, url: string): string {
    const text = describe(err);
    const https = url.startsWith("https://");
    if (https && /close_notify|unexpected-eof|certificate ?required|handshake/i.test(text)) {
      return `${text} (the agent closed the TLS handshake: it may require a client ` +
        `certificate signed by its CA: --tls-cert/--tls-key or GRU_TLS_CERT/GRU_TLS_KEY)`;
    }
    if (https && /UnknownIssuer|invalid peer certificate/i.test(text)) {
      return `${text} (verify agents with the cluster's CA: --tls-ca or GRU_TLS_CA)`;
    }
    if (!https && /invalid HTTP version|connection reset|closed before message/i.test(text)) {
      return `${text} (does the agent serve HTTPS? Its address should start with https://)`;
    }
    if (https && /InvalidContentType|corrupt message/i.test(text)) {
      return `${text} (the agent serves plain HTTP, not HTTPS)`;
    }
    return text;
  }
}

/**
 * Reads a response body as text, failing once it exceeds `max` bytes (the rest is cancelled).
 *
 * @param res The response.
 * @param max Largest body accepted, in bytes.
 * @returns The body.
 */
export async function readLimited(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new GruError(`the answer is ${declared} bytes, over the limit of ${max} bytes`);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new GruError(`the answer is over the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

function describe(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "request timed out";
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return cause && cause !== err.message ? `${err.message}: ${cause}` : err.message;
  }
  return String(err);
}

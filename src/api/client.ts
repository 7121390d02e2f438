/**
 * HTTP client for the agent API, used by `gru manage`, `gru status` and gossip. Every request
 * has a timeout; HTTP error statuses become the matching `GruError` subclass.
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

/** Options of `AgentClient`. */
export interface AgentClientOptions {
  /** Cluster token sent as a bearer token. */
  token?: string | undefined;
  /** Per-request timeout in milliseconds. @default 10000 */
  timeoutMs?: number;
}

/** Talks to agents by their address (`http://ip:port`). */
export class AgentClient {
  #token: string | undefined;
  #timeoutMs: number;

  constructor(options: AgentClientOptions = {}) {
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
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
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#token) headers["authorization"] = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new UnavailableError(`Cannot reach agent at ${address}: ${describe(err)}`, {
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: handled below
    }
    if (res.ok) return parsed as T;
    const e = (parsed as ErrorBody | undefined)?.error;
    const message = e?.message ?? `${method} ${url} answered ${res.status} ${text.slice(0, 200)}`;
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
}

function describe(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return "request timed out";
  return err instanceof Error ? err.message : String(err);
}

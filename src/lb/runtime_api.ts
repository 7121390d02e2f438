/**
 * A client of HAProxy's runtime API (the `stats socket … level admin` of its configuration): one
 * connection per command, as HAProxy's non-interactive mode expects (it answers and closes), over
 * a unix socket or a TCP `host:port`. Above it, the few commands the load-balancer watcher needs,
 * each checking HAProxy's answer, and parsers of `show servers state` and `show stat`.
 *
 * @module
 */

import { UnavailableError } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";

/** Sends one runtime-API command line and resolves with HAProxy's whole answer. */
export type RuntimeApi = (command: string) => Promise<string>;

/** An error HAProxy answered to a command (the command reached it; it refused). */
export class HaproxyCommandError extends Error {
  constructor(command: string, answer: string) {
    super(`HAProxy refused ${excerpt(command)}: ${excerpt(answer.trim())}`);
    this.name = "HaproxyCommandError";
  }
}

/** Where the runtime API listens: a unix socket path, or `host:port` (`ipv4@` prefix allowed). */
export type SocketAddress =
  | { transport: "unix"; path: string }
  | { transport: "tcp"; hostname: string; port: number };

/**
 * Parses `--socket`: a path (anything with a `/`, or `unix@PATH`), else `[ipv4@]host:port`.
 * Throws `Error` naming what was expected.
 */
export function parseSocketAddress(raw: string): SocketAddress {
  const text = raw.trim();
  if (text.startsWith("unix@")) return { transport: "unix", path: text.slice(5) };
  if (text.includes("/")) return { transport: "unix", path: text };
  const m = /^(?:ipv4@)?([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) {
    throw new Error(
      `Invalid --socket ${excerpt(raw)}: expected the path of HAProxy's admin socket ` +
        `or host:port of its runtime API`,
    );
  }
  return { transport: "tcp", hostname: m[1]!, port };
}

/** A runtime API over a real socket; each call opens, writes, reads to EOF and closes. */
export function socketRuntimeApi(address: SocketAddress, timeoutMs = 5000): RuntimeApi {
  const where = address.transport === "unix" ? address.path : `${address.hostname}:${address.port}`;
  return async (command) => {
    if (/[\r\n]/.test(command)) throw new Error(`Invalid HAProxy command ${excerpt(command)}`);
    let conn: Deno.Conn | undefined;
    const timer = setTimeout(() => conn?.close(), timeoutMs);
    try {
      conn = address.transport === "unix"
        ? await Deno.connect({ transport: "unix", path: address.path })
        : await Deno.connect({ hostname: address.hostname, port: address.port });
      const bytes = new TextEncoder().encode(`${command}\n`);
      for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(16384);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
      }
      const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return new TextDecoder().decode(all);
    } catch (err) {
      throw new UnavailableError(
        `HAProxy's runtime API at ${where} did not answer: ${(err as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
      try {
        conn?.close();
      } catch {
        // closed by the timer or by HAProxy
      }
    }
  };
}

/** One server of a backend, from `show servers state`. */
export interface ServerState {
  name: string;
  address: string;
  port: number;
  /** 0 stopped (down), 1 starting, 2 running (up), 3 stopping. */
  operational: number;
  /** Bit field: 0x01 forced maintenance, 0x08 forced drain (others: inherited, resolution). */
  admin: number;
}

/**
 * Parses `show servers state <backend>` (format version 1): one server per line after the
 * `#` header. Throws `HaproxyCommandError` on an answer that is not that table (no such
 * backend).
 */
export function parseServersState(answer: string, command: string): ServerState[] {
  const lines = answer.split("\n");
  if (lines[0]?.trim() !== "1") throw new HaproxyCommandError(command, answer);
  const header = (lines[1] ?? "").replace(/^#\s*/, "").split(/\s+/);
  const col = (name: string) => header.indexOf(name);
  const [iName, iAddr, iPort, iOp, iAdmin] = [
    col("srv_name"),
    col("srv_addr"),
    col("srv_port"),
    col("srv_op_state"),
    col("srv_admin_state"),
  ];
  if ([iName, iAddr, iPort, iOp, iAdmin].some((i) => i < 0)) {
    throw new HaproxyCommandError(command, answer);
  }
  const out: ServerState[] = [];
  for (const line of lines.slice(2)) {
    const f = line.trim().split(/\s+/);
    if (f.length < header.length || line.trim() === "") continue;
    out.push({
      name: f[iName]!,
      address: f[iAddr]!,
      port: Number(f[iPort]),
      operational: Number(f[iOp]),
      admin: Number(f[iAdmin]),
    });
  }
  return out;
}

/**
 * Current sessions and queued requests per server of `backend`, from `show stat` (CSV).
 */
export function parseSessions(
  answer: string,
  backend: string,
): Map<string, { sessions: number; queued: number }> {
  const lines = answer.split("\n");
  const header = (lines[0] ?? "").replace(/^#\s*/, "").split(",");
  const [iPx, iSv, iQ, iS] = ["pxname", "svname", "qcur", "scur"].map((n) => header.indexOf(n));
  const out = new Map<string, { sessions: number; queued: number }>();
  if ([iPx, iSv, iQ, iS].some((i) => i === undefined || i < 0)) return out;
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    if (f[iPx!] !== backend || f[iSv!] === "BACKEND" || f[iSv!] === "FRONTEND") continue;
    out.set(f[iSv!]!, { sessions: Number(f[iS!]) || 0, queued: Number(f[iQ!]) || 0 });
  }
  return out;
}

/** The runtime-API commands the watcher uses, each checking HAProxy's answer. */
export class HaproxyBackend {
  readonly #api: RuntimeApi;
  readonly backend: string;

  constructor(api: RuntimeApi, backend: string) {
    this.#api = api;
    this.backend = backend;
  }

  async #expect(command: string, ok: (answer: string) => boolean): Promise<string> {
    const answer = await this.#api(command);
    if (!ok(answer)) throw new HaproxyCommandError(command, answer);
    return answer;
  }

  /** The backend's servers (throws when HAProxy has no such backend). */
  async servers(): Promise<ServerState[]> {
    const cmd = `show servers state ${this.backend}`;
    return parseServersState(await this.#api(cmd), cmd);
  }

  /** Current sessions and queue per server. */
  async sessions(): Promise<Map<string, { sessions: number; queued: number }>> {
    return parseSessions(await this.#api("show stat"), this.backend);
  }

  /**
   * Adds a server and puts it in service. With health checks (`check` in `options`), it stays
   * down until its first check passes, so no request reaches an instance not listening yet.
   */
  async add(name: string, address: string, port: number, options: string): Promise<void> {
    const srv = `${this.backend}/${name}`;
    await this.#expect(
      `add server ${srv} ${address}:${port}${options ? ` ${options}` : ""}`,
      (a) => /New server registered/.test(a),
    );
    const empty = (a: string) => a.trim() === "";
    if (/(^|\s)check(\s|$)/.test(options)) {
      await this.#expect(`enable health ${srv}`, empty);
      // Leaving maintenance marks the server up at once; the very next command marks it down
      // until a check passes (one connection, run back to back).
      await this.#expect(`set server ${srv} state ready; set server ${srv} health down`, empty);
    } else {
      await this.#expect(`set server ${srv} state ready`, empty);
    }
  }

  /** Sets the administrative state: `ready`, `drain` or `maint`. */
  async setState(name: string, state: "ready" | "drain" | "maint"): Promise<void> {
    await this.#expect(`set server ${this.backend}/${name} state ${state}`, (a) => a.trim() === "");
  }

  /** Moves a server to another address and port. */
  async setAddress(name: string, address: string, port: number): Promise<void> {
    await this.#expect(
      `set server ${this.backend}/${name} addr ${address} port ${port}`,
      (a) => /changed|no need to change/i.test(a),
    );
  }

  /** Deletes a server (it must be in maintenance with no connection left). */
  async delete(name: string): Promise<void> {
    await this.#expect(`del server ${this.backend}/${name}`, (a) => /Server deleted/.test(a));
  }
}

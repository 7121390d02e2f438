/**
 * The discovery → HAProxy watcher behind `gru lb haproxy`: it keeps the servers of one HAProxy
 * backend equal to the discovery keys of one service (`<AppRoot>/<service>/<container id>` =
 * `<node IP>:<host port>`, src/agent/discovery.ts), through HAProxy's runtime API only (no reload,
 * no restart, so no established connection is ever cut):
 *
 * - a new key adds a server (`add server`, health checks enabled, put in service once a check
 *   passes);
 * - a key whose address changes moves its server (`set server … addr`);
 * - a deleted (or expired) key drains its server (`state drain`: no new request, those in flight
 *   finish), then, once it has no session and no queued request left (or after the drain
 *   timeout), puts it in maintenance and deletes it (`del server`, retried until HAProxy
 *   accepts);
 * - a key that comes back while its server drains puts it back in service.
 *
 * Level-triggered: each pass compares the keys (kept current by an etcd watch, and re-read in
 * full every resync period) with the backend's servers as HAProxy lists them, so a missed event,
 * an HAProxy restart or a watcher restart is repaired on the next pass. It manages only the
 * servers it names (`gru-<service>-<id>`); servers of the configuration file are left alone.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { KvEvent, KvStore, KvWatch } from "../ports/kv_store.ts";
import type { Clock } from "../domain/clock.ts";
import { errorMessage } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";
import { discoveryKey } from "../agent/discovery.ts";
import { type HaproxyBackend, HaproxyCommandError, type ServerState } from "./runtime_api.ts";

const log = getLogger(["gru", "lb"]);

/** Options of {@linkcode HaproxyWatcher}. */
export interface WatcherOptions {
  kv: KvStore;
  haproxy: HaproxyBackend;
  /** `Discovery.AppRoot` of the cluster (may be empty). */
  appRoot: string;
  service: string;
  /** Options of every added server, e.g. `check inter 1s fall 2 rise 1`. */
  serverOptions: string;
  /** Full re-read of the keys and the backend, in ms. */
  resyncMs: number;
  /** Longest drain before a server is put in maintenance anyway, in ms. */
  drainTimeoutMs: number;
  /** Period of the drain checks while a server drains, in ms. @default 500 */
  drainPollMs?: number;
  clock: Clock;
}

/** A parsed discovery value. */
export interface Endpoint {
  address: string;
  port: number;
}

/** Parses `<ip>:<port>` (or `[ipv6]:<port>`); `undefined` for an empty or malformed value. */
export function parseEndpoint(value: string): Endpoint | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { address: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** The server name of an instance: `gru-<service>-<short id>` (HAProxy-safe characters). */
export function serverName(service: string, id: string): string {
  const short = /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id.slice(0, 64);
  return `gru-${service}-${short}`.replace(/[^A-Za-z0-9_.:-]/g, "_");
}

/** What one pass did (for logs and tests). */
export interface PassReport {
  added: string[];
  moved: string[];
  draining: string[];
  restored: string[];
  deleted: string[];
}

/** Keeps one backend's servers equal to one service's discovery keys. */
export class HaproxyWatcher {
  readonly #o: WatcherOptions;
  readonly #prefix: string;
  /** Server name → endpoint, from the keys. */
  #desired = new Map<string, Endpoint>();
  /** Events seen while a full read is in flight, replayed over its result. */
  #replay: KvEvent[] | undefined;
  /** Server name → when its drain began (monotonic ms). */
  #draining = new Map<string, number>();
  #watch: KvWatch | undefined;
  #abort = new AbortController();
  #wake: (() => void) | undefined;
  #kicked = false;
  #running: Promise<void> | undefined;
  #lastResync = -Infinity;
  #passes = 0;

  constructor(options: WatcherOptions) {
    this.#o = options;
    this.#prefix = discoveryKey(options.appRoot, options.service, "");
  }

  /** The etcd prefix watched. */
  get prefix(): string {
    return this.#prefix;
  }

  /** Passes completed so far. */
  get passes(): number {
    return this.#passes;
  }

  /** Server names now expected from the keys. */
  get desired(): ReadonlyMap<string, Endpoint> {
    return this.#desired;
  }

  /** Starts watching; resolves once the first pass has run (successfully or not). */
  async start(): Promise<void> {
    this.#watch = await this.#o.kv.watchPrefix(this.#prefix, (e) => {
      this.#apply(e);
      this.#replay?.push(e);
      this.#kick();
    });
    await this.#pass();
    this.#running = this.#run();
  }

  /** Stops watching. HAProxy keeps the servers it has. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    this.#wake?.();
    await this.#running;
    await this.#watch?.close();
  }

  #apply(e: KvEvent): void {
    const id = e.key.slice(this.#prefix.length);
    if (!e.key.startsWith(this.#prefix) || id === "" || id.includes("/")) return;
    const name = serverName(this.#o.service, id);
    const endpoint = e.type === "put" ? parseEndpoint(e.value ?? "") : undefined;
    if (e.type === "put" && !endpoint && (e.value ?? "") !== "") {
      log.warn("Ignoring discovery key {key}: expected <ip>:<port>, got {value}", {
        key: excerpt(e.key),
        value: excerpt(e.value ?? ""),
      });
    }
    if (endpoint) this.#desired.set(name, endpoint);
    else this.#desired.delete(name);
  }

  #kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const wait = this.#draining.size > 0 ? (this.#o.drainPollMs ?? 500) : this.#o.resyncMs;
      if (!this.#kicked) {
        // One timer per wait, cancelled by a kick or by stop().
        const nap = new AbortController();
        const cancel = () => nap.abort();
        signal.addEventListener("abort", cancel, { once: true });
        this.#wake = cancel;
        await this.#o.clock.sleep(wait, nap.signal).catch(() => {});
        this.#wake = undefined;
        signal.removeEventListener("abort", cancel);
      }
      if (signal.aborted) return;
      await this.#pass();
    }
  }

  /** One reconciliation pass; errors are logged, and the next pass retries. */
  async #pass(): Promise<void> {
    this.#kicked = false;
    const now = this.#o.clock.monotonic();
    try {
      if (now - this.#lastResync >= this.#o.resyncMs) {
        await this.#resync();
        this.#lastResync = now;
      }
      const report = await this.#reconcile(now);
      const changed = Object.entries(report).filter(([, v]) => v.length > 0);
      if (changed.length > 0) {
        log.info("Backend {backend}: {changes}", {
          backend: this.#o.haproxy.backend,
          changes: changed.map(([k, v]) => `${k} ${v.join(" ")}`).join("; "),
        });
      }
    } catch (err) {
      log.warn("Backend {backend} not updated: {error}", {
        backend: this.#o.haproxy.backend,
        error: errorMessage(err),
      });
    } finally {
      this.#passes++;
    }
  }

  /** Re-reads every key, replaying the events that arrived while reading. */
  async #resync(): Promise<void> {
    this.#replay = [];
    try {
      const entries = await this.#o.kv.getPrefix(this.#prefix);
      const replay = this.#replay;
      this.#desired = new Map();
      for (const e of entries) this.#apply({ type: "put", key: e.key, value: e.value });
      for (const e of replay) this.#apply(e);
    } finally {
      this.#replay = undefined;
    }
  }

  async #reconcile(now: number): Promise<PassReport> {
    const h = this.#o.haproxy;
    const report: PassReport = { added: [], moved: [], draining: [], restored: [], deleted: [] };
    const mine = `gru-${this.#o.service}-`.replace(/[^A-Za-z0-9_.:-]/g, "_");
    const servers = new Map<string, ServerState>();
    for (const s of await h.servers()) if (s.name.startsWith(mine)) servers.set(s.name, s);
    for (const [name, want] of this.#desired) {
      const have = servers.get(name);
      await this.#each(name, async () => {
        if (!have) {
          await h.add(name, want.address, want.port, this.#o.serverOptions);
          this.#draining.delete(name);
          report.added.push(name);
          return;
        }
        if (have.address !== want.address || have.port !== want.port) {
          await h.setAddress(name, want.address, want.port);
          report.moved.push(name);
        }
        if ((have.admin & 0x09) !== 0 || this.#draining.has(name)) {
          await h.setState(name, "ready");
          this.#draining.delete(name);
          report.restored.push(name);
        }
      });
    }
    const gone = [...servers.values()].filter((s) => !this.#desired.has(s.name));
    for (const name of this.#draining.keys()) {
      if (!servers.has(name)) this.#draining.delete(name);
    }
    if (gone.length === 0) return report;
    const sessions = await h.sessions();
    for (const s of gone) {
      const since = this.#draining.get(s.name);
      if (since === undefined) {
        await this.#each(s.name, async () => {
          if ((s.admin & 0x01) === 0) await h.setState(s.name, "drain");
          this.#draining.set(s.name, now);
          report.draining.push(s.name);
        });
        continue;
      }
      const busy = sessions.get(s.name);
      const idle = (busy?.sessions ?? 0) === 0 && (busy?.queued ?? 0) === 0;
      if (!idle && now - since < this.#o.drainTimeoutMs) continue;
      if ((s.admin & 0x01) === 0 && !await this.#each(s.name, () => h.setState(s.name, "maint"))) {
        continue;
      }
      try {
        await h.delete(s.name);
        this.#draining.delete(s.name);
        report.deleted.push(s.name);
      } catch (err) {
        // Connections still attached (idle keep-alive ones included): retried next pass.
        log.debug("Cannot delete {server} yet: {error}", {
          server: s.name,
          error: errorMessage(err),
        });
      }
    }
    return report;
  }

  /**
   * Runs one server's commands; a refusal by HAProxy is logged and the pass goes on with the
   * other servers (retried next pass). Resolves with whether it went through. An unreachable
   * HAProxy still ends the pass.
   */
  async #each(name: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (!(err instanceof HaproxyCommandError)) throw err;
      log.warn("Server {server} of backend {backend}: {error}", {
        server: name,
        backend: this.#o.haproxy.backend,
        error: err.message,
      });
      return false;
    }
  }
}

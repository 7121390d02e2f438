/**
 * `gru lb haproxy`'s core, loaded only when that command runs: checks that HAProxy's runtime API
 * answers and knows the backend, then runs the discovery → HAProxy watcher (watcher.ts) until
 * the signal aborts.
 *
 * @module
 */

import type { KvStore } from "../ports/kv_store.ts";
import type { Clock } from "../domain/clock.ts";
import { HaproxyBackend, parseSocketAddress, socketRuntimeApi } from "./runtime_api.ts";
import { HaproxyWatcher } from "./watcher.ts";

export { HaproxyCommandError, parseSocketAddress } from "./runtime_api.ts";
export { HaproxyWatcher, parseEndpoint, serverName } from "./watcher.ts";

/** What `gru lb haproxy` runs with. */
export interface HaproxyLbOptions {
  kv: KvStore;
  /** HAProxy's admin socket: a path, or `host:port`. */
  socket: string;
  backend: string;
  appRoot: string;
  service: string;
  serverOptions: string;
  resyncMs: number;
  drainTimeoutMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Progress lines (the command's stdout). */
  say(line: string): void;
}

/**
 * Runs the watcher until `signal` aborts. Throws (before watching) when the runtime API does
 * not answer or has no such backend.
 */
export async function runHaproxyLb(o: HaproxyLbOptions): Promise<void> {
  const haproxy = new HaproxyBackend(socketRuntimeApi(parseSocketAddress(o.socket)), o.backend);
  const servers = await haproxy.servers();
  const watcher = new HaproxyWatcher({
    kv: o.kv,
    haproxy,
    appRoot: o.appRoot,
    service: o.service,
    serverOptions: o.serverOptions,
    resyncMs: o.resyncMs,
    drainTimeoutMs: o.drainTimeoutMs,
    clock: o.clock,
  });
  o.say(
    `Feeding HAProxy backend ${o.backend} (${servers.length} server(s) now) from ` +
      `${watcher.prefix}* through ${o.socket}; Ctrl-C to stop (HAProxy keeps its servers)`,
  );
  await watcher.start();
  try {
    if (!o.signal.aborted) {
      await new Promise<void>((resolve) =>
        o.signal.addEventListener("abort", () => resolve(), { once: true })
      );
    }
  } finally {
    await watcher.stop();
  }
}

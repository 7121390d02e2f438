/**
 * Service-instance discovery (the original's keys, docs/compat.md#keep-discovery): every running instance is published at
 * `<Discovery.AppRoot>/<service>/<container id>` = `<node IP>:<host port of the service's
 * discovery port>` (empty when it has none), on a lease of `Discovery.TTL` seconds kept alive by
 * the agent, and deleted when the instance stops. If the agent dies its keys expire.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { KvLease, KvStore } from "../ports/kv_store.ts";
import type { Instance, ServiceDescriptor } from "../domain/model.ts";
import { errorMessage } from "../domain/errors.ts";

const log = getLogger(["gru", "agent", "discovery"]);

/** The key of an instance under `appRoot`. */
export function discoveryKey(appRoot: string, service: string, id: string): string {
  const root = appRoot.replace(/^\/*/, "/").replace(/\/+$/, "");
  return `${root === "/" ? "" : root}/${service}/${id}`;
}

/** The value published for an instance. */
export function discoveryValue(
  hostIp: string,
  service: ServiceDescriptor,
  instance: Instance,
): string {
  const guest = service.discoveryPort.replace(/\/tcp$/, "");
  const port = instance.ports.find((p) => p.guest.replace(/\/tcp$/, "") === guest);
  return port ? `${hostIp}:${port.host}` : "";
}

/** Keeps the published keys equal to the running instances. */
export class Discovery {
  #kv: KvStore;
  #hostIp: string;
  #lease: KvLease | undefined;
  #ttl = 0;
  #published = new Map<string, string>();
  /** Instances withdrawn before their stop: never published again while they exist. */
  #withdrawn = new Set<string>();
  #syncing: Promise<void> = Promise.resolve();

  constructor(kv: KvStore, hostIp: string) {
    this.#kv = kv;
    this.#hostIp = hostIp;
  }

  /** The keys published now, key → value. */
  get published(): ReadonlyMap<string, string> {
    return this.#published;
  }

  /** Publishes running instances and withdraws the others (serialised; errors are logged). */
  sync(
    instances: readonly Instance[],
    services: ReadonlyMap<string, ServiceDescriptor>,
    settings: { appRoot: string; ttl: number },
  ): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync(instances, services, settings)).catch(
      (err) => log.warn("Discovery sync failed: {error}", { error: errorMessage(err) }),
    );
    return this.#syncing;
  }

  async #sync(
    instances: readonly Instance[],
    services: ReadonlyMap<string, ServiceDescriptor>,
    settings: { appRoot: string; ttl: number },
  ): Promise<void> {
    const want = new Map<string, string>();
    const present = new Set(instances.map((i) => i.id));
    for (const id of this.#withdrawn) if (!present.has(id)) this.#withdrawn.delete(id);
    for (const i of instances) {
      const svc = services.get(i.service);
      if (!svc || i.status !== "running" || this.#withdrawn.has(i.id)) continue;
      want.set(
        discoveryKey(settings.appRoot, i.service, i.id),
        discoveryValue(this.#hostIp, svc, i),
      );
    }
    if (!this.#lease || this.#ttl !== settings.ttl) {
      const old = this.#lease;
      this.#lease = await this.#kv.grantLease(settings.ttl);
      this.#ttl = settings.ttl;
      const lease = this.#lease;
      lease.onLost(() => {
        if (this.#lease === lease) {
          this.#lease = undefined;
          this.#published.clear();
        }
      });
      this.#published.clear();
      if (old) await old.revoke().catch(() => old.release());
    }
    for (const [key] of this.#published) {
      if (!want.has(key)) {
        await this.#kv.delete(key);
        this.#published.delete(key);
      }
    }
    for (const [key, value] of want) {
      if (this.#published.get(key) === value) continue;
      await this.#kv.put(key, value, { lease: this.#lease.id });
      this.#published.set(key, value);
    }
  }

  /**
   * Withdraws the key of instance `id` ahead of its stop (a load balancer fed by the keys then
   * drains it) and keeps it withdrawn while the instance exists. Resolves with whether an
   * address was published for it (false: nothing to drain).
   */
  withdraw(id: string): Promise<boolean> {
    this.#withdrawn.add(id);
    const done = this.#syncing.then(async () => {
      let had = false;
      for (const [key, value] of [...this.#published]) {
        if (!key.endsWith(`/${id}`)) continue;
        await this.#kv.delete(key);
        this.#published.delete(key);
        had ||= value !== "";
      }
      return had;
    });
    this.#syncing = done.then(() => {}, () => {});
    return done;
  }

  /** Withdraws every key (revokes the lease). */
  async close(): Promise<void> {
    await this.#syncing;
    const lease = this.#lease;
    this.#lease = undefined;
    this.#published.clear();
    if (lease) await lease.revoke().catch(() => lease.release());
  }
}

/**
 * `KvStore` over a real etcd (v3 API) with the `etcd3` client: several endpoints, optional
 * username/password and TLS, a deadline on every unary call so an unreachable etcd gives an
 * `UnavailableError` in seconds rather than a hang, and leases kept alive by the client.
 *
 * With several endpoints (members of one etcd cluster) a call that fails on one member is tried
 * on the others (up to one retry per endpoint, each attempt with its own deadline): the loss
 * of a member or a leader election costs a few seconds, not an error. Leases' keep-alive
 * streams and watches reconnect to a live member by themselves.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Etcd3, isRecoverableError, type Lease } from "etcd3";
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
} from "cockatiel";
import type {
  KvCompare,
  KvEntry,
  KvEvent,
  KvLease,
  KvOp,
  KvStore,
  KvWatch,
} from "../../ports/kv_store.ts";
import { errorMessage, GruError, UnavailableError } from "../../domain/errors.ts";

/** Options of `EtcdKvStore.connect`. */
export interface EtcdOptions {
  /** Endpoints such as `http://127.0.0.1:2379` (a bare `host:port` gets `http://`). */
  endpoints: string[];
  username?: string | undefined;
  password?: string | undefined;
  /** PEM file paths for TLS. */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Deadline of each unary call in ms. @default 3000 */
  timeoutMs?: number;
}

/** Splits `ETCD_ADDR`-style lists: `a:2379,b:2379` → normalised URLs. */
export function parseEndpoints(list: string): string[] {
  return list.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) =>
    /^[a-z]+:\/\//.test(s) ? s : `http://${s}`
  );
}

const ALWAYS_KEY = "\u0000gru/never-written";

function unavailable(err: unknown, what: string): GruError {
  const message = `etcd ${what} failed: ${errorMessage(err)}`;
  if (
    err instanceof Error && !isRecoverableError(err) &&
    !/deadline|unavailable|connect/i.test(err.message)
  ) {
    return new GruError(message, { cause: err });
  }
  return new UnavailableError(message, { cause: err });
}

/** The etcd adapter. */
export class EtcdKvStore implements KvStore {
  #client: Etcd3;
  #endpoints: string[];

  private constructor(client: Etcd3, endpoints: string[]) {
    this.#client = client;
    this.#endpoints = endpoints;
  }

  /** Creates a client (no request is made until the first call). */
  static async connect(options: EtcdOptions): Promise<EtcdKvStore> {
    const timeoutMs = options.timeoutMs ?? 3000;
    const read = async (f?: string) => f ? Buffer.from(await Deno.readFile(f)) : undefined;
    const [ca, cert, key] = await Promise.all([
      read(options.caFile),
      read(options.certFile),
      read(options.keyFile),
    ]);
    const endpoints = options.endpoints.length ? options.endpoints : ["http://127.0.0.1:2379"];
    const client = new Etcd3({
      hosts: endpoints,
      ...(options.username
        ? { auth: { username: options.username, password: options.password ?? "" } }
        : {}),
      ...(ca || cert
        ? {
          credentials: { rootCertificate: ca ?? Buffer.alloc(0), privateKey: key, certChain: cert },
        }
        : {}),
      dialTimeout: timeoutMs,
      defaultCallOptions: (ctx) => ctx.isStream ? {} : { deadline: Date.now() + timeoutMs },
      faultHandling: {
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: 500,
            breaker: new ConsecutiveBreaker(3),
          }),
        // A call that fails on one member (killed, or without a leader during an election)
        // is tried again on the others, each attempt with its own deadline.
        global: retry(handleWhen(isRecoverableError), {
          maxAttempts: Math.max(1, endpoints.length),
          backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }),
        }),
      },
    });
    return new EtcdKvStore(client, endpoints);
  }

  #fail(err: unknown, what: string): GruError {
    const e = unavailable(err, what);
    if (e instanceof UnavailableError) {
      return new UnavailableError(
        `Cannot reach etcd at ${this.#endpoints.join(",")}: ${what} failed: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return e;
  }

  /** The endpoints in use. */
  get endpoints(): string[] {
    return [...this.#endpoints];
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.#client.get(key).string()) ?? undefined;
    } catch (err) {
      throw this.#fail(err, `get ${key}`);
    }
  }

  async getPrefix(prefix: string): Promise<KvEntry[]> {
    try {
      const all = await this.#client.getAll().prefix(prefix).sort("Key", "Ascend").strings();
      return Object.entries(all).map(([key, value]) => ({ key, value }));
    } catch (err) {
      throw this.#fail(err, `get prefix ${prefix}`);
    }
  }

  async put(key: string, value: string, options?: { lease?: string | undefined }) {
    try {
      const b = this.#client.put(key).value(value);
      if (options?.lease !== undefined) b.lease(options.lease);
      await b.exec();
    } catch (err) {
      throw this.#fail(err, `put ${key}`);
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      const res = await this.#client.delete().key(key).exec();
      return Number(res.deleted) > 0;
    } catch (err) {
      throw this.#fail(err, `delete ${key}`);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    try {
      const res = await this.#client.delete().prefix(prefix).exec();
      return Number(res.deleted);
    } catch (err) {
      throw this.#fail(err, `delete prefix ${prefix}`);
    }
  }

  async txn(compares: KvCompare[], ops: KvOp[]): Promise<boolean> {
    try {
      const c = this.#client;
      // etcd needs no compare, but the builder does: "never-created key has create revision
      // 0" always holds.
      const all: KvCompare[] = compares.length ? compares : [{ key: ALWAYS_KEY, exists: false }];
      let cmp: ReturnType<Etcd3["if"]> | undefined;
      for (const x of all) {
        const [t, op, v] = "exists" in x
          ? ["Create", x.exists ? ">" : "==", 0] as const
          : ["Value", "==", x.value] as const;
        cmp = cmp ? cmp.and(x.key, t, op, v) : c.if(x.key, t, op, v);
      }
      // etcd refuses a txn that names one key twice, so a deletePrefix that overlaps a put
      // becomes deletes of the keys that exist now and are not put again.
      const puts = new Set(ops.flatMap((op) => "put" in op ? [op.put] : []));
      const expanded: KvOp[] = [];
      for (const op of ops) {
        if ("deletePrefix" in op && [...puts].some((p) => p.startsWith(op.deletePrefix))) {
          const existing = await this.getPrefix(op.deletePrefix);
          for (const e of existing) if (!puts.has(e.key)) expanded.push({ delete: e.key });
        } else expanded.push(op);
      }
      const builders = expanded.map((op) => {
        if ("put" in op) {
          const b = c.put(op.put).value(op.value);
          if (op.lease !== undefined) b.lease(op.lease);
          return b;
        }
        if ("delete" in op) return c.delete().key(op.delete);
        return c.delete().prefix(op.deletePrefix);
      });
      const res = await cmp!.then(...builders).commit();
      return res.succeeded;
    } catch (err) {
      throw this.#fail(err, "transaction");
    }
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    const lease: Lease = this.#client.lease(Math.max(1, Math.round(ttlSeconds)));
    const callbacks: ((err: Error) => void)[] = [];
    let lostErr: Error | undefined;
    lease.on("lost", (err) => {
      if (lostErr) return;
      lostErr = err;
      for (const cb of callbacks) cb(err);
    });
    let id: string;
    try {
      id = await lease.grant();
    } catch (err) {
      lease.release();
      throw this.#fail(err, "lease grant");
    }
    return {
      id,
      ttl: ttlSeconds,
      onLost: (cb) => {
        if (lostErr) cb(lostErr);
        else callbacks.push(cb);
      },
      revoke: async () => {
        try {
          await lease.revoke();
        } catch (err) {
          throw this.#fail(err, "lease revoke");
        }
      },
      release: () => lease.release(),
    };
  }

  async watchPrefix(prefix: string, onEvent: (event: KvEvent) => void): Promise<KvWatch> {
    try {
      const watcher = await this.#client.watch().prefix(prefix).create();
      watcher.on(
        "put",
        (kv) => onEvent({ type: "put", key: kv.key.toString(), value: kv.value.toString() }),
      );
      watcher.on("delete", (kv) => onEvent({ type: "delete", key: kv.key.toString() }));
      watcher.on("error", () => {/* the client reconnects by itself */});
      return { close: () => watcher.cancel() };
    } catch (err) {
      throw this.#fail(err, `watch ${prefix}`);
    }
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}

/**
 * Helpers of the security suite (`tests/security/`): a cluster in the real etcd with secrets
 * in its documents, a real agent process on loopback, and plain HTTP calls to it.
 *
 * @module
 */

import { gru, type GruProcess, loopbackAgent } from "./gru_process.ts";
import { etcdEndpoints } from "./env.ts";
import { removeRunContainers } from "./docker.ts";
import { waitFor } from "./agent.ts";
import { freePort } from "./net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";

/** Secret values planted in the cluster's documents; none may appear in a response or log. */
export const SECRETS = {
  influxPassword: "influx-pw-7f3a9c",
  influxToken: "influx-token-2b8e41",
  influxUser: "influx-user-c0ffee",
  envValue: "env-value-d34db33f",
};

/** A cluster with one agent process. */
export interface TrustCluster {
  cluster: string;
  env: Record<string, string>;
  port: number;
  url: string;
  agent: GruProcess;
  tmp: string;
  /** The stored token (undefined when the key is absent). */
  token(): Promise<string | undefined>;
  /** Writes or deletes etcd keys of the cluster (relative to `/gru/<cluster>/`). */
  kv<T>(fn: (kv: EtcdKvStore, root: string) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Creates cluster `trust-<name>-<run>` (with a token, or without one as the original Gru made
 * them), imports documents holding {@linkcode SECRETS}, starts an agent and waits until it is
 * registered.
 */
export async function startTrustCluster(options: {
  name: string;
  run: string;
  withToken: boolean;
}): Promise<TrustCluster> {
  const cluster = `trust-${options.name}-${options.run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-trust-" });
  const kv = async <T>(fn: (kv: EtcdKvStore, root: string) => Promise<T>): Promise<T> => {
    const store = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    try {
      return await fn(store, `/gru/${cluster}/`);
    } finally {
      await store.close();
    }
  };
  const created = await gru(["create", cluster], { env });
  if (created.code !== 0) throw new Error(`gru create failed: ${created.stderr}`);
  if (!options.withToken) await kv((s, root) => s.delete(`${root}token`));
  await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
  await Deno.writeTextFile(
    `${tmp}/conf/config.json`,
    JSON.stringify({
      Communication: { LoopTimeInterval: 1, MaxFriends: 1 },
      Metric: {
        MetricService: "none",
        Configuration: {
          Url: "http://127.0.0.1:1",
          DbName: "gru",
          Username: SECRETS.influxUser,
          Password: SECRETS.influxPassword,
          Token: SECRETS.influxToken,
        },
      },
    }),
  );
  await Deno.writeTextFile(
    `${tmp}/conf/services/idle.json`,
    JSON.stringify({
      Name: "idle",
      Image: "gru-test/busybox",
      Configuration: {
        Env: { DB_PASSWORD: SECRETS.envValue },
        Cmd: ["sleep", "600"],
        StopTimeout: 1,
      },
    }),
  );
  const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
  if (imp.code !== 0) throw new Error(`gru config import failed: ${imp.stderr}`);
  const port = freePort();
  const agent = loopbackAgent({
    cluster,
    name: "t1",
    port,
    stateDir: tmp,
    run: options.run,
    ttl: 3,
    env,
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    await agent.stop("SIGKILL");
    await removeRunContainers(options.run);
    await kv((s, root) => s.deletePrefix(root));
    await Deno.remove(tmp, { recursive: true });
  };
  try {
    await waitFor(
      () =>
        fetch(`${url}/gru/v1/health`)
          .then(async (r) => (await r.json()).registered === true)
          .catch(() => false),
      30_000,
      () => agent.log.slice(-1000),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    cluster,
    env,
    port,
    url,
    agent,
    tmp,
    token: () => kv((s, root) => s.get(`${root}token`)),
    kv,
    close,
  };
}

/** A response's status and body text (the body is always read, so no resource leaks). */
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string; json: () => unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

/** `Authorization` and JSON content-type headers for `token`. */
export function authHeaders(token: string | undefined): Record<string, string> {
  return {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

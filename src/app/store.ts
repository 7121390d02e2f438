/**
 * Opens the cluster store chosen by the global options: etcd (default; `--etcd` or `ETCD_ADDR`,
 * comma-separated endpoints) or the embedded store (`--store memory` or `--store file:<path>`).
 *
 * @module
 */

import type { StoreOptions } from "../ports/cli_deps.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ValidationError } from "../domain/errors.ts";

/** Opens the store; the caller closes it with `store.kv.close()`. */
export async function openStore(options: StoreOptions): Promise<ClusterStore> {
  const kind = options.store ?? "etcd";
  if (kind === "memory") return new ClusterStore(await MemoryKvStore.open());
  if (kind.startsWith("file:")) {
    const file = kind.slice("file:".length);
    if (!file) throw new ValidationError(`Invalid --store "${kind}": expected file:<path>`);
    return new ClusterStore(await MemoryKvStore.open({ file }));
  }
  if (kind !== "etcd") {
    throw new ValidationError(
      `Invalid --store "${kind}": expected etcd, memory or file:<path>`,
    );
  }
  // The etcd client (gRPC) is loaded only when etcd is the store.
  const { EtcdKvStore, parseEndpoints } = await import("../adapters/etcd/etcd_kv_store.ts");
  const endpoints = parseEndpoints(options.etcd ?? "http://127.0.0.1:2379");
  return new ClusterStore(
    await EtcdKvStore.connect({
      endpoints,
      username: options.etcdUser,
      password: options.etcdPassword,
      caFile: options.etcdCa,
      certFile: options.etcdCert,
      keyFile: options.etcdKey,
    }),
  );
}

import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { kvStoreContract } from "./kv_store_contract.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";

Deno.test("EtcdKvStore (real etcd) meets the KvStore contract", async (t) => {
  const store = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  try {
    await kvStoreContract(t, store, `/gru-test/${testRunId()}/contract/`);
  } finally {
    await store.close();
  }
});

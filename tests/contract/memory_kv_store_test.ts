import assert from "node:assert/strict";
import { MemoryKvStore } from "../../src/adapters/memory/memory_kv_store.ts";
import { eventually, kvStoreContract } from "./kv_store_contract.ts";

Deno.test("MemoryKvStore (in process) meets the KvStore contract", async (t) => {
  const store = await MemoryKvStore.open();
  try {
    await kvStoreContract(t, store, "/contract/");
  } finally {
    await store.close();
  }
});

Deno.test("MemoryKvStore (file) meets the KvStore contract", async (t) => {
  const dir = await Deno.makeTempDir();
  const store = await MemoryKvStore.open({ file: `${dir}/store.json` });
  try {
    await kvStoreContract(t, store, "/contract/");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MemoryKvStore (file) shares keys, leases and watches between two handles", async () => {
  const dir = await Deno.makeTempDir();
  const a = await MemoryKvStore.open({ file: `${dir}/store.json` });
  const b = await MemoryKvStore.open({ file: `${dir}/store.json` });
  try {
    const seen: string[] = [];
    const w = await b.watchPrefix("/x/", (e) => seen.push(`${e.type} ${e.key}`));
    const lease = await a.grantLease(2);
    await a.put("/x/node", "up", { lease: lease.id });
    assert.equal(await b.get("/x/node"), "up");
    await eventually(() => seen.includes("put /x/node"));
    lease.release(); // a dies without revoking: b sees the key expire
    await eventually(async () => (await b.get("/x/node")) === undefined, 6000);
    await eventually(() => seen.includes("delete /x/node"));
    await w.close();
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The `KvStore` contract: one behavioural suite, run on the embedded store and on real etcd.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { KvEvent, KvStore } from "../../src/ports/kv_store.ts";

/** Polls `check` until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 8000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`condition not met within ${ms} ms`);
}

/** Runs the contract as steps of `t` on a store whose keys under `prefix` are the test's. */
export async function kvStoreContract(
  t: Deno.TestContext,
  store: KvStore,
  prefix: string,
): Promise<void> {
  const k = (s: string) => `${prefix}${s}`;

  await t.step("get of a missing key is undefined", async () => {
    assert.equal(await store.get(k("missing")), undefined);
  });

  await t.step("put then get returns the value", async () => {
    await store.put(k("a"), "1");
    assert.equal(await store.get(k("a")), "1");
    await store.put(k("a"), "2");
    assert.equal(await store.get(k("a")), "2");
  });

  await t.step("getPrefix returns only the prefix, sorted by key", async () => {
    await store.put(k("p/b"), "b");
    await store.put(k("p/a"), "a");
    await store.put(k("q/c"), "c");
    assert.deepEqual(await store.getPrefix(k("p/")), [
      { key: k("p/a"), value: "a" },
      { key: k("p/b"), value: "b" },
    ]);
  });

  await t.step("delete reports whether the key existed", async () => {
    assert.equal(await store.delete(k("p/a")), true);
    assert.equal(await store.delete(k("p/a")), false);
    assert.equal(await store.get(k("p/a")), undefined);
  });

  await t.step("deletePrefix removes every key under it and counts them", async () => {
    await store.put(k("d/1"), "x");
    await store.put(k("d/2"), "y");
    assert.equal(await store.deletePrefix(k("d/")), 2);
    assert.deepEqual(await store.getPrefix(k("d/")), []);
  });

  await t.step("txn applies all ops when compares hold, none when they fail", async () => {
    const ok = await store.txn([{ key: k("t/lock"), exists: false }], [
      { put: k("t/lock"), value: "me" },
      { put: k("t/x"), value: "1" },
    ]);
    assert.equal(ok, true);
    const again = await store.txn([{ key: k("t/lock"), exists: false }], [
      { put: k("t/x"), value: "2" },
      { put: k("t/y"), value: "2" },
    ]);
    assert.equal(again, false);
    assert.equal(await store.get(k("t/x")), "1");
    assert.equal(await store.get(k("t/y")), undefined);
    const byValue = await store.txn([{ key: k("t/lock"), value: "me" }], [
      { deletePrefix: k("t/") },
      { put: k("t/z"), value: "3" },
    ]);
    assert.equal(byValue, true);
    assert.deepEqual(await store.getPrefix(k("t/")), [{ key: k("t/z"), value: "3" }]);
    const wrongValue = await store.txn([{ key: k("t/z"), value: "nope" }], [{ delete: k("t/z") }]);
    assert.equal(wrongValue, false);
    assert.equal(await store.get(k("t/z")), "3");
  });

  await t.step("txn without compares always applies", async () => {
    assert.equal(await store.txn([], [{ put: k("t/free"), value: "f" }]), true);
    assert.equal(await store.get(k("t/free")), "f");
  });

  await t.step("revoking a lease deletes its keys", async () => {
    const lease = await store.grantLease(5);
    await store.put(k("l/1"), "a", { lease: lease.id });
    await store.txn([], [{ put: k("l/2"), value: "b", lease: lease.id }]);
    assert.equal(await store.get(k("l/1")), "a");
    await lease.revoke();
    assert.deepEqual(await store.getPrefix(k("l/")), []);
  });

  await t.step("a lease kept alive outlives its TTL; a released one expires", async () => {
    const kept = await store.grantLease(2);
    const dropped = await store.grantLease(2);
    await store.put(k("ka/kept"), "1", { lease: kept.id });
    await store.put(k("ka/dropped"), "1", { lease: dropped.id });
    dropped.release();
    await eventually(async () => (await store.get(k("ka/dropped"))) === undefined, 10_000);
    assert.equal(await store.get(k("ka/kept")), "1");
    await kept.revoke();
  });

  await t.step("watchPrefix sees puts and deletes under the prefix only", async () => {
    const events: KvEvent[] = [];
    const w = await store.watchPrefix(k("w/"), (e) => events.push(e));
    try {
      await store.put(k("w/1"), "one");
      await store.put(k("other"), "x");
      await store.delete(k("w/1"));
      await eventually(() => events.length >= 2);
      assert.deepEqual(events, [
        { type: "put", key: k("w/1"), value: "one" },
        { type: "delete", key: k("w/1") },
      ]);
    } finally {
      await w.close();
    }
  });

  await t.step("watch reports the deletion of leased keys when the lease goes", async () => {
    const events: KvEvent[] = [];
    const w = await store.watchPrefix(k("wl/"), (e) => events.push(e));
    try {
      const lease = await store.grantLease(3);
      await store.put(k("wl/n"), "v", { lease: lease.id });
      await lease.revoke();
      await eventually(() => events.some((e) => e.type === "delete" && e.key === k("wl/n")));
    } finally {
      await w.close();
    }
  });

  await store.deletePrefix(prefix);
}

import assert from "node:assert/strict";
import { MemoryKvStore } from "./memory_kv_store.ts";

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test("MemoryKvStore (file) writes its file and lock file 0600", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gru-kv-mode-" });
  try {
    const file = `${dir}/store.json`;
    const store = await MemoryKvStore.open({ file });
    await store.put("/gru/c/token", "secret-token");
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(`${file}.lock`), 0o600);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["store.json", "store.json.lock"],
      "no temporary file left",
    );
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MemoryKvStore (file) narrows an existing 0644 store file and lock file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gru-kv-mode-" });
  try {
    const file = `${dir}/store.json`;
    const state = { entries: { "/gru/c/token": { value: "old" } }, leases: {}, nextLease: 1 };
    await Deno.writeTextFile(file, JSON.stringify(state), { mode: 0o644 });
    await Deno.chmod(file, 0o644);
    await Deno.writeTextFile(`${file}.lock`, "", { mode: 0o666 });
    await Deno.chmod(`${file}.lock`, 0o666);
    // a stale temporary file of this process, world-readable
    await Deno.writeTextFile(`${file}.tmp-${Deno.pid}`, "{}");
    await Deno.chmod(`${file}.tmp-${Deno.pid}`, 0o644);

    const store = await MemoryKvStore.open({ file });
    assert.equal(await store.get("/gru/c/token"), "old");
    assert.equal(await mode(file), 0o600, "narrowed on open");
    assert.equal(await mode(`${file}.lock`), 0o600);

    // a write replaces the file: still 0600, even from a wider file
    await Deno.chmod(file, 0o644);
    await store.put("/gru/c/token", "new");
    assert.equal(await mode(file), 0o600, "replaced by a 0600 file");
    assert.equal(JSON.parse(await Deno.readTextFile(file)).entries["/gru/c/token"].value, "new");
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

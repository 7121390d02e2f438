/**
 * CgroupUsageReader on fake /proc and /sys/fs/cgroup trees: layouts this host does not have
 * (pure v2, combined `cpu,cpuacct`, systemd driver), the id check on /proc/<pid>/cgroup, the
 * fallbacks, the cache and the namespace refusal. The real host is covered by the contract
 * test (tests/contract/cgroup_usage_reader_test.ts).
 */

import assert from "node:assert/strict";
import { CgroupUsageReader } from "./cgroup_usage_reader.ts";

const ID = "a".repeat(64);
const OTHER = "b".repeat(64);

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gru-cgroup-" });
  for (const [path, text] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return dir;
}

async function withTree(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await tree(files);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const opts = (dir: string) => ({ proc: `${dir}/proc`, root: `${dir}/cg` });

Deno.test("cgroup v2: figures from /proc/<pid>/cgroup, cached, then gone", async () => {
  const scope = `system.slice/docker-${ID}.scope`;
  await withTree({
    "proc/self/cgroup": "0::/user.slice/gru.service\n",
    "proc/42/cgroup": `0::/${scope}\n`,
    "cg/cgroup.controllers": "cpu memory\n",
    "cg/cpu.stat": "usage_usec 1\n",
    "cg/user.slice/gru.service/cpu.stat": "usage_usec 1\n",
    [`cg/${scope}/cpu.stat`]: "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
    [`cg/${scope}/memory.current`]: "4096\n",
  }, async (dir) => {
    const r = await CgroupUsageReader.detect(opts(dir));
    assert.ok(r);
    assert.equal(r.kind, "cgroup-v2");
    const s = await r.read({ id: ID, pid: 42 });
    assert.equal(s.cpuNs, 1_500_000);
    assert.equal(s.memoryBytes, 4096);
    // cached: works once the process is gone
    await Deno.remove(`${dir}/proc/42`, { recursive: true });
    await Deno.writeTextFile(`${dir}/cg/${scope}/cpu.stat`, "usage_usec 2500\n");
    assert.equal((await r.read({ id: ID, pid: 42 })).cpuNs, 2_500_000);
    // the cgroup vanishes: empty, never 0
    await Deno.remove(`${dir}/cg/${scope}`, { recursive: true });
    const gone = await r.read({ id: ID, pid: 42 });
    assert.equal(gone.cpuNs, undefined);
    assert.equal(gone.memoryBytes, undefined);
    assert.ok(gone.at > 0);
    await r.close();
  });
});

Deno.test("cgroup v2: fallback to Docker's usual places when the pid is 0", async () => {
  await withTree({
    "cg/cgroup.controllers": "cpu memory\n",
    "cg/cpu.stat": "usage_usec 1\n",
    [`cg/docker/${ID}/cpu.stat`]: "usage_usec 7\n",
    [`cg/docker/${ID}/memory.current`]: "100\n",
  }, async (dir) => {
    const r = await CgroupUsageReader.detect(opts(dir)); // no /proc at all: still usable
    assert.ok(r);
    assert.deepEqual(
      { ...(await r.read({ id: ID, pid: 0 })), at: 0 },
      { cpuNs: 7000, memoryBytes: 100, at: 0 },
    );
  });
});

Deno.test("cgroup v1 with cpu,cpuacct: a pid whose cgroup lacks the id is not trusted", async () => {
  await withTree({
    "proc/self/cgroup": "3:memory:/\n2:cpu,cpuacct:/\n0::/\n",
    "proc/7/cgroup": `3:memory:/docker/${OTHER}\n2:cpu,cpuacct:/docker/${OTHER}\n`,
    "proc/8/cgroup": `3:memory:/custom/${ID}\n2:cpu,cpuacct:/custom/${ID}\n0::/custom/${ID}\n`,
    "cg/cpu,cpuacct/cpuacct.usage": "1\n",
    "cg/memory/memory.usage_in_bytes": "1\n",
    [`cg/cpu,cpuacct/docker/${OTHER}/cpuacct.usage`]: "999\n",
    [`cg/cpu,cpuacct/system.slice/docker-${ID}.scope/cpuacct.usage`]: "123\n",
    [`cg/memory/system.slice/docker-${ID}.scope/memory.usage_in_bytes`]: "456\n",
    [`cg/cpu,cpuacct/custom/${ID}/cpuacct.usage`]: "321\n",
    [`cg/memory/custom/${ID}/memory.usage_in_bytes`]: "654\n",
    "cg/unified/cgroup.controllers": "\n",
  }, async (dir) => {
    const r = await CgroupUsageReader.detect(opts(dir));
    assert.ok(r);
    assert.equal(r.kind, "cgroup-v1");
    // pid 7 is another container: ignored, the systemd-driver fallback is used
    const a = await r.read({ id: ID, pid: 7 });
    assert.equal(a.cpuNs, 123);
    assert.equal(a.memoryBytes, 456);
    r.forget(ID);
    // pid 8 is ours, under a custom cgroup parent
    const b = await r.read({ id: ID, pid: 8 });
    assert.equal(b.cpuNs, 321);
    assert.equal(b.memoryBytes, 654);
  });
});

Deno.test("cgroup v1 without a memory controller: CPU only", async () => {
  await withTree({
    "cg/cpuacct/cpuacct.usage": "1\n",
    [`cg/cpuacct/docker/${ID}/cpuacct.usage`]: "5\n",
  }, async (dir) => {
    const r = await CgroupUsageReader.detect(opts(dir));
    assert.ok(r);
    const s = await r.read({ id: ID, pid: 0 });
    assert.equal(s.cpuNs, 5);
    assert.equal(s.memoryBytes, undefined);
  });
});

Deno.test("detect refuses unusable trees", async () => {
  await withTree({ "cg/unrelated": "" }, async (dir) => {
    assert.equal(await CgroupUsageReader.detect(opts(dir)), undefined, "no controller");
  });
  assert.equal(
    await CgroupUsageReader.detect({ proc: "/nonexistent", root: "/nonexistent/cg" }),
    undefined,
    "no cgroup fs",
  );
  await withTree({
    "proc/self/cgroup": "0::/../../system.slice/gru.scope\n",
    "cg/cgroup.controllers": "cpu\n",
    "cg/cpu.stat": "usage_usec 1\n",
  }, async (dir) => {
    assert.equal(await CgroupUsageReader.detect(opts(dir)), undefined, "outside our namespace");
  });
  await withTree({
    "proc/self/cgroup": "0::/somewhere/else\n",
    "cg/cgroup.controllers": "cpu\n",
    "cg/cpu.stat": "usage_usec 1\n",
  }, async (dir) => {
    assert.equal(await CgroupUsageReader.detect(opts(dir)), undefined, "own cgroup not mounted");
  });
  await withTree({
    "proc/self/cgroup": "0::/\n",
    "cg/cgroup.controllers": "cpu\n",
    "cg/cpu.stat": "usage_usec 1\n",
  }, async (dir) => {
    const probe = { id: ID, pid: 0 };
    assert.equal(await CgroupUsageReader.detect({ ...opts(dir), probe }), undefined, "probe");
    assert.ok(await CgroupUsageReader.detect(opts(dir)), "fine without a probe");
  });
});

Deno.test("detectWithReason says why a tree is refused", async () => {
  const why = async (o: Parameters<typeof CgroupUsageReader.detectWithReason>[0]) =>
    (await CgroupUsageReader.detectWithReason(o)).reason ?? "";
  await withTree({ "cg/unrelated": "" }, async (dir) => {
    assert.match(await why(opts(dir)), /no CPU accounting controller .*\/cg$/);
  });
  assert.match(
    await why({ proc: "/nonexistent", root: "/nonexistent/cg" }),
    /^cannot read \/nonexistent\/cg: /,
  );
  await withTree({
    "proc/self/cgroup": "0::/somewhere/else\n",
    "cg/cgroup.controllers": "cpu\n",
    "cg/cpu.stat": "usage_usec 1\n",
  }, async (dir) => {
    assert.match(await why(opts(dir)), /own cgroup .* is not under .*\/cg/);
  });
  await withTree({
    "cg/cgroup.controllers": "cpu\n",
    "cg/cpu.stat": "usage_usec 1\n",
  }, async (dir) => {
    const d = await CgroupUsageReader.detectWithReason(opts(dir));
    assert.equal(d.reason, undefined);
    assert.equal(d.reader?.kind, "cgroup-v2");
    assert.equal(d.reader && d.procReadable, false, "no /proc: found at Docker's usual paths");
  });
});

Deno.test("unreadable figures and odd ids give empty samples", async () => {
  await withTree({
    "cg/cgroup.controllers": "cpu\n",
    "cg/cpu.stat": "usage_usec 1\n",
    [`cg/docker/${ID}/cpu.stat`]: "user_usec 3\n",
    [`cg/docker/${ID}/memory.current`]: "max\n",
  }, async (dir) => {
    const r = await CgroupUsageReader.detect(opts(dir));
    assert.ok(r);
    const s = await r.read({ id: ID, pid: 0 });
    assert.equal(s.cpuNs, undefined);
    assert.equal(s.memoryBytes, undefined);
    for (const id of ["", "../..", "a/b"]) {
      assert.equal((await r.read({ id, pid: 0 })).cpuNs, undefined);
    }
  });
});

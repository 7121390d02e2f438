/**
 * The `UsageReader` contract: one behavioural suite, run on the cgroup-file reader and on the
 * Docker stats reader against real busybox containers (one burning a core, one sleeping).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { UsageReader, UsageSample, UsageTarget } from "../../src/ports/usage_reader.ts";
import type { DockerRuntime } from "../../src/adapters/docker/docker_runtime.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { testRunId } from "../helpers/env.ts";
import { testRuntime } from "../helpers/docker.ts";

const IMAGE = "gru-test/busybox";

/** Starts a labelled busybox container running `cmd` and returns its id and host pid. */
export async function startBusybox(
  rt: DockerRuntime,
  name: string,
  cmd: string[],
  cpusetCpus = "",
): Promise<UsageTarget> {
  const run = testRunId();
  const id = await rt.create({
    name: `gru-test-${run}-${name}-${Math.floor(Math.random() * 1e6).toString(36)}`,
    image: IMAGE,
    cmd,
    env: [],
    labels: { [LABEL_TEST_RUN]: run },
    cpusetCpus,
    memory: 0,
    portBindings: {},
  });
  await rt.start(id);
  const { pid } = await rt.inspect(id);
  return { id, pid };
}

/** Cores used between two samples (by their `at`). */
function cores(a: UsageSample, b: UsageSample): number {
  assert.ok(a.cpuNs !== undefined && b.cpuNs !== undefined, "CPU figures are defined");
  assert.ok(b.at > a.at, "samples are apart in time");
  return (b.cpuNs - a.cpuNs) / ((b.at - a.at) * 1e6);
}

/** Reads until the sample is at least `ms` newer than `first` (stats samples come ~1/s). */
async function laterSample(
  reader: UsageReader,
  target: UsageTarget,
  first: UsageSample,
  ms: number,
): Promise<UsageSample> {
  await new Promise((r) => setTimeout(r, ms));
  const end = Date.now() + 4000;
  for (;;) {
    const s = await reader.read(target);
    if (s.at - first.at >= ms * 0.9 && s.cpuNs !== undefined) return s;
    if (Date.now() > end) assert.fail(`no new sample ${ms} ms after the first`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads until CPU figures appear (the stats reader needs its stream's first sample). */
async function firstSample(reader: UsageReader, target: UsageTarget): Promise<UsageSample> {
  const end = Date.now() + 4000;
  for (;;) {
    const s = await reader.read(target);
    if (s.cpuNs !== undefined && s.memoryBytes !== undefined) return s;
    if (Date.now() > end) assert.fail(`no figures for ${target.id.slice(0, 12)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the contract as steps of `t`. The caller closes `reader`. */
export async function usageReaderContract(t: Deno.TestContext, reader: UsageReader) {
  const rt = testRuntime();
  const ids: string[] = [];
  try {
    const burner = await startBusybox(rt, "burner", ["sh", "-c", "while :; do :; done"], "0");
    ids.push(burner.id);
    const sleeper = await startBusybox(rt, "sleeper", ["sleep", "600"]);
    ids.push(sleeper.id);

    await t.step("kind names the source", () => {
      assert.ok(["cgroup-v1", "cgroup-v2", "docker-stats"].includes(reader.kind), reader.kind);
    });

    await t.step("a container burning a core reads about one core", async () => {
      const a = await firstSample(reader, burner);
      const b = await laterSample(reader, burner, a, 1000);
      assert.ok(b.cpuNs! > a.cpuNs!, "CPU time increases");
      const c = cores(a, b);
      assert.ok(c > 0.5 && c < 1.5, `burner used ${c.toFixed(2)} cores`);
    });

    await t.step("a sleeping container reads almost nothing", async () => {
      const a = await firstSample(reader, sleeper);
      const b = await laterSample(reader, sleeper, a, 1000);
      const c = cores(a, b);
      assert.ok(c >= 0 && c < 0.2, `sleeper used ${c.toFixed(3)} cores`);
    });

    await t.step("memory is positive", async () => {
      for (const target of [burner, sleeper]) {
        const s = await firstSample(reader, target);
        assert.ok(s.memoryBytes! > 0, `memory of ${target.id.slice(0, 12)}`);
        assert.ok(s.memoryBytes! < 512 * 1024 * 1024, "a busybox uses far less than 512 MiB");
      }
    });

    await t.step("a removed container gives empty figures without throwing", async () => {
      const gone = await startBusybox(rt, "gone", ["sleep", "600"]);
      ids.push(gone.id);
      await firstSample(reader, gone);
      await rt.remove(gone.id);
      const end = Date.now() + 4000;
      let s = await reader.read(gone);
      while (s.cpuNs !== undefined && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        s = await reader.read(gone);
      }
      assert.equal(s.cpuNs, undefined);
      assert.equal(s.memoryBytes, undefined);
      assert.ok(Math.abs(s.at - Date.now()) < 5000, "at is a current time");
      reader.forget(gone.id);
      const again = await reader.read(gone);
      assert.equal(again.cpuNs, undefined);
      assert.equal(again.memoryBytes, undefined);
      reader.forget(gone.id);
    });

    await t.step("an unknown container gives empty figures", async () => {
      const s = await reader.read({ id: "0".repeat(64), pid: 0 });
      assert.deepEqual(Object.keys(s).filter((k) => (s as never)[k] !== undefined), ["at"]);
      reader.forget("0".repeat(64));
    });
  } finally {
    for (const id of ids) reader.forget(id);
    await Promise.all(ids.map((id) => rt.remove(id)));
    await rt.close();
  }
}

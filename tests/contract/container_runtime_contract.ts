/**
 * The `ContainerRuntime` contract: one behavioural suite, run on the Docker adapter against a
 * real engine and on the in-memory fake. The few things the suite cannot do through the port
 * (make a container print, make its process die) come from a harness.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  ContainerRuntime,
  ContainerSpec,
  RuntimeEvent,
} from "../../src/ports/container_runtime.ts";
import { eventually } from "./kv_store_contract.ts";

/** What the suite needs besides the port. */
export interface ContainerRuntimeHarness {
  /** The runtime under test; the suite closes it. */
  makeRuntime(): ContainerRuntime | Promise<ContainerRuntime>;
  /** An image the runtime has. */
  image: string;
  /** Labels put on every container the suite creates (so a sweep can find them). */
  labels: Record<string, string>;
  /** Start of every container name, unique to this run of the suite. */
  namePrefix: string;
  /**
   * A command that keeps the container running until it is stopped (it exits at once on
   * SIGTERM) or `crash`ed.
   */
  cmd: string[];
  /** `n` distinct host ports that nothing holds. */
  freePorts(n: number): Promise<number[]>;
  /** Makes running container `id` write each of `lines` and a newline to stdout or stderr. */
  say(id: string, lines: string[], stream: "stdout" | "stderr"): Promise<void>;
  /** Makes the process of running container `id` end on its own (exit code 3). */
  crash(id: string): Promise<void>;
}

/** Container actions of the lifecycle (others, such as exec_*, are not compared). */
const LIFECYCLE = new Set([
  "create",
  "start",
  "kill",
  "die",
  "stop",
  "destroy",
  "pause",
  "unpause",
]);

const MISSING_ID = "0".repeat(64);

function errorNamed(name: string) {
  return (err: unknown) => {
    assert.equal((err as Error).name, name, (err as Error).message);
    return true;
  };
}

function nearNow(ms: number, what: string): void {
  assert.ok(Math.abs(ms - Date.now()) < 60_000, `${what} (${ms}) is a current time in ms`);
}

/** Runs the contract as steps of `t`, then removes its containers and closes the runtime. */
export async function containerRuntimeContract(
  t: Deno.TestContext,
  harness: ContainerRuntimeHarness,
): Promise<void> {
  const rt = await harness.makeRuntime();
  const ids: string[] = [];
  let n = 0;
  const spec = (part: string, more: Partial<ContainerSpec> = {}): ContainerSpec => ({
    name: `${harness.namePrefix}-${part}-${++n}`,
    image: harness.image,
    cmd: harness.cmd,
    env: [],
    cpusetCpus: "",
    memory: 0,
    portBindings: {},
    ...more,
    labels: { ...harness.labels, ...more.labels },
  });
  const create = async (s: ContainerSpec) => {
    const id = await rt.create(s);
    ids.push(id);
    return id;
  };

  try {
    await t.step("info reports CPUs, memory and the engine version", async () => {
      const info = await rt.info();
      assert.ok(Number.isInteger(info.ncpu) && info.ncpu >= 1, `ncpu ${info.ncpu}`);
      assert.ok(info.memTotal > 0, `memTotal ${info.memTotal}`);
      assert.equal(typeof info.serverVersion, "string");
      assert.ok(info.serverVersion.length > 0);
    });

    await t.step("hasImage: the image with or without :latest, not a missing one", async () => {
      assert.equal(await rt.hasImage(harness.image), true);
      assert.equal(await rt.hasImage(`${harness.image}:latest`), true);
      assert.equal(await rt.hasImage(`${harness.image}-missing`), false);
      assert.equal(await rt.hasImage(`${harness.image}:missing-tag`), false);
    });

    await t.step("create refuses a missing image with NotFoundError", async () => {
      const s = spec("noimage", { image: `${harness.image}-missing` });
      await assert.rejects(create(s), errorNamed("NotFoundError"));
      const all = await rt.listAll();
      assert.ok(!all.some((c) => c.name === s.name), "nothing was created");
    });

    await t.step("a created container: inspect round-trips the spec", async () => {
      const [p1, p2] = await harness.freePorts(2);
      const s = spec("created", {
        cpusetCpus: "0",
        memory: 64 * 1024 * 1024,
        portBindings: { "80": p1!, "53/udp": p2! },
        labels: { "gru.contract-role": "created" },
      });
      const id = await create(s);
      assert.match(id, /^[0-9a-f]{64}$/);
      const d = await rt.inspect(id);
      assert.equal(d.id, id);
      assert.equal(d.name, s.name);
      assert.equal(d.image, s.image);
      for (const [k, v] of Object.entries(s.labels)) assert.equal(d.labels[k], v, k);
      assert.equal(d.state, "created");
      nearNow(d.created * 1000, "created");
      assert.ok(Number.isInteger(d.created), "created is in whole seconds");
      assert.equal(d.startedAt, 0);
      assert.equal(d.pid, 0);
      assert.equal(d.cpusetCpus, "0");
      assert.equal(d.memory, 64 * 1024 * 1024);
      assert.deepEqual(d.portBindings, { "80/tcp": [p1], "53/udp": [p2] });
      assert.deepEqual([...d.hostPorts].sort((a, b) => a - b), [p1!, p2!].sort((a, b) => a - b));
    });

    await t.step("create refuses a name in use with ConflictError", async () => {
      const s = spec("dup");
      await create(s);
      await assert.rejects(create({ ...s }), errorNamed("ConflictError"));
    });

    await t.step("start runs it with a start time and a pid; starting again is fine", async () => {
      const id = await create(spec("start"));
      await rt.start(id);
      const d = await rt.inspect(id);
      assert.equal(d.state, "running");
      nearNow(d.startedAt, "startedAt");
      assert.ok(d.pid > 0, `pid ${d.pid}`);
      await rt.start(id);
      const again = await rt.inspect(id);
      assert.equal(again.state, "running");
      assert.equal(again.startedAt, d.startedAt, "not restarted");
      assert.equal(again.pid, d.pid);
    });

    await t.step("list filters by every label pair; host ports of running ones only", async () => {
      const [pa, pb] = await harness.freePorts(2);
      const mark = { "gru.contract-list": `l${n}` };
      const specA = spec("list-a", {
        labels: { ...mark, "gru.contract-role": "a" },
        portBindings: { "80": pa! },
      });
      const a = await create(specA);
      const b = await create(spec("list-b", {
        labels: { ...mark, "gru.contract-role": "b" },
        portBindings: { "80": pb! },
      }));
      await rt.start(a);
      const both = await rt.list({ ...harness.labels, ...mark });
      assert.deepEqual(both.map((c) => c.id).sort(), [a, b].sort());
      const onlyA = await rt.list({ ...mark, "gru.contract-role": "a" });
      assert.deepEqual(onlyA.map((c) => c.id), [a]);
      assert.deepEqual(await rt.list({ ...mark, "gru.contract-role": "c" }), []);
      const sa = both.find((c) => c.id === a)!;
      const sb = both.find((c) => c.id === b)!;
      assert.equal(sa.state, "running");
      assert.equal(sb.state, "created");
      assert.equal(sa.name, specA.name);
      assert.equal(sa.image, harness.image);
      assert.equal(sa.labels["gru.contract-role"], "a");
      nearNow(sa.created * 1000, "created");
      assert.deepEqual(sa.hostPorts, [pa]);
      assert.deepEqual(sb.hostPorts, [], "a container that is not running publishes nothing");
      const all = await rt.listAll();
      assert.deepEqual(all.find((c) => c.id === a)?.hostPorts, [pa]);
      assert.deepEqual(all.find((c) => c.id === b)?.hostPorts, []);
      await rt.stop(a, 10);
      const stopped = await rt.list({ ...mark, "gru.contract-role": "a" });
      assert.deepEqual(stopped.map((c) => [c.state, c.hostPorts]), [["exited", []]]);
      const d = await rt.inspect(a);
      assert.deepEqual(d.hostPorts, [pa], "inspect still shows the configured binding");
    });

    await t.step("stop: exited, start time kept; stopping again or unstarted is fine", async () => {
      const id = await create(spec("stop"));
      await rt.stop(id, 10); // never started
      assert.equal((await rt.inspect(id)).state, "created");
      await rt.start(id);
      const running = await rt.inspect(id);
      await rt.stop(id, 10);
      const d = await rt.inspect(id);
      assert.equal(d.state, "exited");
      assert.equal(d.pid, 0);
      assert.equal(d.startedAt, running.startedAt);
      await rt.stop(id, 10);
      assert.equal((await rt.inspect(id)).state, "exited");
    });

    await t.step("start of an exited container runs it again", async () => {
      const id = await create(spec("restart"));
      await rt.start(id);
      await rt.stop(id, 10);
      await rt.start(id);
      const d = await rt.inspect(id);
      assert.equal(d.state, "running");
      assert.ok(d.pid > 0);
    });

    await t.step("remove: running or not; again is fine; then it is gone", async () => {
      const running = await create(spec("rm-running"));
      await rt.start(running);
      const created = await create(spec("rm-created"));
      await rt.remove(running);
      await rt.remove(created);
      await rt.remove(running);
      for (const id of [running, created]) {
        await assert.rejects(rt.inspect(id), errorNamed("NotFoundError"));
      }
      const all = await rt.listAll();
      assert.ok(!all.some((c) => c.id === running || c.id === created));
    });

    await t.step("removes racing on one container all succeed, and it is gone", async () => {
      const id = await create(spec("rm-race"));
      await rt.start(id);
      await Promise.all([rt.remove(id), rt.remove(id), rt.remove(id)]);
      await assert.rejects(rt.inspect(id), errorNamed("NotFoundError"));
    });

    await t.step("a missing container: NotFoundError, except remove", async () => {
      await assert.rejects(rt.inspect(MISSING_ID), errorNamed("NotFoundError"));
      await assert.rejects(rt.start(MISSING_ID), errorNamed("NotFoundError"));
      await assert.rejects(rt.stop(MISSING_ID, 1), errorNamed("NotFoundError"));
      await assert.rejects(rt.unpause(MISSING_ID), errorNamed("NotFoundError"));
      await assert.rejects(
        rt.followLogs(MISSING_ID, () => {}, new AbortController().signal),
        errorNamed("NotFoundError"),
      );
      await rt.remove(MISSING_ID);
    });

    await t.step("an empty or malformed id is a missing container, never a crash", async () => {
      for (const bad of ["", " ", "../images", "a/b"]) {
        await assert.rejects(rt.inspect(bad), errorNamed("NotFoundError"), JSON.stringify(bad));
        await assert.rejects(rt.start(bad), errorNamed("NotFoundError"), JSON.stringify(bad));
        await rt.remove(bad);
      }
    });

    await t.step("unpause of a container that is not paused rejects", async () => {
      const id = await create(spec("unpause"));
      await rt.start(id);
      await assert.rejects(rt.unpause(id));
      assert.equal((await rt.inspect(id)).state, "running");
    });

    await t.step("a host port in use: the second start fails and it stays created", async () => {
      const [p] = await harness.freePorts(1);
      const first = await create(spec("port-1", { portBindings: { "80": p! } }));
      const second = await create(spec("port-2", { portBindings: { "8080": p! } }));
      const udp = await create(spec("port-udp", { portBindings: { "80/udp": p! } }));
      await rt.start(first);
      await assert.rejects(rt.start(second), errorNamed("UnavailableError"));
      const d = await rt.inspect(second);
      assert.equal(d.state, "created");
      assert.equal(d.startedAt, 0);
      await rt.start(udp); // another protocol: no clash
      await rt.stop(first, 10);
      await rt.start(second); // freed
      assert.equal((await rt.inspect(second)).state, "running");
    });

    await t.step("events: one labelled container's lifecycle, in order", async () => {
      const mark = { "gru.contract-events": `e${n}` };
      const seen: RuntimeEvent[] = [];
      const ctl = new AbortController();
      let settled = false;
      const stream = rt.events({ ...harness.labels, ...mark }, (e) => seen.push(e), ctl.signal);
      stream.finally(() => settled = true).catch(() => {});
      try {
        await new Promise((r) => setTimeout(r, 300)); // the stream is open
        const other = await create(spec("ev-other"));
        const id = await create(spec("ev", { labels: mark }));
        await rt.start(other);
        await rt.start(id);
        await rt.stop(id, 10);
        await rt.remove(id);
        await rt.remove(other);
        await eventually(() => seen.some((e) => e.action === "destroy"));
        await new Promise((r) => setTimeout(r, 200)); // nothing else trails in
        assert.deepEqual(seen.map((e) => e.action), [
          "create",
          "start",
          "kill",
          "die",
          "stop",
          "destroy",
        ]);
        for (const e of seen) {
          assert.equal(e.id, id);
          assert.equal(e.labels["gru.contract-events"], mark["gru.contract-events"]);
          for (const [k, v] of Object.entries(harness.labels)) assert.equal(e.labels[k], v);
          nearNow(e.time, "event time");
        }
        assert.ok(seen.every((e, i) => i === 0 || e.time >= seen[i - 1]!.time), "time order");
        assert.equal(settled, false, "the stream stays open");
        ctl.abort();
        await stream;
      } finally {
        ctl.abort();
        await stream.catch(() => {});
      }
    });

    await t.step("a process that ends on its own: exited, with a die event", async () => {
      const mark = { "gru.contract-crash": `c${n}` };
      const seen: RuntimeEvent[] = [];
      const ctl = new AbortController();
      const stream = rt.events(mark, (e) => seen.push(e), ctl.signal);
      stream.catch(() => {});
      try {
        await new Promise((r) => setTimeout(r, 300));
        const id = await create(spec("crash", { labels: mark }));
        await rt.start(id);
        await eventually(() => seen.some((e) => e.action === "start"));
        await harness.crash(id);
        await eventually(() => seen.some((e) => e.action === "die"));
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(seen.filter((e) => LIFECYCLE.has(e.action)).map((e) => e.action), [
          "create",
          "start",
          "die",
        ]);
        const d = await rt.inspect(id);
        assert.equal(d.state, "exited");
        assert.equal(d.pid, 0);
      } finally {
        ctl.abort();
        await stream.catch(() => {});
      }
    });

    await t.step("followLogs: new stdout and stderr lines, cut to 4096 bytes", async () => {
      const id = await create(spec("logs"));
      await rt.start(id);
      await harness.say(id, ["history"], "stdout");
      const lines: string[] = [];
      const ctl = new AbortController();
      const follow = rt.followLogs(id, (l) => lines.push(l), ctl.signal);
      follow.catch(() => {});
      try {
        // Whether the stream is attached yet cannot be seen: write until a line comes through.
        for (let i = 0; !lines.some((l) => l.startsWith("ready-")); i++) {
          assert.ok(i < 20, "the log stream attaches");
          await harness.say(id, [`ready-${i}`], "stdout");
          const until = Date.now() + 250;
          while (!lines.some((l) => l.startsWith("ready-")) && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 10));
          }
        }
        await harness.say(id, ["one", "two words"], "stdout");
        await harness.say(id, ["err1"], "stderr");
        await harness.say(id, ["x".repeat(4095) + "€" + "y".repeat(100)], "stdout");
        await eventually(() => lines.filter((l) => !l.startsWith("ready-")).length >= 4);
        assert.deepEqual(lines.filter((l) => !l.startsWith("ready-")), [
          "one",
          "two words",
          "err1",
          "x".repeat(4095), // the 3-byte character straddling the cut is dropped whole
        ]);
        assert.ok(!lines.includes("history"), "only lines written after following began");
        const t0 = Date.now();
        ctl.abort();
        await follow;
        assert.ok(Date.now() - t0 < 1000, "abort resolves promptly");
      } finally {
        ctl.abort();
        await follow.catch(() => {});
      }
    });

    await t.step("followLogs ends when the container stops; at once when not running", async () => {
      const id = await create(spec("logs-end"));
      await rt.start(id);
      let ended = false;
      const follow = rt.followLogs(id, () => {}, new AbortController().signal)
        .then(() => ended = true);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ended, false);
      await rt.stop(id, 10);
      await eventually(() => ended);
      await follow;
      const idle = await create(spec("logs-idle"));
      const lines: string[] = [];
      await rt.followLogs(idle, (l) => lines.push(l), new AbortController().signal);
      assert.deepEqual(lines, []);
    });

    await t.step("an already aborted signal: events and followLogs resolve at once", async () => {
      const ctl = new AbortController();
      ctl.abort();
      await rt.events(harness.labels, () => assert.fail("no event"), ctl.signal);
      await rt.followLogs(MISSING_ID, () => assert.fail("no line"), ctl.signal);
    });
  } finally {
    await Promise.allSettled(ids.map((id) => rt.remove(id)));
    await rt.close();
  }
}

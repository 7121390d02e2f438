import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../../src/adapters/memory/memory_container_runtime.ts";
import type { ContainerSpec } from "../../src/ports/container_runtime.ts";
import { FakeClock } from "../../src/domain/clock.ts";
import { ConflictError } from "../../src/domain/errors.ts";
import { seededPrng } from "../../src/domain/random.ts";
import { containerRuntimeContract } from "./container_runtime_contract.ts";

const IMAGE = "gru-test/busybox";

Deno.test("MemoryContainerRuntime meets the ContainerRuntime contract", async (t) => {
  let rt: MemoryContainerRuntime | undefined;
  let nextPort = 20_000;
  await containerRuntimeContract(t, {
    makeRuntime: () =>
      rt = new MemoryContainerRuntime({
        // Like the real test image, which carries a label of its own.
        images: { [IMAGE]: { labels: { "gru.image.hash": "memory" } } },
        ncpu: 2,
      }),
    image: IMAGE,
    labels: { "gru.test-run": "memory" },
    namePrefix: "gru-test-memory",
    cmd: ["sleep", "600"],
    freePorts: (n) => Promise.resolve(Array.from({ length: n }, () => nextPort++)),
    say: (id, lines, stream) => {
      for (const line of lines) rt!.emitLog(id, line, stream);
      return Promise.resolve();
    },
    crash: (id) => Promise.resolve(rt!.kill(id)),
  });
});

// ─────────────── the fake's own controls (not part of the contract) ───────────────

function spec(name: string, more: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: IMAGE,
    env: [],
    labels: { "gru.service": "web" },
    cpusetCpus: "",
    memory: 0,
    portBindings: {},
    ...more,
  };
}

function fake(clock = new FakeClock(1_700_000_000_000)) {
  return new MemoryContainerRuntime({ images: [IMAGE], clock, prng: seededPrng(7) });
}

function errorNamed(name: string) {
  return (err: unknown) => {
    assert.equal((err as Error).name, name, (err as Error).message);
    return true;
  };
}

Deno.test("MemoryContainerRuntime: failNext fails the next calls, in order; calls are recorded", async () => {
  const rt = fake();
  const boom = new ConflictError("boom");
  rt.failNext("create", boom);
  rt.failNext("create");
  rt.failNext("list", undefined, 2);
  await assert.rejects(rt.create(spec("c-a")), (err) => err === boom);
  await assert.rejects(rt.create(spec("c-a")), errorNamed("UnavailableError"));
  const id = await rt.create(spec("c-a"));
  await assert.rejects(rt.list({}), errorNamed("UnavailableError"));
  await assert.rejects(rt.list({}), errorNamed("UnavailableError"));
  assert.equal((await rt.list({})).length, 1);
  rt.failNext("followLogs");
  rt.failNext("start");
  rt.clearFailures();
  await rt.start(id);
  assert.deepEqual(rt.calls.map((c) => c.method), [
    "create",
    "create",
    "create",
    "list",
    "list",
    "list",
    "start",
  ]);
  assert.deepEqual(rt.calls[6]!.args, [id]);
});

Deno.test("MemoryContainerRuntime: down breaks every call and open stream; up restores", async () => {
  const rt = fake();
  const id = await rt.create(spec("c-a"));
  await rt.start(id);
  const events = rt.events({}, () => {}, new AbortController().signal);
  const logs = rt.followLogs(id, () => {}, new AbortController().signal);
  await rt.settle();
  rt.down();
  assert.equal(rt.isDown, true);
  await assert.rejects(events, errorNamed("UnavailableError"));
  await assert.rejects(logs, errorNamed("UnavailableError"));
  await assert.rejects(rt.info(), errorNamed("UnavailableError"));
  await assert.rejects(rt.inspect(id), errorNamed("UnavailableError"));
  await assert.rejects(rt.remove(id), errorNamed("UnavailableError"));
  await assert.rejects(
    rt.events({}, () => {}, new AbortController().signal),
    errorNamed("UnavailableError"),
  );
  rt.up();
  assert.equal((await rt.inspect(id)).state, "running", "containers outlive the outage");
});

Deno.test("MemoryContainerRuntime: kill is a crash (die only), oom adds an oom event", async () => {
  const rt = fake();
  const seen: string[] = [];
  const ctl = new AbortController();
  const stream = rt.events({ "gru.service": "web" }, (e) => seen.push(e.action), ctl.signal);
  const a = await rt.create(spec("c-a"));
  const b = await rt.create(spec("c-b"));
  await rt.start(a);
  await rt.start(b);
  let ended = false;
  const logs = rt.followLogs(a, () => {}, new AbortController().signal).then(() => ended = true);
  await rt.settle();
  seen.length = 0;
  rt.kill(a);
  rt.kill(b, { oom: true });
  await logs;
  await rt.settle();
  assert.equal(ended, true, "the log stream ends");
  assert.deepEqual(seen, ["die", "oom", "die"]);
  assert.equal(rt.peek(a)?.state, "exited");
  assert.equal(rt.peek(a)?.pid, 0);
  assert.throws(() => rt.kill(a), errorNamed("ConflictError"));
  assert.throws(() => rt.kill("f".repeat(64)), errorNamed("NotFoundError"));
  ctl.abort();
  await stream;
});

Deno.test("MemoryContainerRuntime: pause and unpause", async () => {
  const rt = fake();
  const seen: string[] = [];
  const ctl = new AbortController();
  const stream = rt.events({}, (e) => seen.push(e.action), ctl.signal);
  const id = await rt.create(spec("c-a", { portBindings: { "80": 8080 } }));
  await rt.start(id);
  const lines: string[] = [];
  const logs = rt.followLogs(id, (l) => lines.push(l), ctl.signal);
  rt.pause(id);
  assert.equal((await rt.inspect(id)).state, "paused");
  assert.deepEqual((await rt.list({})).map((c) => c.hostPorts), [[8080]], "ports stay held");
  rt.emitLog(id, "frozen");
  await assert.rejects(rt.start(id), errorNamed("ConflictError"));
  assert.throws(() => rt.pause(id), errorNamed("ConflictError"));
  await rt.unpause(id);
  rt.emitLog(id, "thawed");
  await rt.settle();
  assert.equal((await rt.inspect(id)).state, "running");
  assert.deepEqual(lines, ["thawed"]);
  assert.deepEqual(seen, ["create", "start", "pause", "unpause"]);
  ctl.abort();
  await stream;
  await logs;
});

Deno.test("MemoryContainerRuntime: times from the injected clock, ids from the prng", async () => {
  const clock = new FakeClock(1_700_000_000_500);
  const rt = fake(clock);
  const times: number[] = [];
  const ctl = new AbortController();
  const stream = rt.events({}, (e) => times.push(e.time), ctl.signal);
  const id = await rt.create(spec("c-a"));
  clock.advance(2000);
  await rt.start(id);
  await rt.settle();
  const d = await rt.inspect(id);
  assert.equal(d.created, 1_700_000_000);
  assert.equal(d.startedAt, 1_700_000_002_500);
  assert.deepEqual(times, [1_700_000_000_500, 1_700_000_002_500]);
  assert.equal(await fake().create(spec("c-a")), id, "the same seed gives the same id");
  ctl.abort();
  await stream;
});

Deno.test("MemoryContainerRuntime: create checks in Docker's order; lookups", async () => {
  const rt = new MemoryContainerRuntime({
    images: { [IMAGE]: { labels: { "gru.image.hash": "h", "gru.service": "image" } } },
    ncpu: 2,
  });
  await assert.rejects(rt.create(spec("bad name", { memory: 1 })), /Minimum memory/);
  await assert.rejects(rt.create(spec("c-a", { cpusetCpus: "1-0" })), /invalid format/);
  await assert.rejects(rt.create(spec("c-a", { cpusetCpus: "0, 1" })), /invalid format/);
  await assert.rejects(rt.create(spec("c-a", { cpusetCpus: "0,2" })), /not available/);
  await assert.rejects(
    rt.create(spec("bad name", { image: "nope" })),
    /No such image: nope:latest/,
  );
  await assert.rejects(rt.create(spec("bad name")), /Invalid container name/);
  const id = await rt.create(spec("/c-a", { cpusetCpus: "0-1" }));
  await assert.rejects(rt.create(spec("c-a")), errorNamed("ConflictError"));
  const d = await rt.inspect("c-a");
  assert.equal(d.id, id, "found by name");
  assert.equal(d.name, "c-a");
  assert.deepEqual(d.labels, { "gru.image.hash": "h", "gru.service": "web" });
  assert.equal((await rt.inspect(id.slice(0, 12))).id, id, "found by id prefix");
  const unnamed = await rt.create(spec(""));
  assert.match((await rt.inspect(unnamed)).name, /^container_[0-9a-f]{12}$/);
  rt.removeImage(`${IMAGE}:latest`);
  assert.equal(await rt.hasImage(IMAGE), false);
  assert.equal((await rt.inspect(id)).state, "created", "containers keep their image");
  rt.addImage("other:1.0");
  assert.equal(await rt.hasImage("other"), false);
  assert.equal(await rt.hasImage("other:1.0"), true);
  rt.setInfo({ ncpu: 8 });
  assert.equal((await rt.info()).ncpu, 8);
});

Deno.test("MemoryContainerRuntime: a binding to port 0 publishes a free port while running", async () => {
  const rt = fake();
  const a = await rt.create(spec("c-a", { portBindings: { "80": 32768 } }));
  const b = await rt.create(spec("c-b", { portBindings: { "80": 0, "81": 9000 } }));
  await rt.start(a);
  await rt.start(b);
  assert.deepEqual((await rt.inspect(b)).portBindings, { "80/tcp": [], "81/tcp": [9000] });
  const listed = await rt.list({});
  assert.deepEqual(listed.map((c) => c.name), ["c-b", "c-a"], "newest first");
  assert.deepEqual(listed[0]!.hostPorts, [32769, 9000]);
});

Deno.test("MemoryContainerRuntime: emitLog splits lines; a throwing callback rejects", async () => {
  const rt = fake();
  const id = await rt.create(spec("c-a"));
  assert.throws(() => rt.emitLog("nope", "x"), errorNamed("NotFoundError"));
  rt.emitLog(id, "not running: nobody hears this");
  await rt.start(id);
  const lines: string[] = [];
  const ctl = new AbortController();
  const follow = rt.followLogs(id, (l) => lines.push(l), ctl.signal);
  await rt.settle();
  rt.emitLog(id, "one\r\ntwo", "stderr");
  rt.emitLog(id, "é".repeat(3000));
  await rt.settle();
  assert.deepEqual(lines, ["one", "two", "é".repeat(2048)]);
  const failing = rt.followLogs(id, () => {
    throw new Error("callback failed");
  }, new AbortController().signal);
  await rt.settle();
  rt.emitLog(id, "three");
  await assert.rejects(failing, /callback failed/);
  await rt.settle();
  assert.deepEqual(lines.at(-1), "three", "other followers carry on");
  ctl.abort();
  await follow;
});

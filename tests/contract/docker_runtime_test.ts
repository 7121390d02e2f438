import assert from "node:assert/strict";
import { containerRuntimeContract } from "./container_runtime_contract.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { testRunId } from "../helpers/env.ts";
import { testRuntime } from "../helpers/docker.ts";

const IMAGE = "gru-test/busybox";
/** Runs until SIGTERM (exit 0) or until `/tmp/gru-crash` appears (exit 3). */
const CMD = [
  "sh",
  "-c",
  "trap 'exit 0' TERM; while [ ! -e /tmp/gru-crash ]; do sleep 0.1; done; exit 3",
];

Deno.test("DockerRuntime (real engine) meets the ContainerRuntime contract", async (t) => {
  const rt = testRuntime();
  const run = testRunId();
  const mark = `c${Math.floor(Math.random() * 1e9).toString(36)}`;
  const labels = { [LABEL_TEST_RUN]: run, "gru.test-contract": mark };

  /** Runs `cmd` in container `id` (output not attached) and waits until it exits 0. */
  async function exec(id: string, cmd: string[]): Promise<void> {
    const x = await rt.docker.getContainer(id).exec({
      Cmd: cmd,
      AttachStdout: false,
      AttachStderr: false,
    });
    await x.start({ Detach: true });
    const end = Date.now() + 10_000;
    for (;;) {
      const info = await x.inspect();
      if (!info.Running && info.ExitCode !== null) {
        assert.equal(info.ExitCode, 0, `exec ${cmd.join(" ")}`);
        return;
      }
      if (Date.now() > end) assert.fail(`exec ${cmd.join(" ")} did not finish`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Host ports that no container publishes and that can be bound here now. */
  async function freePorts(n: number): Promise<number[]> {
    const published = new Set((await rt.listAll()).flatMap((c) => c.hostPorts));
    const out: number[] = [];
    for (let tries = 0; out.length < n; tries++) {
      assert.ok(tries < 1000, "no free host port found");
      const port = 20_000 + Math.floor(Math.random() * 10_000);
      if (published.has(port) || out.includes(port)) continue;
      try {
        Deno.listen({ hostname: "0.0.0.0", port }).close();
        out.push(port);
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse)) throw err;
      }
    }
    return out;
  }

  try {
    await containerRuntimeContract(t, {
      makeRuntime: () => testRuntime(),
      image: IMAGE,
      labels,
      namePrefix: `gru-test-${run}-${mark}`,
      cmd: CMD,
      freePorts,
      // Writing to the standard streams of the container's first process puts lines in its log.
      say: (id, lines, stream) =>
        exec(id, [
          "sh",
          "-c",
          `printf '%s\\n' "$@" > /proc/1/fd/${stream === "stdout" ? 1 : 2}`,
          "sh",
          ...lines,
        ]),
      crash: (id) => exec(id, ["touch", "/tmp/gru-crash"]),
    });
  } finally {
    // Whatever the suite left behind, even when it failed half-way.
    const left = await rt.list(labels);
    await Promise.all(left.map((c) => rt.remove(c.id)));
    await rt.close();
  }
});

import { MemoryContainerRuntime } from "../../src/adapters/memory/memory_container_runtime.ts";
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

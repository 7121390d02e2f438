/**
 * A dockerd restart does not kill the agent (docs/compat.md#d4): the event stream reconnects,
 * the agent resyncs, and its base service runs again. Uses a private engine the test restarts.
 */

import assert from "node:assert/strict";
import { DockerdServer } from "../helpers/dockerd_server.ts";
import { DockerRuntime } from "../../src/adapters/docker/docker_runtime.ts";
import { startTestAgent, waitFor } from "../helpers/agent.ts";
import { parseAgentConfig, parseServiceDescriptor } from "../../src/config/documents.ts";
import { testRunId } from "../helpers/env.ts";
import { LABEL_SERVICE } from "../../src/domain/model.ts";

Deno.test("the agent survives a dockerd restart and brings its base service back", async () => {
  const engine = await DockerdServer.start();
  const runtime = new DockerRuntime({
    endpoint: { kind: "socket", socketPath: engine.socket },
    timeoutMs: 3000,
  });
  const t = await startTestAgent({
    cluster: "restart-engine",
    run: `${testRunId()}-engine`,
    runtime,
    baseServices: ["keep"],
    docs: {
      config: parseAgentConfig({ Autonomic: { LoopTimeInterval: 1, Warmup: 0 } }, "c.json"),
      services: [parseServiceDescriptor({
        Name: "keep",
        Image: "gru-test/busybox",
        Configuration: { Cmd: ["sleep", "3600"], StopTimeout: 0 },
      }, "keep.json")],
    },
  });
  const running = async () =>
    (await runtime.list({ [LABEL_SERVICE]: "keep" })).filter((c) => c.state === "running");
  try {
    await t.agent.command({ name: "start", target: "agent" });
    await waitFor(async () => (await running()).length === 1, 15_000, () => "no keep");
    await waitFor(
      () => t.agent.parts.monitor.snapshot().eventsConnected,
      10_000,
      () => "no events",
    );

    await engine.stop(); // containers stop with the engine
    await waitFor(
      () => !t.agent.parts.monitor.snapshot().eventsConnected,
      10_000,
      () => "still up",
    );
    const seqDown = t.agent.decisionsList(1)[0]?.seq ?? 0;
    await new Promise((r) => setTimeout(r, 2000)); // loops go on without an engine
    assert.ok((t.agent.decisionsList(1)[0]?.seq ?? 0) > seqDown, "the loop kept running");

    await engine.restart();
    await waitFor(
      () => t.agent.parts.monitor.snapshot().eventsConnected,
      20_000,
      () => "no reconnect",
    );
    await waitFor(
      async () => (await running()).length === 1,
      20_000,
      () => JSON.stringify(t.agent.decisionsList(3).map((d) => [d.outcome, d.why, d.actions])),
    );
    assert.equal(t.agent.health().docker.ok, true);
  } finally {
    await t.close();
    await runtime.close();
    await engine.destroy();
  }
});

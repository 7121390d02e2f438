/**
 * Issue #3 on a real dockerd with a 1 s loop: CPU load scales a service out to its max and,
 * once the load stops, back in to its min with cooldowns respected; response times printed in
 * container logs drive scaling through an analytic; a killed base-service container comes back
 * within two loops; dry-run decides but changes nothing; a restarted agent adopts its
 * containers.
 */

import assert from "node:assert/strict";
import {
  parseAgentConfig,
  parseAnalytic,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../../src/config/documents.ts";
import type { ClusterDocs } from "../../src/domain/model.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { loadGenerator, startTestAgent, waitFor } from "../helpers/agent.ts";
import type { Agent } from "../../src/agent/agent.ts";

function docs(options: {
  service: Record<string, unknown>;
  policy: Record<string, unknown>;
  autonomic?: Record<string, unknown>;
  analytics?: Record<string, unknown>[];
}): ClusterDocs {
  return {
    config: parseAgentConfig({
      Autonomic: {
        LoopTimeInterval: 1,
        PlannerStrategy: "probdelta",
        Warmup: 1,
        Window: 3,
        ScaleOutCooldown: 3,
        ScaleInCooldown: 5,
        ScaleInStabilization: 3,
        ...options.autonomic,
      },
    }, "config.json"),
    policy: parsePolicyConfig(options.policy, "policy.json"),
    services: [parseServiceDescriptor(options.service, "svc.json")],
    analytics: (options.analytics ?? []).map((a) => parseAnalytic(a, "analytic.json")),
  };
}

function count(agent: Agent, service: string, phase?: string): number {
  return agent.parts.monitor.snapshot().instances.filter((i) =>
    i.service === service && i.status !== "stopped" && (phase === undefined || i.phase === phase)
  ).length;
}

function ports(agent: Agent, service: string): number[] {
  return agent.parts.instances.list(service).filter((i) => i.status === "running")
    .flatMap((i) => i.ports.map((p) => p.host));
}

function explain(agent: Agent): string {
  return agent.decisionsList(5).map((d) =>
    `#${d.seq} ${d.chosen.policy} ${d.chosen.targets} ${d.outcome}: ${d.why} | ` +
    JSON.stringify(d.inputs.services)
  ).join("\n");
}

Deno.test("CPU load scales out to max, then back in to min respecting cooldowns", async () => {
  const run = `${testRunId()}-cpu`;
  const t = await startTestAgent({
    cluster: "cpu",
    run,
    baseServices: ["burn"],
    docs: docs({
      service: {
        Name: "burn",
        Image: "gru-demo/web",
        MinInstances: 1,
        MaxInstances: 2,
        Configuration: { CpuNumber: 1, Ports: { "80": "29180-29189" }, StopTimeout: 1 },
      },
      policy: {
        Scaleout: { Enable: true, Threshold: 0.6, Metrics: ["cpu_avg"] },
        Scalein: { Enable: true, Threshold: 0.2, Metrics: ["cpu_avg"] },
      },
    }),
  });
  const load = loadGenerator(() => ports(t.agent, "burn"), { workers: 6, n: 30000 });
  let loadStopped = false;
  try {
    await t.agent.command({ name: "start", target: "agent" });
    // The base service comes up by itself, then the load pushes it to its max of 2.
    await waitFor(() => count(t.agent, "burn") === 2, 45_000, () => explain(t.agent));
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(count(t.agent, "burn"), 2, "never above max");
    await load.stop();
    loadStopped = true;
    const scaledIn = () =>
      t.agent.decisionsList().some((d) =>
        d.chosen.policy === "scalein" && d.outcome === "executed"
      );
    await waitFor(
      () => scaledIn() && count(t.agent, "burn") === 1,
      45_000,
      () => explain(t.agent),
    );
    const executed = t.agent.decisionsList().filter((d) => d.outcome === "executed");
    const outs = executed.filter((d) => d.chosen.policy === "scaleout");
    const ins = executed.filter((d) => d.chosen.policy === "scalein");
    assert.equal(outs.length, 1, explain(t.agent));
    assert.equal(ins.length, 1, explain(t.agent));
    assert.ok(ins[0]!.time - outs[0]!.time >= 5000, "scale-in waited for its cooldown");
    const blocked = t.agent.decisionsList().filter((d) => d.outcome === "blocked");
    assert.ok(blocked.some((d) => /not stable yet|cooldown/.test(d.why)), explain(t.agent));
    assert.ok(load.sent > 0);
  } finally {
    if (!loadStopped) await load.stop();
    await t.close();
    await removeRunContainers(run);
  }
});

Deno.test("response times from container logs drive scale-out through an analytic", async () => {
  const run = `${testRunId()}-logs`;
  const t = await startTestAgent({
    cluster: "logs",
    run,
    baseServices: ["web"],
    docs: docs({
      autonomic: { EnableLogReading: true },
      service: {
        Name: "web",
        Image: "gru-demo/web",
        MinInstances: 1,
        MaxInstances: 2,
        Analytics: ["resp_time_ratio"],
        Constraints: { MAX_RESP_TIME: 20 },
        Configuration: { CpuNumber: 1, Ports: { "80": "29190-29199" }, StopTimeout: 1 },
      },
      policy: { Scaleout: { Enable: true, Threshold: 0.5, Analytics: ["resp_time_ratio"] } },
      analytics: [{
        Name: "resp_time_ratio",
        Expr: "response_time / MAX_RESP_TIME",
        Metrics: ["response_time"],
        Constraints: ["MAX_RESP_TIME"],
      }],
    }),
  });
  // One slow request at a time: little CPU, but each takes far over MAX_RESP_TIME.
  const load = loadGenerator(() => ports(t.agent, "web"), { workers: 1, n: 60000 });
  try {
    await t.agent.command({ name: "start", target: "agent" });
    await waitFor(() => count(t.agent, "web") === 2, 45_000, () => explain(t.agent));
    const out = t.agent.decisionsList().find((d) =>
      d.chosen.policy === "scaleout" && d.outcome === "executed"
    );
    assert.ok(out, explain(t.agent));
    const seen = out.inputs.services.web!;
    assert.ok((seen.metrics.response_time ?? 0) > 20, JSON.stringify(seen));
    assert.equal(seen.analytics.resp_time_ratio, 1);
  } finally {
    await load.stop();
    await t.close();
    await removeRunContainers(run);
  }
});

Deno.test("a killed base-service container is replaced within two loops", async () => {
  const run = `${testRunId()}-base`;
  const t = await startTestAgent({
    cluster: "base",
    run,
    baseServices: ["keep"],
    docs: docs({
      service: {
        Name: "keep",
        Image: "gru-test/busybox",
        Configuration: { Cmd: ["sleep", "3600"], StopTimeout: 0 },
      },
      policy: {},
    }),
  });
  try {
    await t.agent.command({ name: "start", target: "agent" });
    // Wait for the record of the first start too: until that tick has recorded, its start
    // action would look like a replacement.
    await waitFor(
      () =>
        count(t.agent, "keep") === 1 &&
        t.agent.decisionsList().some((d) => d.actions.some((a) => a.ok)),
      10_000,
      () => explain(t.agent),
    );
    const rt = testRuntime();
    const [victim] = await rt.list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "keep" });
    const seqAtKill = t.agent.decisionsList(1)[0]?.seq ?? 0;
    const kill = await new Deno.Command("docker", { args: ["kill", victim!.id], stdout: "null" })
      .output();
    assert.equal(kill.code, 0);
    await waitFor(
      () => t.agent.decisionsList().some((d) => d.seq > seqAtKill && d.actions.some((a) => a.ok)),
      10_000,
      () => explain(t.agent),
    );
    const replaced = t.agent.decisionsList().find((d) =>
      d.seq > seqAtKill && d.actions.some((a) => a.ok)
    )!;
    assert.ok(replaced.seq <= seqAtKill + 2, `replaced in loop ${replaced.seq - seqAtKill}`);
    assert.match(replaced.actions[0]!.why, /base service/);
    const after = await rt.list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "keep" });
    assert.equal(after.filter((c) => c.state === "running").length, 1);
  } finally {
    await t.close();
    await removeRunContainers(run);
  }
});

Deno.test("dry-run records decisions and changes no container", async () => {
  const run = `${testRunId()}-dry`;
  const rt = testRuntime();
  const t = await startTestAgent({
    cluster: "dry",
    run,
    dryRun: true,
    docs: docs({
      service: {
        Name: "burn",
        Image: "gru-test/busybox",
        MaxInstances: 3,
        Configuration: { CpuNumber: 1, Cmd: ["sh", "-c", "while :; do :; done"] },
      },
      policy: { Scaleout: { Enable: true, Threshold: 0.5, Metrics: ["cpu_avg"] } },
    }),
  });
  try {
    await t.agent.command({ name: "start", target: "service", object: "burn" });
    const before = (await rt.list({ [LABEL_TEST_RUN]: run })).map((c) => c.id).sort();
    await t.agent.command({ name: "start", target: "agent" });
    await waitFor(
      () => t.agent.decisionsList().some((d) => d.outcome === "dry-run"),
      20_000,
      () => explain(t.agent),
    );
    const dry = t.agent.decisionsList().find((d) => d.outcome === "dry-run")!;
    assert.equal(dry.chosen.policy, "scaleout");
    assert.deepEqual(dry.actions, []);
    assert.match(dry.why, /dry-run: would scaleout burn/);
    const after = (await rt.list({ [LABEL_TEST_RUN]: run })).map((c) => c.id).sort();
    assert.deepEqual(after, before);
  } finally {
    await t.close();
    await removeRunContainers(run);
  }
});

Deno.test("a restarted agent keeps the same containers: no duplicates, no orphans", async () => {
  const run = `${testRunId()}-restart`;
  const rt = testRuntime();
  const d = docs({
    service: {
      Name: "keep",
      Image: "gru-test/busybox",
      MinInstances: 2,
      Configuration: { Cmd: ["sleep", "3600"], StopTimeout: 0 },
    },
    policy: {},
  });
  const first = await startTestAgent({ cluster: "restart", run, baseServices: ["keep"], docs: d });
  let second: Awaited<ReturnType<typeof startTestAgent>> | undefined;
  try {
    await first.agent.command({ name: "start", target: "agent" });
    await waitFor(() => count(first.agent, "keep") === 2, 15_000, () => explain(first.agent));
    const before = (await rt.list({ [LABEL_TEST_RUN]: run })).map((c) => c.id).sort();
    await first.agent.stop();
    assert.deepEqual((await rt.list({ [LABEL_TEST_RUN]: run })).map((c) => c.id).sort(), before);
    second = await startTestAgent({
      cluster: "restart",
      run,
      baseServices: ["keep"],
      docs: d,
      store: first.store,
    });
    await second.agent.command({ name: "start", target: "agent" });
    // Let several loops run: none may start or stop anything.
    await new Promise((r) => setTimeout(r, 3500));
    assert.ok(second.agent.decisionsList().length >= 2);
    assert.deepEqual(second.agent.decisionsList().flatMap((x) => x.actions), []);
    assert.deepEqual((await rt.list({ [LABEL_TEST_RUN]: run })).map((c) => c.id).sort(), before);
  } finally {
    await second?.close();
    await first.close();
    await removeRunContainers(run);
  }
});

Deno.test("running instances are published under Discovery.AppRoot and withdrawn on stop", async () => {
  const run = `${testRunId()}-disc`;
  const d = docs({
    service: {
      Name: "web",
      Image: "gru-demo/web",
      DiscoveryPort: "80",
      Configuration: { Ports: { "80": "29200-29209" }, StopTimeout: 1 },
    },
    policy: {},
  });
  d.config = parseAgentConfig({ Discovery: { AppRoot: "app/e2e/services", TTL: 2 } }, "c.json");
  const t = await startTestAgent({ cluster: "disc", run, docs: d });
  try {
    const r = await t.agent.command({ name: "start", target: "service", object: "web" });
    const inst = r.data as { id: string; ports: { host: number }[] };
    const key = `/app/e2e/services/web/${inst.id}`;
    await waitFor(
      async () => (await t.store.kv.get(key)) === `127.0.0.1:${inst.ports[0]!.host}`,
      10_000,
      () => `no key ${key}`,
    );
    await t.agent.command({ name: "stop", target: "service", object: "web" });
    await waitFor(async () => (await t.store.kv.get(key)) === undefined, 10_000, () => "kept");
  } finally {
    await t.close();
    await removeRunContainers(run);
  }
});

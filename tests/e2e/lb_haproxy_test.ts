/**
 * Issue #15 on real HAProxy, etcd, dockerd and an agent, all on loopback: HAProxy runs
 * deploy/haproxy.cfg.example (only its socket and port changed), `gru lb haproxy` feeds its
 * backend from the agent's discovery keys, and every request goes through HAProxy.
 *
 * - Scale out under load: every instance the loop starts answers through HAProxy before the
 *   loop's next decision is recorded (within one loop of running).
 * - Scale in under load, with `Discovery.DrainDelay`: the instance leaves HAProxy (drained, then
 *   deleted) before its container stops, and not one request fails over the whole run.
 */

import assert from "node:assert/strict";
import {
  parseAgentConfig,
  parseAnalytic,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../../src/config/documents.ts";
import type { ClusterDocs } from "../../src/domain/model.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { serverName } from "../../src/lb/watcher.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import type { KvWatch } from "../../src/ports/kv_store.ts";
import { startTestAgent, type TestAgent, waitFor } from "../helpers/agent.ts";
import { GruProcess } from "../helpers/gru_process.ts";
import { freePort } from "../helpers/net.ts";
import type { Agent } from "../../src/agent/agent.ts";

const EXAMPLE = new URL("../../deploy/haproxy.cfg.example", import.meta.url).pathname;
const LOOP_SECONDS = 3;

/**
 * Scaling follows the response time the service logs (gru:web:response_time:<ms>:ms): the CPU
 * share an instance gets depends on what else runs on the machine, its slowness does not.
 */
function docs(appRoot: string): ClusterDocs {
  return {
    config: parseAgentConfig({
      Autonomic: {
        LoopTimeInterval: LOOP_SECONDS,
        PlannerStrategy: "probdelta",
        EnableLogReading: true,
        Warmup: 1,
        Window: 4,
        ScaleOutCooldown: 3,
        ScaleInCooldown: 6,
        ScaleInStabilization: 4,
      },
      Discovery: { AppRoot: appRoot, TTL: 5, DrainDelay: 4 },
    }, "config.json"),
    policy: parsePolicyConfig({
      Scaleout: { Enable: true, Threshold: 0.5, Analytics: ["resp_time_ratio"] },
      Scalein: { Enable: true, Threshold: 0.4, Analytics: ["resp_time_ratio"] },
    }, "policy.json"),
    services: [parseServiceDescriptor({
      Name: "web",
      Image: "gru-demo/web",
      DiscoveryPort: "80",
      MinInstances: 1,
      MaxInstances: 2,
      Analytics: ["resp_time_ratio"],
      Constraints: { MAX_RESP_TIME: 100 },
      Configuration: { CpuNumber: 1, Ports: { "80": "29480-29489" }, StopTimeout: 1 },
    }, "web.json")],
    analytics: [parseAnalytic({
      Name: "resp_time_ratio",
      Expr: "response_time / MAX_RESP_TIME",
      Metrics: ["response_time"],
      Constraints: ["MAX_RESP_TIME"],
    }, "resp_time_ratio.json")],
  };
}

/** One request's outcome. */
interface Outcome {
  ok: boolean;
  /** Sent by the light prober (else by a loaded worker). */
  probe: boolean;
  server: string;
  /** The agent's latest decision when the answer came. */
  seq: number;
  /** When the answer came (ms since the epoch; for messages). */
  at: number;
  error?: string | undefined;
}

/**
 * Load through HAProxy: a light prober (a cheap request every 100 ms, so an answer says when
 * an instance became reachable, not how long the work took) and `mode.workers` closed-loop
 * workers of CPU-burning requests; `mode` can change while it runs.
 */
function haproxyLoad(url: string, agent: Agent) {
  const outcomes: Outcome[] = [];
  const mode = { workers: 0, n: 60000, pauseMs: 0 };
  let stopped = false;
  const latestSeq = () => agent.decisionsList(1)[0]?.seq ?? 0;
  const once = async (n: number, probe: boolean) => {
    try {
      const res = await fetch(`${url}/cgi-bin/work?n=${n}`, {
        signal: AbortSignal.timeout(60_000),
      });
      const body = await res.text();
      outcomes.push({
        ok: res.status === 200 && body.startsWith("ok"),
        probe,
        server: res.headers.get("x-gru-server") ?? "",
        seq: latestSeq(),
        at: Date.now(),
        error: res.status === 200 ? undefined : `HTTP ${res.status}`,
      });
    } catch (err) {
      outcomes.push({
        ok: false,
        probe,
        server: "",
        seq: latestSeq(),
        at: Date.now(),
        error: String(err),
      });
    }
  };
  const worker = async (w: number) => {
    while (!stopped) {
      if (w === 0) {
        await once(1, true);
        await new Promise((r) => setTimeout(r, 100));
      } else if (w > mode.workers) {
        await new Promise((r) => setTimeout(r, 100));
      } else {
        await once(mode.n, false);
        if (mode.pauseMs > 0) await new Promise((r) => setTimeout(r, mode.pauseMs));
      }
    }
  };
  const tasks = Array.from({ length: 5 }, (_, w) => worker(w));
  return {
    outcomes,
    mode,
    async stop() {
      stopped = true;
      await Promise.all(tasks);
    },
  };
}

/** Sends one runtime-API command to HAProxy's socket. */
async function haproxyApi(socket: string, command: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    await conn.write(new TextEncoder().encode(`${command}\n`));
    let out = "";
    const buf = new Uint8Array(65536);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
    return out;
  } finally {
    conn.close();
  }
}

async function backendServers(socket: string): Promise<string[]> {
  const text = await haproxyApi(socket, "show servers state web");
  return text.split("\n").slice(2).map((l) => l.trim().split(/\s+/)[3] ?? "").filter((n) => n);
}

function explain(agent: Agent): string {
  return agent.decisionsList(4).map((d) =>
    `#${d.seq} ${new Date(d.time).toISOString()} ${d.chosen.policy} ${d.outcome}: ${d.why} ` +
    d.actions.map((a) => `${a.action} ${a.instance ?? ""} ${a.ok}`).join(",") + " | " +
    JSON.stringify(d.inputs.services)
  ).join("\n");
}

/** Executed starts and stops: the decision's seq and the container's name. */
function actions(agent: Agent, action: "start" | "stop") {
  return agent.decisionsList().flatMap((d) =>
    d.actions.filter((a) => a.service === "web" && a.action === action && a.ok)
      .map((a) => ({ seq: d.seq, instance: a.instance ?? "", id: "" }))
  );
}

Deno.test("HAProxy fed by discovery: scale out and in under load, no request fails", async () => {
  const run = `${testRunId()}-lb`;
  const cluster = `lb-${run}`.replace(/[^A-Za-z0-9-]/g, "-");
  const appRoot = `/gru-test/${run}/services`;
  const dir = await Deno.makeTempDir({ prefix: "gru-lb-e2e-" });
  const socket = `${dir}/admin.sock`;
  const port = freePort();
  const cfg = (await Deno.readTextFile(EXAMPLE))
    .replaceAll("/run/haproxy/admin.sock", socket)
    .replace(/bind :8080/, `bind 127.0.0.1:${port}`);
  assert.ok(
    cfg.includes(`stats socket ${socket} `) && cfg.includes(`bind 127.0.0.1:${port}\n`),
    "deploy/haproxy.cfg.example changed shape",
  );
  await Deno.writeTextFile(`${dir}/haproxy.cfg`, cfg);

  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const store = new ClusterStore(kv);
  let haproxy: Deno.ChildProcess | undefined;
  let lb: GruProcess | undefined;
  let t: TestAgent | undefined;
  let load: ReturnType<typeof haproxyLoad> | undefined;
  let watch: KvWatch | undefined;
  try {
    haproxy = new Deno.Command("haproxy", {
      args: ["-db", "-f", `${dir}/haproxy.cfg`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const haproxyLog = haproxy.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let haproxyText = "";
    (async () => {
      for (let r = await haproxyLog.read(); !r.done; r = await haproxyLog.read()) {
        haproxyText += r.value;
      }
    })().catch(() => {});
    await waitFor(
      () => Deno.stat(socket).then(() => true, () => false),
      10_000,
      () => `HAProxy's admin socket: ${haproxyText}`,
    );
    await store.createCluster(cluster, { uuid: "c".repeat(32), token: "t" });
    // `gru lb haproxy --cluster` reads Discovery.AppRoot from the configuration.
    await store.importDocs(cluster, docs(appRoot));
    lb = new GruProcess(
      ["lb", "haproxy", "--service", "web", "--socket", socket, "--cluster", cluster],
      { ETCD_ADDR: etcdEndpoints().join(",") },
    );
    // The watcher is up once a key put by hand shows in HAProxy (and goes again).
    await kv.put(`${appRoot}/web/ready`, "127.0.0.1:9");
    await waitFor(
      async () => (await backendServers(socket)).includes("gru-web-ready"),
      60_000,
      () => `gru lb haproxy feeds HAProxy: ${lb!.log}`,
    );
    await kv.delete(`${appRoot}/web/ready`);
    await waitFor(
      async () => (await backendServers(socket)).length === 0,
      60_000,
      () => `gru lb haproxy drains and deletes: ${lb!.log}`,
    );
    t = await startTestAgent({ cluster, run, docs: docs(appRoot), store, baseServices: ["web"] });
    const agent = t.agent;
    // The prober runs from the start: until the base instance is in HAProxy, it gets 503s.
    load = haproxyLoad(`http://127.0.0.1:${port}`, agent);
    await agent.command({ name: "start", target: "agent" });
    await waitFor(() => load!.outcomes.some((o) => o.ok), 60_000, () => explain(agent));
    const firstOk = load.outcomes.findIndex((o) => o.ok);
    load.mode.workers = 2;

    // Scale out under load: the base instance, then a second one by the policy.
    const running = () =>
      agent.parts.instances.list("web").filter((i) => i.status === "running").length;
    const scaledOut = () =>
      agent.decisionsList().some((d) => d.chosen.policy === "scaleout" && d.outcome === "executed");
    await waitFor(
      () => scaledOut() && running() === 2,
      120_000,
      () => `${explain(agent)}\n${JSON.stringify(load!.outcomes.slice(-5))}`,
    );
    assert.ok(actions(agent, "start").length >= 1, explain(agent));
    const list = agent.parts.instances.list("web");
    const byName = new Map(list.map((i) => [i.name, i.id]));
    for (const start of actions(agent, "start")) {
      const inst = list.find((i) => i.name === start.instance);
      assert.ok(inst, `${start.instance} is running`);
      const server = serverName("web", inst.id);
      const probed = () => load!.outcomes.find((o) => o.probe && o.ok && o.server === server);
      await waitFor(
        () => probed() !== undefined,
        30_000,
        () => `${server} answers through HAProxy; lb: ${lb!.log}`,
      );
      // Within one loop of running: it answered before the second loop that began after its
      // container was running began (one full LoopTimeInterval after the first one).
      const first = probed()!;
      const after = agent.decisionsList().filter((d) => d.time >= inst.startedAt);
      const second = after.sort((a, b) => a.seq - b.seq)[1];
      assert.ok(
        second === undefined || first.at < second.time,
        `${server} running since ${new Date(inst.startedAt).toISOString()} first answered ` +
          `at ${new Date(first.at).toISOString()}, after loop #${second?.seq} began\n` +
          explain(agent) + `\nlb: ${lb!.log}`,
      );
    }

    // Scale in under (lighter) load: the CPU falls, the loop stops one instance. Its key must
    // go while its container still runs (Discovery.DrainDelay), so HAProxy drains it first.
    const docker = testRuntime();
    const atDelete: string[] = [];
    watch = await kv.watchPrefix(`${appRoot}/web/`, (e) => {
      if (e.type !== "delete") return;
      const id = e.key.slice(e.key.lastIndexOf("/") + 1);
      atDelete.push(`${id.slice(0, 12)} pending`);
      const at = atDelete.length - 1;
      docker.inspect(id).then(
        (d) => atDelete[at] = `${id.slice(0, 12)} ${d.state}`,
        () => atDelete[at] = `${id.slice(0, 12)} gone`,
      );
    });
    load.mode.workers = 1;
    load.mode.n = 50;
    load.mode.pauseMs = 100;
    await waitFor(() => actions(agent, "stop").length >= 1, 120_000, () => explain(agent));
    const stopped = actions(agent, "stop")[0]!;
    stopped.id = byName.get(stopped.instance) ?? "";
    const left = agent.parts.instances.list("web").filter((i) => i.status === "running");
    assert.equal(left.length, 1, explain(agent));
    const keep = serverName("web", left[0]!.id);
    await waitFor(
      async () => JSON.stringify(await backendServers(socket)) === JSON.stringify([keep]),
      30_000,
      () => `only ${keep} left in HAProxy; lb: ${lb!.log}`,
    );
    await waitFor(() => atDelete.some((a) => !a.endsWith("pending")), 10_000, () => "inspect");
    assert.deepEqual(atDelete, [`${stopped.id.slice(0, 12)} running`]);
    const sentAfter = load.outcomes.length;
    await waitFor(() => load!.outcomes.length >= sentAfter + 5, 30_000, () => "more requests");
    await load.stop();
    const failed = load.outcomes.slice(firstOk).filter((o) => !o.ok);
    assert.equal(failed.length, 0, JSON.stringify(failed.slice(0, 5)));
    const loaded = load.outcomes.filter((o) => !o.probe).length;
    assert.ok(loaded > 20, `${loaded} loaded requests`);
    // The stopped instance went through drain before deletion.
    const drained = lb.log.indexOf("draining gru-web-");
    const deleted = lb.log.indexOf("deleted gru-web-");
    assert.ok(drained >= 0 && deleted > drained, `${stopped.instance}: ${lb.log}`);
  } finally {
    await load?.stop();
    await watch?.close();
    await t?.close();
    await lb?.stop();
    if (haproxy) {
      try {
        haproxy.kill("SIGTERM");
      } catch {
        // exited
      }
      await haproxy.status;
    }
    await removeRunContainers(run);
    await kv.deletePrefix(`/gru/${cluster}/`).catch(() => {});
    await kv.deletePrefix(`/gru-test/${run}/`).catch(() => {});
    await kv.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

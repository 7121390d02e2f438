/**
 * Reaction time on a real dockerd with a 1 s loop: from the moment a service's load starts to
 * the moment its new container is running, and answering HTTP. An in-process agent
 * (`startTestAgent`) manages `web` (gru-demo/web, CpuNumber 1, MinInstances 1, MaxInstances 2,
 * a base service) with a scale-out policy on `cpu_avg`. Each trial waits for exactly one running
 * instance and a quiet CPU, starts CPU-burning HTTP load on the running instances, polls the
 * engine every 50 ms for a second running container, then polls its port until it answers,
 * stops the load and waits for the scale-in back to 1. The agent's decision records split the
 * time into: load → the CPU window shows it (first loop with cpu_avg over the threshold), →
 * the executed scale-out decision, → container running, → answering.
 *
 * Prints a table; asserts nothing. `deno run -A scripts/bench_reaction.ts [trials=10]
 * [strategy=probdelta] [window s=2|demo] [fast=off|on|alt]` (needs the engine at
 * /var/run/docker.sock, or GRU_TEST_DOCKER_SOCKET, and the image gru-demo/web). `fast=on` turns
 * the fast path on (`FastPath`: margin 0.1, short window 0.5 s, a look every 0.25 s); with the
 * `target` strategy the service tracks `cpu_avg` at the scale-out threshold. `demo` instead of a
 * window runs the demo's own `examples/demo/config.json` and `policy.json` as they are (their
 * loop, window, warm-up, cooldowns, threshold and `FastPath`), with only `FastPath.Enable`
 * switched by the last argument, and with the strategy given.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import {
  parseAgentConfig,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../src/config/documents.ts";
import { fastPathSettings } from "../src/agent/fast_path.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../src/domain/model.ts";
import { demoDocument, loadGenerator, startTestAgent, waitFor } from "../tests/helpers/agent.ts";
import { removeRunContainers, testRuntime } from "../tests/helpers/docker.ts";
import type { ContainerSummary } from "../src/ports/container_runtime.ts";

const TRIALS = Number(Deno.args[0] ?? 10);
const STRATEGY = Deno.args[1] ?? "probdelta";
/** The demo's own configuration and policy instead of the bench's. */
const DEMO = Deno.args[2] === "demo";
const WINDOW = DEMO ? 0 : Number(Deno.args[2] ?? 2);
/** `off`, `on`, or `alt`: trials alternate off/on (the fairest on a shared, busy machine). */
const MODE = Deno.args[3] ?? "off";
const FAST = MODE === "on";

const DEMO_CONFIG = DEMO ? demoDocument("config.json") : undefined;
const DEMO_POLICY = DEMO ? demoDocument("policy.json") : undefined;
const THRESHOLD = DEMO_POLICY ? Number(DEMO_POLICY.Scaleout!.Threshold) : 0.5;
const WORKERS = 4;
const run = `bench-reaction-${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function configWith(fast: boolean) {
  if (DEMO_CONFIG) {
    const autonomic = DEMO_CONFIG.Autonomic!;
    const fastPath = { ...(autonomic.FastPath as Record<string, unknown>), Enable: fast };
    return parseAgentConfig({
      ...DEMO_CONFIG,
      Autonomic: { ...autonomic, PlannerStrategy: STRATEGY, FastPath: fastPath },
    }, "examples/demo/config.json");
  }
  return parseAgentConfig({
    Autonomic: {
      LoopTimeInterval: 1,
      PlannerStrategy: STRATEGY,
      Warmup: 1,
      Window: WINDOW,
      ScaleOutCooldown: 2,
      ScaleInCooldown: 2,
      ScaleInStabilization: 2,
      FastPath: { Enable: fast, Margin: 0.1, Window: 0.5, CheckInterval: 0.25 },
    },
  }, "config.json");
}

const rt = testRuntime();
const t = await startTestAgent({
  cluster: "benchreact",
  run,
  baseServices: ["web"],
  docs: {
    config: configWith(FAST),
    policy: DEMO_POLICY
      ? parsePolicyConfig(DEMO_POLICY, "examples/demo/policy.json")
      : parsePolicyConfig({
        Scaleout: { Enable: true, Threshold: THRESHOLD, Metrics: ["cpu_avg"] },
        Scalein: { Enable: true, Threshold: 0.2, Metrics: ["cpu_avg"] },
      }, "policy.json"),
    services: [parseServiceDescriptor({
      Name: "web",
      Image: "gru-demo/web",
      MinInstances: 1,
      MaxInstances: 2,
      Configuration: { CpuNumber: 1, Ports: { "80": "29300-29309" }, StopTimeout: 1 },
      Scaling: { Target: { Metric: "cpu_avg", Value: THRESHOLD } },
    }, "web.json")],
  },
});

async function running(): Promise<ContainerSummary[]> {
  return (await rt.list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "web" }))
    .filter((c) => c.state === "running");
}

function lastCpu(): number | undefined {
  return t.agent.decisionsList(1)[0]?.inputs.services.web?.cpu_avg;
}

interface Trial {
  fast: boolean;
  running: number;
  answering: number;
  seen: number | undefined;
  decided: number | undefined;
  blocked: number;
  back: number;
}

// Ctrl-C stops the agent and removes the bench's containers before leaving.
Deno.addSignalListener("SIGINT", () => {
  console.log("\ninterrupted: removing the bench's containers");
  t.close().catch(() => {}).then(() => removeRunContainers(run)).finally(() => Deno.exit(130));
});

const trials: Trial[] = [];
let lastStop = 0;
let missed = 0;
try {
  await t.agent.command({ name: "start", target: "agent" });
  for (let k = 1; k <= TRIALS; k++) {
    // Exactly one running instance and a quiet CPU window (the last loop saw < 0.1).
    await waitFor(
      async () => {
        const cpu = lastCpu();
        return (await running()).length === 1 && cpu !== undefined && cpu < 0.1;
      },
      90_000,
      () => "1 quiet instance",
    );
    const fast = MODE === "alt" ? k % 2 === 0 : FAST;
    if (MODE === "alt") {
      await t.store.importDocs("benchreact", { config: configWith(fast) });
      await t.agent.command({ name: "update", target: "agent" });
    }
    // The fast path acts only on a surge out of calm (`FastPath.Calm`): the previous trial's
    // load must be that long gone.
    const calmMs = fastPathSettings(configWith(fast).autonomic).calm * 1000;
    await sleep(Math.max(0, lastStop + calmMs + 500 - Date.now()));
    // A random phase against the 1 s loop: load does not start just after a tick every time.
    await sleep(1000 + Math.random() * 1000);
    const before = await running();
    if (before.length !== 1) {
      k--;
      continue;
    }
    const known = new Set(before.map((c) => c.id));
    let ports = before.flatMap((c) => c.hostPorts);
    const t0 = Date.now();
    const load = loadGenerator(() => ports, { workers: WORKERS, n: 30000 });
    let fresh: ContainerSummary | undefined;
    while (!fresh && Date.now() - t0 <= 60_000) {
      await sleep(50);
      fresh = (await running()).find((c) => !known.has(c.id));
    }
    if (!fresh) {
      // A busy machine can keep the load under the threshold: counted, not fatal.
      await load.stop();
      lastStop = Date.now();
      missed++;
      console.log(`trial ${k}: no scale-out within 60 s (missed)`);
      continue;
    }
    const tRunning = Date.now();
    const port = fresh.hostPorts[0]!;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
        await res.body?.cancel();
        break;
      } catch {
        await sleep(50);
      }
      if (Date.now() - tRunning > 30_000) throw new Error("new instance never answered");
    }
    const tAnswering = Date.now();
    ports = (await running()).flatMap((c) => c.hostPorts);
    await load.stop();
    const tStop = Date.now();
    lastStop = tStop;
    const ds = t.agent.decisionsList().filter((d) => d.time >= t0 && d.time <= tRunning)
      .sort((a, b) => a.seq - b.seq);
    const seen = ds.find((d) => (d.inputs.services.web?.cpu_avg ?? 0) > THRESHOLD);
    const decided = ds.find((d) =>
      d.chosen.policy === "scaleout" && d.outcome === "executed" ||
      d.actions.some((a) => a.action === "start" && a.ok)
    );
    const between = ds.filter((d) =>
      seen !== undefined && d.seq >= seen.seq && (decided === undefined || d.seq < decided.seq)
    );
    const blocked = between.length;
    const held = [...new Set(between.map((d) => `${d.chosen.policy} ${d.outcome}: ${d.why}`))];
    await waitFor(
      async () => (await running()).length === 1,
      90_000,
      () => "back to 1 instance",
    );
    const trial: Trial = {
      fast,
      running: tRunning - t0,
      answering: tAnswering - t0,
      seen: seen && seen.time - t0,
      decided: decided && decided.time - t0,
      blocked,
      back: Date.now() - tStop,
    };
    trials.push(trial);
    console.log(
      `trial ${k}${MODE === "alt" ? ` (fast path ${fast ? "on" : "off"})` : ""}: running ${
        (trial.running / 1000).toFixed(2)
      } s, answering ` +
        `${(trial.answering / 1000).toFixed(2)} s (load seen ${fmt(trial.seen)}, decided ` +
        `${fmt(trial.decided)}, loops between ${blocked}), back to 1 after ` +
        `${(trial.back / 1000).toFixed(1)} s` +
        (held.length > 0 ? `; held: ${held.slice(0, 3).join(" | ").slice(0, 300)}` : ""),
    );
  }
} finally {
  await t.close();
  await removeRunContainers(run);
  await rt.close();
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  // nearest rank
  return s[Math.max(0, Math.ceil(p * s.length) - 1)]!;
}

console.log(
  `\nstrategy ${STRATEGY}, fast path ${
    MODE === "alt" ? "off/on alternating" : FAST ? "on" : "off"
  }, ${
    DEMO
      ? `the demo's config.json and policy.json (FastPath ${
        JSON.stringify(DEMO_CONFIG!.Autonomic!.FastPath)
      })`
      : `loop 1 s, Window ${WINDOW} s, Warmup 1 s`
  }, scale-out threshold ${THRESHOLD}, ${missed} trial(s) missed, ` +
    `${WORKERS} load workers\n`,
);
console.log(
  "| trial | load seen (s) | scale-out decided (s) | running (s) | answering (s) | " +
    "decided → running (s) | running → answering (s) |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
trials.forEach((x, i) => {
  const s = (ms: number | undefined) => ms === undefined ? "-" : (ms / 1000).toFixed(2);
  console.log(
    `| ${i + 1} | ${s(x.seen)} | ${s(x.decided)} | ${s(x.running)} | ${s(x.answering)} | ` +
      `${s(x.decided === undefined ? undefined : x.running - x.decided)} | ` +
      `${s(x.answering - x.running)} |`,
  );
});
function summary(label: string, group: Trial[]): void {
  if (group.length === 0) return;
  const col = (f: (x: Trial) => number | undefined) =>
    group.map(f).filter((v): v is number => v !== undefined);
  const row = (label: string, xs: number[]) =>
    xs.length === 0
      ? `| ${label} | - | - | - |`
      : `| ${label} | ${(pct(xs, 0.5) / 1000).toFixed(2)} | ${
        (pct(xs, 0.95) / 1000).toFixed(2)
      } | ${(Math.max(...xs) / 1000).toFixed(2)} |`;
  console.log(`\n${label}${group.length} trials\n`);
  console.log("| phase (from load start) | p50 (s) | p95 (s) | max (s) |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(row("CPU window shows the load", col((x) => x.seen)));
  console.log(row("scale-out executed", col((x) => x.decided)));
  console.log(row("new container running", col((x) => x.running)));
  console.log(row("new container answering", col((x) => x.answering)));
  console.log(
    row(
      "(decided → running)",
      col((x) => x.decided === undefined ? undefined : x.running - x.decided),
    ),
  );
  console.log(row("(running → answering)", col((x) => x.answering - x.running)));
}

if (MODE === "alt") {
  summary("fast path off, ", trials.filter((x) => !x.fast));
  summary("fast path on, ", trials.filter((x) => x.fast));
} else {
  summary("", trials);
}

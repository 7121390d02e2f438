/**
 * Issue #13, end to end: the Gru Console (`gru console`) driven in real headless Chromium
 * (Debian's `chromium` through playwright-core) against real etcd, the real Docker engine and two
 * real agent processes.
 *
 * - the overview lists both agents and the cluster's service;
 * - an operation (start service `web` on node c1) asks for confirmation and shows c1's result;
 * - under load, the service page's chart shows the running instances going 1 → 2 and a
 *   scale-out marker whose tooltip holds the decision's reason;
 * - a policy edit with an error shows the error at its JSON path, and applying it anyway is
 *   rejected with nothing written to etcd; the fixed edit is applied and both agents report it.
 *
 * A screenshot of each page goes to test-artifacts/console/ (git-ignored).
 */

import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { gru, GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { urlLoad, waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { clusterKeys } from "../../src/cluster/keys.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";

const ARTIFACTS = new URL("../../test-artifacts/console/", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("GRU_TEST_CHROMIUM") ?? "/usr/bin/chromium";

const CONFIG = {
  Autonomic: {
    LoopTimeInterval: 1,
    PlannerStrategy: "probdelta",
    Warmup: 1,
    Window: 3,
    ScaleOutCooldown: 3,
    ScaleInCooldown: 5,
    ScaleInStabilization: 3,
  },
  Metric: { MetricService: "none" },
};
/**
 * A low scale-out threshold, so the load scales `web` out within a few loops even on a busy
 * 2-core machine; an idle `web` stays far below it.
 */
const POLICY = { Scaleout: { Enable: true, Threshold: 0.1, Metrics: ["cpu_avg"] } };
const WEB = {
  Name: "web",
  Image: "gru-demo/web",
  MinInstances: 1,
  MaxInstances: 2,
  Configuration: { CpuNumber: 1, Ports: { "80": "29410-29419" }, StopTimeout: 1 },
};

/** Headless Chromium; playwright gives it a fresh temporary profile (user data dir) each time. */
async function launch(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** The agent's documents in force, as its API reports them. */
async function agentPolicy(port: number, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}/gru/v1/config`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()).policy;
}

/** The policy text the editor gets: the scale-out threshold set to `threshold`. */
function policyText(threshold: number | string): string {
  return JSON.stringify({ scaleout: { enable: true, threshold, metrics: ["cpu_avg"] } }, null, 2);
}

Deno.test({
  name: "the console shows, charts, edits and operates a real 2-agent cluster",
  // playwright-core keeps a pipe to Chromium open between calls.
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await Deno.remove(`${ARTIFACTS}failure.png`).catch(() => {});
  const run = testRunId();
  const cluster = `console-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-console-" });
  const ports = [freePort(), freePort()];
  const consolePort = freePort();
  const base = `http://127.0.0.1:${consolePort}`;
  const procs: GruProcess[] = [];
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const keys = clusterKeys(cluster);
  let browser: Browser | undefined;
  let shown: Page | undefined;
  let load: ReturnType<typeof urlLoad> | undefined;
  let webUrls: string[] = [];
  let polling = true;
  const logs = () => procs.map((p) => p.log.slice(-1500)).join("\n---\n");
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
    await Deno.writeTextFile(`${tmp}/conf/config.json`, JSON.stringify(CONFIG));
    await Deno.writeTextFile(`${tmp}/conf/policy.json`, JSON.stringify(POLICY));
    await Deno.writeTextFile(`${tmp}/conf/services/web.json`, JSON.stringify(WEB));
    const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    for (const [i, port] of ports.entries()) {
      procs.push(
        loopbackAgent({ cluster, name: `c${i + 1}`, port, stateDir: tmp, run, ttl: 3, env }),
      );
    }
    const registered = (port: number) =>
      fetch(`http://127.0.0.1:${port}/gru/v1/health`)
        .then(async (r) => (await r.json()).registered === true)
        .catch(() => false);
    await waitFor(
      async () => (await Promise.all(ports.map(registered))).every(Boolean),
      30_000,
      logs,
    );
    const token = (await kv.get(keys.token))!;
    procs.push(
      new GruProcess(
        ["console", "--listen", `127.0.0.1:${consolePort}`, "--cluster", cluster],
        env,
      ),
    );
    await waitFor(
      () => fetch(`${base}/api/session`).then((r) => r.ok).catch(() => false),
      30_000,
      logs,
    );

    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1366, height: 820 } });
    shown = page;
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      // The rejected edit below is a 400 on purpose; any other error counts.
      if (m.type() === "error" && !/status of 400/.test(m.text())) {
        pageErrors.push(`console: ${m.text()}`);
      }
    });

    // Overview: both agents and the service, live.
    await page.goto(`${base}/#/overview`);
    await page.locator("#nodes-table tbody tr").nth(1).waitFor({ timeout: 20_000 });
    assert.deepEqual(
      await page.locator("#nodes-table tbody tr th").allTextContents(),
      ["c1", "c2"],
    );
    assert.match(await page.locator("#nodes-table").innerText(), /c1[\s\S]*ok[\s\S]*c2/);
    assert.deepEqual(
      await page.locator("#services-table tbody tr th").allTextContents(),
      ["web"],
    );

    // Operations: start web on c1, confirmed, with c1's result.
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Operations" })
      .click();
    await page.getByLabel(/Start service/).check();
    await page.locator("#node-c1").check();
    await page.locator("#op-service").selectOption("web");
    await page.locator("#run-op").click();
    await page.locator("dialog#confirm").waitFor({ state: "visible" });
    assert.match(await page.locator("#confirm-text").innerText(), /web on c1/);
    await page.locator("#confirm-ok").click();
    const c1Result = page.locator('#op-result tr[data-node="c1"]');
    await c1Result.waitFor({ timeout: 30_000 });
    assert.equal(await c1Result.getAttribute("data-ok"), "true", await c1Result.innerText());
    await shot(page, "operations");
    const rt = testRuntime();
    const refreshUrls = async () => {
      while (polling) {
        const cs = await rt.list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "web" });
        webUrls = cs.filter((c) => c.state === "running")
          .flatMap((c) => c.hostPorts.map((p) => `http://127.0.0.1:${p}`));
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const refresher = refreshUrls();

    // The autonomic loop of c1 (also an operation), then load: web scales out to 2.
    await page.getByLabel(/Start agent/).check();
    await page.locator("#node-c1").check();
    await page.locator("#run-op").click();
    await page.locator("#confirm-ok").click();
    await page.locator('#op-result tr[data-node="c1"][data-ok="true"]').waitFor();
    // The chart first shows the one instance, then the load starts.
    await page.goto(`${base}/#/service/web`);
    await waitFor(
      async () =>
        /window: (0 → )?1\./.test(
          await page.locator("#instances-summary").innerText({ timeout: 1000 }).catch(() => ""),
        ),
      60_000,
      logs,
    );
    load = urlLoad(() => webUrls, { workers: 6, n: 30000 });
    await page.locator("#chart-instances .marker-scale-out button").first()
      .waitFor({ state: "attached", timeout: 120_000 });
    await waitFor(
      async () => /1 → 2/.test(await page.locator("#instances-summary").innerText()),
      30_000,
      logs,
    );
    await load.stop();
    load = undefined;
    const marker = page.locator("#chart-instances .marker-scale-out").first();
    await marker.locator("button").hover();
    const tip = marker.locator('[role="tooltip"]');
    assert.ok(await tip.isVisible(), "the marker's tooltip shows on hover");
    const history = await (await fetch(`${base}/api/services/web/history?cluster=${cluster}`))
      .json() as { markers: { kind: string; reasons: string[] }[] };
    const out = history.markers.find((m) => m.kind === "scale-out");
    assert.ok(out && out.reasons.length > 0, JSON.stringify(history.markers));
    assert.ok((await tip.innerText()).includes(out.reasons[0]!), await tip.innerText());
    // The keyboard reaches the marker too: focused, it shows the same tooltip.
    await page.mouse.move(0, 0);
    await marker.locator("button").focus();
    assert.ok(await tip.isVisible(), "the marker's tooltip shows on focus");
    await shot(page, "service");

    // A policy edit with an error: shown at its path; applying it anyway writes nothing.
    const storedBefore = await kv.get(keys.policy);
    await page.goto(`${base}/#/config/policy`);
    const editor = page.locator("#doc-text");
    await editor.waitFor();
    await editor.fill(policyText(1.5));
    const problem = page.locator("#doc-problems li");
    await problem.first().waitFor({ timeout: 10_000 });
    assert.match(await problem.first().innerText(), /threshold/i);
    assert.match(await page.locator("#doc-status").innerText(), /problem/);
    await shot(page, "config-error");
    await page.locator("#apply").click();
    await page.locator("#confirm-ok").click();
    await page.getByText("Not applied: nothing was written.").waitFor();
    assert.equal(await kv.get(keys.policy), storedBefore, "the rejected edit wrote nothing");

    // The fixed edit is applied and both agents report the new policy.
    await editor.fill(policyText(0.9));
    await page.locator("#doc-status").getByText("Valid").waitFor({ timeout: 10_000 });
    assert.equal(await problem.count(), 0);
    await page.locator("#apply").click();
    await page.locator("#confirm-ok").click();
    await page.locator('#doc-result tr[data-node="c2"]').waitFor({ timeout: 20_000 });
    assert.deepEqual(
      await page.locator("#doc-result tr[data-node]").evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute("data-node"), r.getAttribute("data-ok")])
      ),
      [["c1", "true"], ["c2", "true"]],
    );
    for (const port of ports) {
      const policy = await agentPolicy(port, token) as { scaleout: { threshold: number } };
      assert.equal(policy.scaleout.threshold, 0.9);
    }
    await shot(page, "config");

    // Back to the overview (the screenshot of the README).
    await page.goto(`${base}/#/overview`);
    await page.locator("#nodes-table tbody tr").nth(1).waitFor({ timeout: 20_000 });
    await shot(page, "overview");
    assert.deepEqual(pageErrors, []);
    polling = false;
    await refresher;
  } catch (e) {
    // What the page showed and what the processes said, for the failure's report.
    await shown?.screenshot({ path: `${ARTIFACTS}failure.png`, fullPage: true }).catch(() => {});
    throw new Error(`${e instanceof Error ? e.message : e}\n--- logs:\n${logs()}`, { cause: e });
  } finally {
    polling = false;
    await load?.stop();
    await browser?.close();
    for (const p of procs.reverse()) await p.stop("SIGTERM");
    await removeRunContainers(run);
    await kv.deletePrefix(keys.root).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});

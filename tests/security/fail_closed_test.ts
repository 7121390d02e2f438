/**
 * Fail closed: an agent of a cluster without a token (as the original Gru made them) refuses
 * every mutating route, gossip and every read of cluster internals with 503 naming the fix;
 * `/health` says so; the agent logs it at error level. `gru token rotate` ends it without a
 * restart.
 */

import assert from "node:assert/strict";
import { testRunId } from "../helpers/env.ts";
import { gru } from "../helpers/gru_process.ts";
import { waitFor } from "../helpers/agent.ts";
import { authHeaders, call, startTrustCluster } from "../helpers/trust.ts";

const MUTATING: [string, string, string | undefined][] = [
  ["POST", "/gru/v1/commands", '{"Name":"start","Target":"service","Object":"idle"}'],
  ["POST", "/gru/v1/services/idle/instances", undefined],
  ["DELETE", "/gru/v1/services/idle/instances", undefined],
  ["DELETE", "/gru/v1/services/idle/instances/0123456789ab", undefined],
  ["POST", "/gru/v1/stats/user/idle/latency", '{"values":[1]}'],
  ["POST", "/gru/v1/gossip", '{"cluster":"x","from":"intruder","entries":[]}'],
];
const READS = ["/node", "/services", "/services/idle", "/config", "/decisions", "/gossip"];

Deno.test("an agent without a cluster token refuses everything with 503 until one is rotated in", async (t) => {
  const run = testRunId();
  const c = await startTrustCluster({ name: "closed", run, withToken: false });
  try {
    await t.step("/health is 503, degraded, and names the fix", async () => {
      const res = await call(`${c.url}/gru/v1/health`);
      assert.equal(res.status, 503);
      const h = res.json() as { status: string; registered: boolean; token: { ok: boolean } };
      assert.equal(h.status, "degraded");
      assert.equal(h.registered, true, "the agent runs; only authenticated routes are closed");
      assert.equal(h.token.ok, false);
      assert.match(
        JSON.stringify(h.token),
        new RegExp(`/gru/${c.cluster}/token does not exist.*gru token rotate ${c.cluster}`),
      );
    });

    await t.step("every mutating route and gossip is 503, with or without a token", async () => {
      for (const [method, path, body] of MUTATING) {
        for (const token of [undefined, "guess"]) {
          const res = await call(`${c.url}${path}`, { method, headers: authHeaders(token), body });
          assert.equal(res.status, 503, `${method} ${path}: ${res.text}`);
          const e = (res.json() as { error: { code: string; message: string } }).error;
          assert.equal(e.code, "unavailable");
          assert.match(e.message, /no cluster token/);
          assert.match(e.message, new RegExp(`gru token rotate ${c.cluster}`));
        }
      }
    });

    await t.step("reads of cluster internals are 503 too; nothing was started", async () => {
      for (const path of READS) {
        const res = await call(`${c.url}/gru/v1${path}`, { headers: authHeaders("guess") });
        assert.equal(res.status, 503, path);
      }
      const containers = await new Deno.Command("docker", {
        args: ["ps", "-aq", "--filter", `label=gru.test-run=${run}`],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(containers.stdout).trim(), "");
    });

    await t.step("the agent logs the refusal at error level, once", () => {
      const lines = c.agent.log.split("\n").filter((l) => /no cluster token/.test(l));
      assert.ok(lines.length >= 1, c.agent.log.slice(-2000));
      assert.ok(lines.every((l) => /ERR/.test(l)), lines.join("\n"));
      assert.equal(lines.length, 1, "logged once per state change, not per read");
    });

    await t.step("gru token rotate gives the cluster a token the agent takes up", async () => {
      const rotated = await gru(["token", "rotate", c.cluster], { env: c.env });
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /no previous token/);
      const token = await c.token();
      assert.ok(token && token.length === 64);
      assert.doesNotMatch(rotated.stdout + rotated.stderr, new RegExp(token!));
      // A client with the new token is accepted at once (the agent re-reads on a miss).
      const node = await call(`${c.url}/gru/v1/node`, { headers: authHeaders(token) });
      assert.equal(node.status, 200, node.text);
      await waitFor(
        async () => (await call(`${c.url}/gru/v1/health`)).status === 200,
        15_000,
        () => c.agent.log.slice(-1000),
      );
      const unauth = await call(`${c.url}/gru/v1/node`);
      assert.equal(unauth.status, 401);
    });
  } finally {
    await c.close();
  }
});

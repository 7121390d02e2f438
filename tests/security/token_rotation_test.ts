/**
 * Token rotation without downtime, against a real agent process and real etcd: after
 * `gru token rotate --grace S` the agent accepts the old and the new token until the grace
 * ends, then only the new one; `gru token show` prints the token only when asked to.
 */

import assert from "node:assert/strict";
import { testRunId } from "../helpers/env.ts";
import { gru } from "../helpers/gru_process.ts";
import { authHeaders, call, startTrustCluster } from "../helpers/trust.ts";

Deno.test("a rotated token: old accepted within the grace, refused after; new accepted", async (t) => {
  const run = testRunId();
  const c = await startTrustCluster({ name: "rotate", run, withToken: true });
  const command = (token: string | undefined) =>
    call(`${c.url}/gru/v1/commands`, {
      method: "POST",
      headers: authHeaders(token),
      body: JSON.stringify({ Name: "update", Target: "policy", Object: c.cluster }),
    });
  try {
    const old = await c.token();
    assert.ok(old);
    assert.equal((await command(old)).status, 200);

    const grace = 6;
    let rotatedAt = 0;
    let until = 0;
    await t.step("rotate keeps the previous token until now + grace", async () => {
      rotatedAt = Date.now();
      const res = await gru(["token", "rotate", c.cluster, "--grace", String(grace)], {
        env: c.env,
      });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /previous one is accepted until \d{4}-\d\d-\d\dT/);
      const previous = await c.kv((s, root) => s.get(`${root}token-previous`));
      const p = JSON.parse(previous!) as { token: string; until: string };
      assert.equal(p.token, old);
      until = Date.parse(p.until);
      assert.ok(until - rotatedAt >= grace * 1000 && until - rotatedAt < grace * 1000 + 5000);
    });

    const fresh = await c.token();
    assert.ok(fresh && fresh !== old);

    await t.step("within the grace both tokens are accepted", async () => {
      assert.equal((await command(fresh)).status, 200, "new, before the agent's next read");
      assert.equal((await command(old)).status, 200, "old, within the grace");
      const health = (await call(`${c.url}/gru/v1/health`)).json() as {
        token: { ok: boolean; previousUntil?: string };
      };
      assert.equal(health.token.ok, true);
      assert.ok(health.token.previousUntil, JSON.stringify(health.token));
    });

    await t.step("after the grace only the new token is accepted", async () => {
      const wait = until + 300 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const refused = await command(old);
      assert.equal(refused.status, 401, refused.text);
      assert.equal((await command(fresh)).status, 200);
      assert.equal((await command("not-a-token")).status, 401);
    });

    await t.step("gru token show prints only to a terminal or with --reveal", async () => {
      const piped = await gru(["token", "show", c.cluster], { env: c.env });
      assert.equal(piped.code, 2);
      assert.doesNotMatch(piped.stdout + piped.stderr, new RegExp(fresh!));
      const revealed = await gru(["token", "show", c.cluster, "--reveal"], { env: c.env });
      assert.equal(revealed.code, 0, revealed.stderr);
      assert.equal(revealed.stdout.trim(), fresh);
    });

    await t.step("bad --grace is refused and changes nothing", async () => {
      const res = await gru(["token", "rotate", c.cluster, "--grace", "-5"], { env: c.env });
      assert.equal(res.code, 2);
      assert.match(res.stderr, /Invalid --grace/);
      assert.equal(await c.token(), fresh);
    });

    await t.step("the agent's log never shows a token", () => {
      assert.doesNotMatch(c.agent.log, new RegExp(`${old}|${fresh}`));
      assert.match(c.agent.log, /Cluster token rotated/);
    });
  } finally {
    await c.close();
  }
});

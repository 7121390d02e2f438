/**
 * What an agent serves, against a real agent process and real etcd: every route that reveals
 * the cluster needs the token, and none carries a secret (metric credentials, `Env` values,
 * the token); POST as `text/plain` or a form is refused (CSRF); errors quote a short excerpt
 * of the input at most; the agent's log holds none of the secrets either.
 */

import assert from "node:assert/strict";
import { testRunId } from "../helpers/env.ts";
import { waitFor } from "../helpers/agent.ts";
import { authHeaders, call, SECRETS, startTrustCluster } from "../helpers/trust.ts";

const SECRET_ROUTES = ["/config", "/services", "/services/idle", "/node", "/decisions", "/gossip"];

function assertNoSecret(text: string, token: string, where: string) {
  for (const s of [...Object.values(SECRETS), token]) {
    assert.ok(!text.includes(s), `${where} leaks a secret: ${text.slice(0, 300)}`);
  }
}

Deno.test("agent API: secrets redacted and token-protected, CSRF refused, short errors", async (t) => {
  const run = testRunId();
  const c = await startTrustCluster({ name: "api", run, withToken: true });
  const token = (await c.token())!;
  const api = (path: string) => `${c.url}/gru/v1${path}`;
  try {
    await t.step("every route revealing the cluster is 401 without the token", async () => {
      for (const path of SECRET_ROUTES) {
        const res = await call(api(path));
        assert.equal(res.status, 401, path);
        const wrong = await call(api(path), { headers: { "x-gru-token": "x".repeat(64) } });
        assert.equal(wrong.status, 401, path);
      }
      const health = await call(api("/health"));
      assert.equal(health.status, 200, "health stays open");
      assertNoSecret(health.text, token, "/health");
      const metrics = await call(`${c.url}/metrics`);
      assert.equal(metrics.status, 200, "metrics stay open");
      assertNoSecret(metrics.text, token, "/metrics");
    });

    await t.step("with the token, no route shows a secret; keys stay visible", async () => {
      for (const path of SECRET_ROUTES) {
        const res = await call(api(path), { headers: authHeaders(token) });
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        assertNoSecret(res.text, token, path);
      }
      const config = (await call(api("/config"), { headers: authHeaders(token) })).json() as {
        config: { metric: { configuration: Record<string, string> } };
      };
      assert.deepEqual(config.config.metric.configuration, {
        Url: "http://127.0.0.1:1",
        DbName: "gru",
        Username: "<redacted>",
        Password: "<redacted>",
        Token: "<redacted>",
      });
      const idle = (await call(api("/services/idle"), { headers: authHeaders(token) })).json() as {
        configuration: { env: Record<string, string> };
      };
      assert.deepEqual(idle.configuration.env, { DB_PASSWORD: "<redacted>" });
    });

    await t.step("command results carry no secret (start and stop an instance)", async () => {
      const started = await call(api("/services/idle/instances"), {
        method: "POST",
        headers: authHeaders(token),
      });
      assert.equal(started.status, 201, started.text);
      assertNoSecret(started.text, token, "start");
      const view = await call(api("/services"), { headers: authHeaders(token) });
      assertNoSecret(view.text, token, "/services with an instance");
      const stopped = await call(api("/commands"), {
        method: "POST",
        headers: authHeaders(token),
        body: JSON.stringify({ Name: "stop", Target: "service", Object: "idle" }),
      });
      assert.equal(stopped.status, 200, stopped.text);
      assertNoSecret(stopped.text, token, "stop");
    });

    await t.step("POST as text/plain or a form is 415 and does nothing (CSRF)", async () => {
      const body = JSON.stringify({ Name: "start", Target: "agent" });
      for (
        const type of [
          "text/plain",
          "text/plain;charset=UTF-8",
          "application/x-www-form-urlencoded",
        ]
      ) {
        const res = await call(api("/commands"), {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": type },
          body,
        });
        assert.equal(res.status, 415, `${type}: ${res.text}`);
        assert.match(res.text, /application\/json/);
      }
      const noType = await call(api("/commands"), {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: new Blob([body]),
      });
      assert.equal(noType.status, 415, "a body without a content type");
      const health = (await call(api("/health"))).json() as { active: boolean };
      assert.equal(health.active, false, "start agent never ran");
    });

    await t.step(
      "errors quote at most 80 characters of the input, control chars escaped",
      async () => {
        const huge = "\u001b]0;pwned\u0007" + "Z".repeat(20_000);
        const cases: [string, string][] = [
          ["/commands", huge],
          ["/commands", JSON.stringify({ Name: "start", Target: huge })],
          ["/commands", JSON.stringify({ Name: "start", Target: "service", Object: huge })],
          ["/stats/user/idle/m", JSON.stringify({ nope: huge })],
          ["/gossip", JSON.stringify({ cluster: huge, from: "x", entries: [] })],
        ];
        for (const [path, body] of cases) {
          const res = await call(api(path), { method: "POST", headers: authHeaders(token), body });
          assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
          assert.doesNotMatch(res.text, /Z{81}/, `${path} quotes too much`);
          const control = [...res.text].some((ch) => ch.charCodeAt(0) < 0x20 && ch !== "\n");
          assert.ok(!control, `${path} echoes control characters`);
          assert.ok(res.text.length < 2000, `${path}: ${res.text.length} characters`);
        }
        const route = await call(api(`/services/${"Q".repeat(3000)}`), {
          headers: authHeaders(token),
        });
        assert.equal(route.status, 404);
        assert.doesNotMatch(route.text, /Q{81}/);
      },
    );

    await t.step("the agent's log holds no secret and one audit line per request", async () => {
      await waitFor(() => /audit/.test(c.agent.log), 5000, () => c.agent.log.slice(-500));
      assertNoSecret(c.agent.log, token, "the agent log");
      const audit = c.agent.log.split("\n").filter((l) => /gru·audit|gru\.audit/.test(l));
      const started = audit.filter((l) => /"POST" "\/gru\/v1\/services\/idle\/instances"/.test(l));
      assert.equal(started.length, 1, audit.join("\n"));
      assert.match(started[0]!, /^\S+ \S+ \S+ \[INF\] gru·audit: "token" from "127\.0\.0\.1"/);
      assert.match(started[0]!, /start service "idle".* → 201$/);
      const csrf = audit.filter((l) => /→ 415$/.test(l));
      assert.equal(csrf.length, 4, "three content types and one body without a type");
      assert.ok(csrf.every((l) => /\[WRN\]/.test(l)));
    });
  } finally {
    await c.close();
  }
});

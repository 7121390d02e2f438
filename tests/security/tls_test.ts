/**
 * TLS on the agent API with real agent processes, real etcd and real certificates made by
 * `gru tls`: with a CA configured, an agent refuses a client without a certificate, one with a
 * certificate from another CA, and plain HTTP, and serves a client whose certificate its CA
 * signed; two such agents gossip with each other over mutual TLS; the node's address in etcd is
 * `https://`; a gossip message whose sender is not the certificate's name is refused; an agent
 * serving plain HTTP beyond loopback warns.
 */

import assert from "node:assert/strict";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { AgentClient, type AgentTls } from "../../src/api/client.ts";
import { UnauthorizedError } from "../../src/domain/errors.ts";

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await gru(args, { env });
  assert.equal(r.code, 0, `gru ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function tlsAgent(o: {
  cluster: string;
  name: string;
  port: number;
  dir: string;
  run: string;
  env: Record<string, string>;
  tls: boolean;
  listen?: string;
}): GruProcess {
  const tls = o.tls
    ? [
      "--tls-ca",
      `${o.dir}/gru-ca.pem`,
      "--tls-cert",
      `${o.dir}/${o.name}.pem`,
      "--tls-key",
      `${o.dir}/${o.name}-key.pem`,
    ]
    : [];
  return loopbackAgent({ ...o, stateDir: o.dir, ttl: 3, extraArgs: tls });
}

/** Whether any HTTP answer comes back (`false`: the connection was refused or dropped). */
async function answers(url: string, client?: Deno.HttpClient): Promise<boolean> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(5000),
      ...(client ? { client } : {}),
    });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

Deno.test("tls: mutual TLS refuses wrong or missing client certificates; TLS agents gossip", async (t) => {
  const run = testRunId();
  const cluster = `tls-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const dir = await Deno.makeTempDir({ prefix: "gru-tls-" });
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const agents: GruProcess[] = [];
  const clients: Deno.HttpClient[] = [];
  const ports = [freePort(), freePort()];
  const read = (f: string) => Deno.readTextFileSync(`${dir}/${f}`);
  try {
    await ok(["tls", "ca", "create", "--dir", dir]);
    for (const n of ["n1", "n2"]) {
      await ok(["tls", "cert", "create", "--node", n, "--ip", "127.0.0.1", "--dir", dir]);
    }
    await ok(["tls", "cert", "create", "--cli", "--dir", dir]);
    await ok(["tls", "ca", "create", "--dir", `${dir}/other`, "--name", "Other CA"]);
    await ok(["tls", "cert", "create", "--cli", "--dir", `${dir}/other`]);
    // The same file made by another CA's hand, for the node name the agent expects.
    await ok([
      "tls",
      "cert",
      "create",
      "--node",
      "n2",
      "--ip",
      "127.0.0.1",
      "--dir",
      `${dir}/other`,
    ]);

    await ok(["create", cluster], env);
    await Deno.mkdir(`${dir}/conf`);
    await Deno.writeTextFile(
      `${dir}/conf/config.json`,
      JSON.stringify({ Communication: { LoopTimeInterval: 0.5, MaxFriends: 1 } }),
    );
    await ok(["config", "import", cluster, `${dir}/conf`], env);
    for (const [i, port] of ports.entries()) {
      agents.push(tlsAgent({ cluster, name: `n${i + 1}`, port, dir, run, env, tls: true }));
    }
    const token = await kv.get(`/gru/${cluster}/token`);
    assert.ok(token);
    const good: AgentTls = {
      ca: read("gru-ca.pem"),
      cert: read("cli.pem"),
      key: read("cli-key.pem"),
    };
    const cli = new AgentClient({ tls: good, token, timeoutMs: 5000, requireTls: true });
    const url = (i: number) => `https://127.0.0.1:${ports[i]}`;
    await waitFor(
      async () =>
        (await cli.get<{ node: string }>(url(0), "/health").catch(() => undefined))
          ?.node === "n1",
      30_000,
      () => agents.map((a) => a.log.slice(-800)).join("\n---\n"),
    );
    const health = `${url(0)}/gru/v1/health`;

    await t.step("a client with a certificate from the cluster's CA is served", async () => {
      const h = await cli.get<{ node: string; status: string }>(url(0), "/health");
      assert.equal(h.node, "n1");
    });

    await t.step("a client without a certificate is refused at the handshake", async () => {
      const c = Deno.createHttpClient({ caCerts: [good.ca!] });
      clients.push(c);
      assert.equal(await answers(health, c), false);
      const noCert = new AgentClient({ tls: { ca: good.ca }, timeoutMs: 5000 });
      await assert.rejects(
        noCert.get(url(0), "/health"),
        /Cannot reach agent .*client certificate/,
      );
      noCert.close();
    });

    await t.step("a certificate from another CA is refused", async () => {
      for (const stem of ["cli", "n2"]) {
        const c = Deno.createHttpClient({
          caCerts: [good.ca!],
          cert: read(`other/${stem}.pem`),
          key: read(`other/${stem}-key.pem`),
        });
        clients.push(c);
        assert.equal(await answers(health, c), false, stem);
      }
    });

    await t.step("the raw TLS handshake fails without a valid client certificate", async () => {
      // TLS 1.3 finishes the client's side first; the server's refusal shows on the first read.
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: ports[0]!,
        caCerts: [good.ca!],
        cert: read("other/cli.pem"),
        key: read("other/cli-key.pem"),
      });
      try {
        await conn.write(
          new TextEncoder().encode("GET /gru/v1/health HTTP/1.1\r\nhost: x\r\n\r\n"),
        );
        const buf = new Uint8Array(1024);
        const n = await conn.read(buf).catch(() => null);
        assert.equal(n, null, "no HTTP answer on a refused handshake");
      } finally {
        try {
          conn.close();
        } catch {
          // already closed by the server
        }
      }
    });

    await t.step("plain HTTP to a TLS agent gets no API answer", async () => {
      const res = await fetch(`http://127.0.0.1:${ports[0]}/gru/v1/health`, {
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      if (res) {
        assert.notEqual(res.status, 200);
        await res.body?.cancel();
      }
      // And a TLS-configured client never sends the token over plain HTTP to a remote agent.
      await assert.rejects(cli.get("http://192.0.2.1:5000", "/health"), /Refusing plain HTTP/);
    });

    await t.step("the node's address in etcd is https://", async () => {
      const raw = await kv.get(`/gru/${cluster}/nodes/n1/config`);
      assert.match(raw ?? "", /"https:\/\/127\.0\.0\.1:\d+"/);
    });

    await t.step("two TLS agents gossip with each other over mutual TLS", async () => {
      await waitFor(
        async () => {
          const views = await Promise.all(
            [0, 1].map((i) =>
              cli.get<{ entries: { origin: string }[] }>(url(i), "/gossip").catch(() => undefined)
            ),
          );
          return views.every((v) => v?.entries.map((e) => e.origin).sort().join() === "n1,n2");
        },
        20_000,
        () => agents.map((a) => a.log.slice(-800)).join("\n---\n"),
      );
    });

    await t.step("gossip whose sender is not the certificate's name is refused", async () => {
      // The CLI certificate (CN "cli") posts a message claiming to come from n2: refused.
      await assert.rejects(
        cli.request(url(0), "POST", "/gossip", { cluster, from: "n2", entries: [] }),
        (err: unknown) =>
          err instanceof UnauthorizedError &&
          /\$\.from is "n2" but the client certificate is for "cli"/.test(err.message),
      );
      // n2's own certificate may speak for n2.
      const asN2 = new AgentClient({
        tls: { ca: good.ca, cert: read("n2.pem"), key: read("n2-key.pem") },
        token,
        timeoutMs: 5000,
      });
      try {
        const reply = await asN2.request<{ from: string }>(url(0), "POST", "/gossip", {
          cluster,
          from: "n2",
          entries: [],
        });
        assert.equal(reply.from, "n1");
      } finally {
        asN2.close();
      }
    });

    await t.step("gru status verifies agents with the CA and the CLI certificate", async () => {
      const tlsEnv = {
        ...env,
        GRU_TLS_CA: `${dir}/gru-ca.pem`,
        GRU_TLS_CERT: `${dir}/cli.pem`,
        GRU_TLS_KEY: `${dir}/cli-key.pem`,
      };
      const st = JSON.parse(await ok(["status", "--cluster", cluster, "--json"], tlsEnv));
      assert.deepEqual(st.nodes.map((n: { health: string }) => n.health), ["ok", "ok"]);
      const noCert = { ...env, GRU_TLS_CA: `${dir}/gru-ca.pem` };
      const refused = JSON.parse(await ok(["status", "--cluster", cluster, "--json"], noCert));
      assert.equal(refused.nodes[0].health, "unreachable");
    });
    cli.close();
  } finally {
    for (const c of clients) c.close();
    await Promise.all(agents.map((a) => a.stop()));
    await kv.deletePrefix(`/gru/${cluster}/`);
    await kv.close();
    await removeRunContainers(run);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: an agent serving plain HTTP beyond loopback warns loudly", async () => {
  const run = testRunId();
  const cluster = `tls-plain-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const dir = await Deno.makeTempDir({ prefix: "gru-tls-" });
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  let agent: GruProcess | undefined;
  try {
    await ok(["create", cluster], env);
    agent = tlsAgent({
      cluster,
      name: "p1",
      port: freePort(),
      dir,
      run,
      env,
      tls: false,
      listen: "0.0.0.0",
    });
    await waitFor(() => /PLAIN HTTP/.test(agent!.log), 20_000, () => agent!.log.slice(-800));
    assert.match(agent.log, /--tls-cert/);
  } finally {
    await agent?.stop();
    await kv.deletePrefix(`/gru/${cluster}/`);
    await kv.close();
    await removeRunContainers(run);
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * SIGTERM ends `gru agent` and `gru join` whenever it comes, under the binary's permissions:
 * as soon as the API answers (the start-up is still registering the node, adopting containers,
 * connecting the event stream: a stop racing the first registration used to wait forever),
 * exit 0 with the node gone from the store (lease revoked); at any moment of the start-up, exit
 * 0 or 143 (the signal came before the agent listened for it), never a process left running.
 */

import assert from "node:assert/strict";
import { gru, GruProcess } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";

const ROUNDS = 8;
/** Long enough for any shutdown on a loaded machine; a hang is what this catches. */
const DEADLINE_MS = 30_000;

/** The exit status, or a rejection when the process still runs after the deadline. */
async function exited(p: GruProcess, what: string): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} still running ${DEADLINE_MS} ms after SIGTERM:\n${p.log}`)),
      DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([p.stop("SIGTERM"), hang]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("SIGTERM ends gru agent and gru join at any moment of their start-up", async (t) => {
  const run = testRunId();
  const cluster = `sigterm-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-sigterm-" });
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const store = new ClusterStore(kv);
  const live = new Set<GruProcess>();
  const start = (i: number) => {
    const port = freePort();
    const name = `s${i}`;
    const args = i % 2 === 0
      ? ["agent", "--cluster", cluster, "--name", name, "--active"]
      : ["join", cluster, "--name", name];
    const p = new GruProcess(
      [
        ...args,
        ...["--address", "127.0.0.1", "--listen", "127.0.0.1", "--port", String(port)],
        ...["--state", `${tmp}/${name}.json`, "--ttl", "3", "--label", `${LABEL_TEST_RUN}=${run}`],
      ],
      env,
      "binary",
    );
    live.add(p);
    return { p, port, name, what: `gru ${args[0]} ${name}` };
  };
  try {
    const created = await gru(["create", cluster], { env });
    assert.equal(created.code, 0, created.stderr);

    await t.step("as soon as the API answers: exit 0, node gone", async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const { p, port, name, what } = start(i);
        let up = false;
        for (let n = 0; n < 6000 && !up && p.child.pid; n++) {
          up = await fetch(`http://127.0.0.1:${port}/health`).then(
            (r) => r.body?.cancel().then(() => true),
            () => false,
          ) ?? false;
          if (!up) await new Promise((r) => setTimeout(r, 5));
        }
        assert.ok(up, `${what} never answered:\n${p.log}`);
        const status = await exited(p, what);
        live.delete(p);
        assert.equal(status.code, 0, `${what}:\n${p.log}`);
        // Revoked at exit; a join stopped before its agent registered leaves only its claim,
        // which lapses within the TTL (3 s).
        let gone = false;
        for (let n = 0; n < 20 && !gone; n++) {
          gone = await store.getNode(cluster, name) === undefined;
          if (!gone) await new Promise((r) => setTimeout(r, 500));
        }
        assert.ok(gone, `${what}: the node is still registered 10 s after exit`);
      }
    });

    await t.step("at a random moment of the start-up: exit 0 or 143", async () => {
      for (let i = ROUNDS; i < 2 * ROUNDS; i++) {
        const { p, what } = start(i);
        await new Promise((r) => setTimeout(r, Math.random() * 3000));
        const status = await exited(p, what);
        live.delete(p);
        assert.ok([0, 143].includes(status.code), `${what}: exit ${status.code}\n${p.log}`);
      }
    });
  } finally {
    for (const p of live) await p.stop("SIGKILL");
    await removeRunContainers(run);
    await kv.deletePrefix(`/gru/${cluster}/`);
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

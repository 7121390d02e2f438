/**
 * The seed README's "Example Deployment", typed word for word on the 3-node harness: `gru create
 * myCluster`, upload a seed-style configuration, `gru join myCluster --name node<i>` on every
 * node (inside its namespace; the join itself is the agent), then `gru manage`: `use myCluster`,
 * `list nodes`, `deploy`, `start agent all` (the last in a second session, so the test sees that
 * only `deploy` started containers before the loops ran). The services must then run and be
 * managed: each
 * container labelled with its cluster, node and service; a service's `MinInstances` reached by
 * the agents' own loops; a removed base-service container started again; and Ctrl-C (SIGTERM)
 * makes every agent leave, after which `list nodes` says that no agent is alive.
 *
 * Settings the seed README gives as environment stay environment here (`ETCD_ADDR`); so do the
 * ones this one machine needs because three "machines" share it: each node's Docker socket
 * (`DOCKER_HOST`), its identity file (`GRU_STATE`) and the test-run label (`GRU_LABELS`). The
 * harness runs without its own agents (`agents: false`) and serves plain HTTP.
 */

import assert from "node:assert/strict";
import { Harness, HARNESS_ETCD_URL } from "../helpers/harness.ts";
import { waitFor } from "../helpers/agent.ts";
import { testRunId } from "../helpers/env.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
/** The harness etcd as the nodes see it. */
const NODE_ETCD_URL = "http://10.231.0.1:2479";
const CLUSTER = "myCluster";

/** `deno run main.ts <args>`, inside node `netns` when given. */
function gruCommand(
  args: string[],
  options: { netns?: string; env: Record<string, string>; stdin?: boolean },
): Deno.Command {
  const gru = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
  return new Deno.Command(options.netns ? "nsenter" : gru[0]!, {
    args: options.netns ? [`--net=/var/run/netns/${options.netns}`, ...gru] : gru.slice(1),
    cwd: ROOT,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  });
}

/** Types one command and waits for it. */
async function type(
  args: string[],
  options: { netns?: string; env: Record<string, string>; stdin?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = gruCommand(args, { ...options, stdin: options.stdin !== undefined }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A `gru join` left running in the foreground of a node, as typed in its terminal. */
class Terminal {
  readonly child: Deno.ChildProcess;
  output = "";
  #reading: Promise<void>;

  constructor(args: string[], netns: string, env: Record<string, string>) {
    this.child = gruCommand(args, { netns, env }).spawn();
    const dec = new TextDecoder();
    const read = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) this.output += dec.decode(chunk);
    };
    this.#reading = Promise.all([read(this.child.stdout), read(this.child.stderr)]).then(() => {});
  }

  /** Ctrl-C: SIGTERM to the process (nsenter execs it), then its exit status. */
  async interrupt(): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const status = await this.child.status;
    await this.#reading;
    return status;
  }
}

/** The seed README's configuration, with loop intervals short enough for a test. */
async function writeSeedConfig(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/services`, { recursive: true });
  await Deno.mkdir(`${dir}/analytics`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    `{
  "Docker": {
    "DaemonUrl": "local:2375", // the seed's; each node's DOCKER_HOST overrides it here
    "DaemonTimeout": 10
  },
  "Autonomic": {
    "LoopTimeInterval": 1, // the seed says 60: a test cannot wait minutes
    "PlannerStrategy": "probdelta",
    "EnableLogReading": true,
    "Warmup": 1
  },
  "Communication": {
    "LoopTimeInterval": 1,
    "MaxFriends": 5
  },
  "Storage": {
    "StorageService": "internal"
  },
  "Discovery": {
    "AppRoot": "app/myapp/services",
    "TTL": 5
  }
}
`,
  );
  await Deno.writeTextFile(
    `${dir}/policy.json`,
    JSON.stringify({
      Scalein: {
        Enable: true,
        Threshold: 0.35,
        Metrics: ["cpu_avg"],
        Analytics: ["resp_time_ratio"],
      },
      Scaleout: {
        Enable: true,
        Threshold: 0.75,
        Metrics: ["cpu_avg"],
        Analytics: ["resp_time_ratio"],
      },
      Swap: { Enable: true, Threshold: 0.6, Metrics: ["cpu_avg"], Analytics: ["resp_time_ratio"] },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/analytics/resp_time_ratio.json`,
    JSON.stringify({
      Name: "resp_time_ratio",
      Expr: "execution_time / MAX_RESP_TIME",
      Metrics: ["execution_time"],
      Constraints: ["MAX_RESP_TIME"],
    }),
  );
  for (const i of [1, 2, 3]) {
    await Deno.writeTextFile(
      `${dir}/services/service${i}.json`,
      JSON.stringify({
        Name: `service${i}`,
        Type: `service${i}`,
        Image: "gru-demo/web", // a local image (no registry here)
        Remote: `/gru/${CLUSTER}/services/service${i}`,
        DiscoveryPort: "80",
        Analytics: ["resp_time_ratio"],
        Constraints: { MAX_RESP_TIME: 1000 },
        // Gru's addition, so that the agents themselves have something to scale.
        ...(i === 1 ? { MinInstances: 2 } : {}),
        Configuration: {
          cpunumber: 1,
          memory: "32m",
          StopTimeout: 1,
          Env: { ETCD_ADDR: "", HostIP: "" },
          Ports: { "80": "50000-50004" },
        },
      }),
    );
  }
}

/** `<service> <node> <test-run>` of each container of the cluster on node `i`'s engine. */
async function containers(h: Harness, i: number): Promise<string[]> {
  const r = await h.docker(i, [
    "ps",
    "--filter",
    `label=gru.cluster=${CLUSTER}`,
    "--format",
    `{{.Label "gru.service"}} {{.Label "gru.node"}} {{.Label "${LABEL_TEST_RUN}"}} {{.ID}}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

Deno.test("the seed README's Example Deployment, typed on 3 nodes", async (t) => {
  const run = testRunId();
  const dir = await Deno.makeTempDir({ prefix: "gru-seed-" });
  const h = await Harness.up(3, { plain: true, agents: false });
  const host = { ETCD_ADDR: HARNESS_ETCD_URL };
  const nodeEnv = (i: number) => ({
    ETCD_ADDR: NODE_ETCD_URL,
    DOCKER_HOST: `unix://${h.node(i).dockerSocket}`,
    GRU_STATE: `${dir}/node${i}.json`,
    GRU_LABELS: `${LABEL_TEST_RUN}=${run}`,
  });
  const terminals: Terminal[] = [];
  const health = async (i: number): Promise<Record<string, unknown> | undefined> => {
    try {
      const r = await fetch(`${h.node(i).url}/gru/v1/health`, {
        signal: AbortSignal.timeout(2000),
      });
      return await r.json();
    } catch {
      return undefined;
    }
  };
  const logs = () => terminals.map((x, k) => `--- node${k + 1}:\n${x.output}`).join("\n");
  try {
    await t.step("gru create myCluster", async () => {
      const r = await type(["create", CLUSTER], { netns: h.node(1).netns, env: nodeEnv(1) });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${CLUSTER}:[0-9a-f]{32}\\n$`));
    });

    await t.step("upload the configuration", async () => {
      await writeSeedConfig(`${dir}/config`);
      const r = await type(["config", "import", CLUSTER, `${dir}/config`], { env: host });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });

    await t.step(
      "gru join myCluster --name node<i> on every node: each becomes its agent",
      async () => {
        for (const i of [1, 2, 3]) {
          terminals.push(
            new Terminal(["join", CLUSTER, "--name", `node${i}`], h.node(i).netns, nodeEnv(i)),
          );
        }
        await waitFor(
          async () => (await Promise.all([1, 2, 3].map(health))).every((b) => b?.registered),
          90_000,
          () => `agents not registered; output:\n${logs()}`,
        );
        for (const [k, term] of terminals.entries()) {
          assert.match(
            term.output,
            new RegExp(
              `Joined cluster ${CLUSTER} as node node${k + 1} \\(${h.node(k + 1).ip}:5000\\)`,
            ),
          );
          assert.match(term.output, /Waiting for commands\.\.\./);
        }
        for (const i of [1, 2, 3]) assert.equal((await health(i))?.active, false);
      },
    );

    await t.step("gru manage: use, list nodes, deploy", async () => {
      const r = await type(["manage"], {
        env: host,
        stdin: `use ${CLUSTER}\nlist nodes\ndeploy\n`,
      });
      const shown = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      assert.equal(r.code, 0, shown);
      assert.match(r.stdout, new RegExp(`^Using cluster ${CLUSTER}$`, "m"));
      for (const i of [1, 2, 3]) {
        assert.match(
          r.stdout,
          new RegExp(`^node${i} +http://${h.node(i).ip.replaceAll(".", "\\.")}:5000 +no `, "m"),
          shown,
        );
        assert.match(r.stdout, new RegExp(`^node${i} +service${i} +done$`, "m"), shown);
      }
      assert.match(r.stdout, /^TOTAL: 3$/m);
    });

    await t.step("every service runs on its node, labelled; nothing else yet", async () => {
      for (const i of [1, 2, 3]) {
        const all = await containers(h, i);
        assert.equal(all.length, 1, all.join("; ")); // the loops are not running yet
        assert.match(all[0]!, new RegExp(`^service${i} node${i} ${run} `));
      }
    });

    await t.step("gru manage: use, start agent all", async () => {
      const r = await type(["manage"], { env: host, stdin: `use ${CLUSTER}\nstart agent all\n` });
      const shown = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      assert.equal(r.code, 0, shown);
      for (const i of [1, 2, 3]) assert.match(r.stdout, new RegExp(`^node${i} +done$`, "m"), shown);
      for (const i of [1, 2, 3]) assert.equal((await health(i))?.active, true);
    });

    await t.step("the agents scale service1 to its MinInstances (2)", async () => {
      let seen: string[] = [];
      await waitFor(
        async () => {
          seen = (await Promise.all([1, 2, 3].map((i) => containers(h, i)))).flat();
          return seen.filter((c) => c.startsWith("service1 ")).length >= 2;
        },
        60_000,
        () => `containers: ${seen.join("; ")}\n${logs()}`,
      );
      for (const c of seen) assert.match(c, new RegExp(` node\\d ${run} `), c);
    });

    await t.step("a removed base-service container is started again", async () => {
      const [before] = (await containers(h, 2)).filter((c) => c.startsWith("service2 "));
      assert.ok(before);
      const id = before.split(" ").at(-1)!;
      const rm = await h.docker(2, ["rm", "-f", id]);
      assert.equal(rm.code, 0, rm.stderr);
      let now: string[] = [];
      await waitFor(
        async () => {
          now = (await containers(h, 2)).filter((c) => c.startsWith("service2 "));
          return now.some((c) => !c.endsWith(id));
        },
        60_000,
        () => `node2 runs: ${now.join("; ")}\n${logs()}`,
      );
    });

    await t.step("Ctrl-C: every agent leaves; list nodes says no agent is alive", async () => {
      for (const term of terminals.splice(0)) {
        const status = await term.interrupt();
        assert.equal(status.code, 0, term.output);
      }
      const r = await type(["manage"], { env: host, stdin: `use ${CLUSTER}\nlist nodes\n` });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^TOTAL: 0$/m);
      assert.match(r.stdout, new RegExp(`^No live agent in cluster "${CLUSTER}": start one`, "m"));
      // The agents left their containers running.
      assert.ok((await containers(h, 1)).length >= 1);
    });
  } finally {
    for (const term of terminals) await term.interrupt();
    await h.down();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `gru manage` end to end: the REPL reads piped lines (good and bad ones) against the embedded
 * store and talks real HTTP to a recording agent stand-in; then the `manage` command itself runs
 * in a child process with a piped stdin.
 */

import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { AgentClient } from "../../src/api/client.ts";
import { memoryOutput } from "../../src/cli/context.ts";
import { runRepl } from "../../src/cli/repl/repl.ts";
import { FIXTURE_TOKEN, type FixtureNode, makeFixture } from "../../src/cli/repl/_testing.ts";

interface Recorded {
  /** `n1` for the root path, `n2` for `/busy`. */
  node: string;
  auth: string | null;
  body: unknown;
}

/** An agent stand-in: `/gru/v1/...` answers like a healthy agent, `/busy/gru/v1/...` with 409. */
function startAgentServer() {
  const recorded: Recorded[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const busy = url.pathname.startsWith("/busy/");
      const path = busy ? url.pathname.slice("/busy".length) : url.pathname;
      if (req.method === "POST" && path === "/gru/v1/commands") {
        recorded.push({
          node: busy ? "n2" : "n1",
          auth: req.headers.get("authorization"),
          body: await req.json(),
        });
        if (busy) {
          return Response.json({ error: { code: "conflict", message: "Agent is busy" } }, {
            status: 409,
          });
        }
        return Response.json({ ok: true, message: "accepted" });
      }
      if (req.method === "GET" && path === "/gru/v1/services" && !busy) {
        return Response.json([{ name: "web", instances: [{ id: "abc123", status: "running" }] }]);
      }
      return Response.json({ error: { code: "not_found", message: `No route ${path}` } }, {
        status: 404,
      });
    },
  );
  return { server, recorded, base: `http://127.0.0.1:${server.addr.port}` };
}

function deadAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

function nodesFor(base: string, dead: string): FixtureNode[] {
  return [
    { name: "n1", address: base, active: true },
    { name: "n2", address: `${base}/busy` },
    { name: "n3", address: dead },
  ];
}

const SERVICES = [
  { name: "web", image: "gru-test/web:1" },
  { name: "db", image: "gru-test/db:1" },
];

Deno.test("gru manage REPL: piped lines against the embedded store and real HTTP agents", async () => {
  const agent = startAgentServer();
  const dead = deadAddress();
  const fixture = await makeFixture({ nodes: nodesFor(agent.base, dead), services: SERVICES });
  try {
    const input = new PassThrough();
    input.end(
      [
        "list nodes",
        "use c1",
        "list nodes",
        "start service nope node n1",
        "start service web node n1 n2 n3",
        "SET node n1 cpumax 0.9;",
        "set node",
        "",
        "# a comment",
        "bogus command",
        "update services",
        "undeploy",
        "exit",
        "list clusters",
      ].join("\n") + "\n",
    );
    const output = memoryOutput();
    const summary = await runRepl({
      input,
      output,
      store: fixture.store,
      agents: (token) => new AgentClient({ token, timeoutMs: 5000 }),
      terminal: false,
      // Every line runs, as in an interactive session (a script stops at its first failure).
      stopOnError: false,
    });
    assert.deepEqual(summary, { lines: 13, errors: 7 });

    const unreachable = `error: Cannot reach agent at ${dead}: `;
    const out = output.stdout;
    assert.equal(out.length, 8, out.join("\n---\n"));
    assert.equal(out[0], "Using cluster c1");
    const addresses = [agent.base, `${agent.base}/busy`, dead];
    const width = Math.max(...addresses.map((a) => a.length));
    assert.equal(
      out[1],
      [
        `NAME  ${"ADDRESS".padEnd(width)}  ACTIVE  CORES  MEMORY   BASE-SERVICES`,
        `n1    ${addresses[0]!.padEnd(width)}  yes     4      8.0 GiB  -`,
        `n2    ${addresses[1]!.padEnd(width)}  no      4      8.0 GiB  -`,
        `n3    ${addresses[2]!.padEnd(width)}  no      4      8.0 GiB  -`,
      ].join("\n"),
    );
    assert.deepEqual(out.slice(2, 4), ["TOTAL: 3", "ACTIVE: 1"]);
    const table = (text: string) => text.split("\n").map((l) => l.replace(/\s{2,}/g, " | "));
    for (const i of [4, 6, 7]) {
      const rows = table(out[i]!);
      assert.equal(rows[0], "NODE | STATUS");
      assert.equal(rows[2], "n2 | error: Agent is busy");
      assert.ok(rows[3]!.startsWith(`n3 | ${unreachable}`), rows[3]);
    }
    assert.equal(table(out[4]!)[1], "n1 | done");
    assert.deepEqual(table(out[5]!), ["NODE | STATUS", "n1 | done"]);
    assert.equal(table(out[6]!)[1], "n1 | done");
    assert.equal(table(out[7]!)[1], "n1 | done: stopped web");

    assert.deepEqual(output.stderr.map((e) => e.split("\n")[0]), [
      "Error: Cluster not set: use <cluster> first",
      'Error: Unknown service "nope" in cluster "c1"',
      "Error: 2 of 3 nodes failed: n2, n3",
      'Error: Not enough arguments to "set node". Usage:',
      'Error: Unknown command "bogus": type "help" for the list of commands',
      "Error: 2 of 3 nodes failed: n2, n3",
      "Error: 2 of 3 nodes failed: n2, n3",
    ]);

    assert.ok(agent.recorded.every((r) => r.auth === `Bearer ${FIXTURE_TOKEN}`));
    const sent = (node: string) => agent.recorded.filter((r) => r.node === node).map((r) => r.body);
    assert.deepEqual(sent("n1"), [
      { Name: "start", Target: "service", Object: "web" },
      { Name: "update", Target: "node-cpumax", Object: 0.9 },
      { Name: "update", Target: "services", Object: "c1" },
      { Name: "update", Target: "node-base-services", Object: [] },
      { Name: "stop", Target: "service", Object: { service: "web", id: "abc123" } },
    ]);
    assert.deepEqual(sent("n2"), [
      { Name: "start", Target: "service", Object: "web" },
      { Name: "update", Target: "services", Object: "c1" },
      { Name: "update", Target: "node-base-services", Object: [] },
    ]);
  } finally {
    await fixture.close();
    await agent.server.shutdown();
  }
});

Deno.test("gru manage command: piped stdin in a child process, exits 0 at EOF, stops at a failing line", async () => {
  const agent = startAgentServer();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/store.json`;
  const fixture = await makeFixture({
    nodes: nodesFor(agent.base, deadAddress()),
    services: SERVICES,
    file,
  });
  try {
    const src = (path: string) => new URL(`../../src/${path}`, import.meta.url).href;
    const script = `${dir}/manage_main.ts`;
    await Deno.writeTextFile(
      script,
      `import { manageCommand } from "${src("cli/commands/manage.ts")}";
import { ExitError } from "${src("cli/context.ts")}";
import { ClusterStore } from "${src("cluster/cluster_store.ts")}";
import { MemoryKvStore } from "${src("adapters/memory/memory_kv_store.ts")}";
const enc = new TextEncoder();
const cmd = manageCommand({
  output: {
    out: (t) => Deno.stdout.writeSync(enc.encode(t + "\\n")),
    err: (t) => Deno.stderr.writeSync(enc.encode(t + "\\n")),
  },
  openStore: async () => new ClusterStore(await MemoryKvStore.open({ file: Deno.args[0] })),
  env: (name) => Deno.env.get(name),
});
try {
  await cmd.parseAsync(Deno.args.slice(1), { from: "user" });
} catch (err) {
  // as main.ts does
  if (!(err instanceof ExitError)) throw err;
  Deno.stderr.writeSync(enc.encode("Error: " + err.message + "\\n"));
  Deno.exit(err.exitCode);
}
`,
    );
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const manage = async (input: string) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", config, script, file, "--cluster", "c1"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
        signal: AbortSignal.timeout(60_000),
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
      const { code, stdout, stderr } = await child.output();
      return {
        code,
        text: new TextDecoder().decode(stdout),
        errors: new TextDecoder().decode(stderr),
      };
    };
    const ok = await manage("list services\nstart agent n1\n");
    assert.equal(ok.code, 0, ok.errors);
    assert.equal(ok.errors, "");
    // A usage error on line 3: exit 2, the line named, line 4 never runs.
    const { code, text, errors } = await manage(
      "list services\nstart agent n1\nstart\nstart agent n1\n",
    );
    assert.equal(code, 2, errors);
    assert.equal(
      text,
      [
        "NAME  IMAGE           CPUS  MEMORY  PORTS",
        "db    gru-test/db:1   0     -       -",
        "web   gru-test/web:1  0     -       -",
        "TOTAL: 2",
        "NODE  STATUS",
        "n1    done",
        "",
      ].join("\n"),
    );
    assert.match(errors, /^Error: Missing what to start\. Usage:/m);
    assert.match(
      errors,
      /^Error: gru manage stopped at line 3 \("start"\): usage error; the lines after it were not run$/m,
    );
    assert.deepEqual(agent.recorded.map((r) => r.body), [
      { Name: "start", Target: "agent", Object: null },
      { Name: "start", Target: "agent", Object: null },
    ]);
    // A command that fails on an agent (n2 answers 409): exit 1, the line named.
    const failed = await manage("start agent n2\nlist nodes\n");
    assert.equal(failed.code, 1, failed.errors);
    assert.match(failed.text, /n2 +error: Agent is busy/);
    assert.match(failed.errors, /^Error: 1 of 1 node failed: n2$/m);
    assert.match(failed.errors, /stopped at line 1 \("start agent n2"\): the command failed/);
    assert.ok(!failed.text.includes("TOTAL"), failed.text); // line 2 never ran
  } finally {
    await fixture.close();
    await agent.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

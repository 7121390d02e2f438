import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { NotFoundError } from "../../domain/errors.ts";
import { memoryOutput } from "../context.ts";
import { loadHistory, promptFor, runRepl } from "./repl.ts";
import { fakeAgents, type Fixture, makeFixture } from "./_testing.ts";

function piped(text: string): PassThrough {
  const input = new PassThrough();
  input.end(text);
  return input;
}

async function withFixture(fn: (fixture: Fixture) => Promise<void>): Promise<void> {
  const fixture = await makeFixture({
    nodes: [{ name: "n1", address: "http://10.0.0.1:5000" }],
    services: [{ name: "web", image: "gru-test/web:1" }],
  });
  try {
    await fn(fixture);
  } finally {
    await fixture.close();
  }
}

Deno.test("promptFor() shows the cluster", () => {
  assert.equal(promptFor(undefined), "gru> ");
  assert.equal(promptFor("c1"), "gru(c1)> ");
});

Deno.test("runRepl() piped with stopOnError false: runs every line, survives errors, ends at EOF", async () => {
  await withFixture(async ({ store }) => {
    const output = memoryOutput();
    const fake = fakeAgents();
    const summary = await runRepl({
      input: piped(
        "list nodes\r\nuse c1\n\n# comment\nset node\nstart service nope node n1\n" +
          "start service web node n1;\nlist   clusters",
      ),
      output,
      store,
      agents: fake.agents,
      terminal: false,
      stopOnError: false,
    });
    assert.deepEqual(summary, { lines: 8, errors: 3 });
    assert.deepEqual(output.stdout, [
      "Using cluster c1",
      "NODE  STATUS\nn1    done",
      "NAME  UUID\nc1    uuid-c1\nc2    uuid-c2",
      "TOTAL: 2",
    ]);
    assert.equal(output.stderr.length, 3);
    assert.match(output.stderr[0]!, /^Error: Cluster not set/);
    assert.match(output.stderr[1]!, /^Error: Not enough arguments to "set node"/);
    assert.match(output.stderr[2]!, /^Error: Unknown service "nope"/);
    assert.deepEqual(fake.sent.map((s) => `${s.name} ${s.target} ${s.object}`), [
      "start service web",
    ]);
    // the store stays open for the caller
    assert.equal((await store.listClusters()).length, 2);
  });
});

Deno.test("runRepl() stops at exit and ignores the rest", async () => {
  await withFixture(async ({ store }) => {
    const output = memoryOutput();
    const summary = await runRepl({
      input: piped("use c1\nexit\nuse c2\n"),
      output,
      store,
      agents: fakeAgents().agents,
      terminal: false,
    });
    assert.deepEqual(summary, { lines: 2, errors: 0 });
    assert.deepEqual(output.stdout, ["Using cluster c1"]);
  });
});

Deno.test("runRepl() starts in the given cluster, and refuses a missing one", async () => {
  await withFixture(async ({ store }) => {
    const output = memoryOutput();
    await runRepl({
      input: piped("list services\n"),
      output,
      store,
      agents: fakeAgents().agents,
      cluster: "c1",
      terminal: false,
    });
    assert.equal(output.stdout.at(-1), "TOTAL: 1");
    await assert.rejects(
      runRepl({
        input: piped("list services\n"),
        output,
        store,
        agents: fakeAgents().agents,
        cluster: "nope",
        terminal: false,
      }),
      NotFoundError,
    );
  });
});

Deno.test("runRepl() ends on empty input", async () => {
  await withFixture(async ({ store }) => {
    const output = memoryOutput();
    const summary = await runRepl({
      input: piped(""),
      output,
      store,
      agents: fakeAgents().agents,
      terminal: false,
    });
    assert.deepEqual(summary, { lines: 0, errors: 0 });
    assert.deepEqual(output.stdout, []);
  });
});

Deno.test("runRepl() appends non-empty lines to the history file; loadHistory() reads it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withFixture(async ({ store }) => {
      const file = `${dir}/history`;
      assert.deepEqual(await loadHistory(file), []);
      await runRepl({
        input: piped("use c1\n\nlist nodes\n"),
        output: memoryOutput(),
        store,
        agents: fakeAgents().agents,
        historyFile: file,
        terminal: false,
      });
      assert.equal(await Deno.readTextFile(file), "use c1\nlist nodes\n");
      assert.deepEqual(await loadHistory(file), ["list nodes", "use c1"]);
      // an unwritable history file is ignored
      const summary = await runRepl({
        input: piped("use c1\n"),
        output: memoryOutput(),
        store,
        agents: fakeAgents().agents,
        historyFile: `${dir}/missing/dir/history`,
        terminal: false,
      });
      assert.deepEqual(summary, { lines: 1, errors: 0 });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runRepl() interactive: banner, prompt with the cluster, completion, history recall", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withFixture(async ({ store }) => {
      const file = `${dir}/history`;
      await Deno.writeTextFile(file, "list clusters\n");
      const input = new PassThrough();
      const screen = new PassThrough();
      let drawn = "";
      screen.on("data", (chunk: Uint8Array | string) => drawn += chunk.toString());
      const output = memoryOutput();
      const fake = fakeAgents();
      const done = runRepl({
        input,
        terminalOutput: screen,
        output,
        store,
        agents: fake.agents,
        historyFile: file,
        terminal: true,
      });
      const until = async (check: () => boolean) => {
        for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
        assert.ok(check(), `timed out; screen: ${JSON.stringify(drawn)}`);
      };
      await until(() => drawn.includes("gru> "));
      input.write("use c1\r");
      await until(() => drawn.includes("gru(c1)> "));
      input.write("start agent n");
      await until(() => drawn.endsWith("start agent n"));
      input.write("\t"); // completes to n1, the only node (a tab inside a burst is pasted text)
      await until(() => drawn.includes("start agent n1"));
      input.write("\r");
      await until(() => fake.sent.length === 1);
      input.write("\x1b[A"); // up arrow: the previous line
      input.write("\x1b[A");
      input.write("\x1b[A"); // the loaded history line
      input.write("\r");
      await until(() => output.stdout.includes("TOTAL: 2"));
      input.end();
      const summary = await done;
      assert.deepEqual(summary, { lines: 3, errors: 0 });
      assert.match(output.stdout[0]!, /type "help"/);
      assert.equal(output.stdout[1], "Using cluster c1");
      assert.equal(fake.sent[0]!.address, "http://10.0.0.1:5000");
      assert.equal(
        await Deno.readTextFile(file),
        "list clusters\nuse c1\nstart agent n1\nlist clusters\n",
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runRepl() interactive: Ctrl-C clears the line, and leaves on an empty line", async () => {
  await withFixture(async ({ store }) => {
    const input = new PassThrough();
    const screen = new PassThrough();
    let drawn = "";
    screen.on("data", (chunk: Uint8Array | string) => drawn += chunk.toString());
    const output = memoryOutput();
    const done = runRepl({
      input,
      terminalOutput: screen,
      output,
      store,
      agents: fakeAgents().agents,
      terminal: true,
    });
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(check(), `timed out; screen: ${JSON.stringify(drawn)}`);
    };
    await until(() => drawn.includes("gru> "));
    input.write("list nod");
    await until(() => drawn.endsWith("list nod"));
    input.write("\x03");
    input.write("use c1\r");
    await until(() => output.stdout.includes("Using cluster c1"));
    input.write("\x03");
    const summary = await done;
    assert.deepEqual(summary, { lines: 1, errors: 0 });
    assert.deepEqual(output.stderr, []);
    input.destroy();
  });
});

Deno.test("runRepl() piped: stops at the first failing line and names it", async (t) => {
  const cases: {
    name: string;
    input: string;
    summary: unknown;
    stdout: string[];
  }[] = [
    {
      name: "every line works: no failure",
      input: "use c1\nlist services\n",
      summary: { lines: 2, errors: 0 },
      stdout: ["Using cluster c1", "NAME  IMAGE           CPUS  MEMORY  PORTS", "TOTAL: 1"],
    },
    {
      name: "a failing command (unknown cluster): not a usage error",
      input: "list clusters\nuse nosuch\nuse c1\n",
      summary: { lines: 2, errors: 1, failed: { line: 2, text: "use nosuch", usage: false } },
      stdout: ["NAME  UUID\nc1    uuid-c1\nc2    uuid-c2", "TOTAL: 2"],
    },
    {
      name: "an unknown command is a usage error",
      input: "use c1\n\nfly away\nlist nodes\n",
      summary: { lines: 3, errors: 1, failed: { line: 3, text: "fly away", usage: true } },
      stdout: ["Using cluster c1"],
    },
    {
      name: "a bad value is a usage error",
      input: "use c1\nset node n1 cpumax 2\n",
      summary: {
        lines: 2,
        errors: 1,
        failed: { line: 2, text: "set node n1 cpumax 2", usage: true },
      },
      stdout: ["Using cluster c1"],
    },
    {
      name: "a node that fails a command fails the line",
      input: "use c1\nstart agent n1\nlist nodes\n",
      summary: { lines: 2, errors: 1, failed: { line: 2, text: "start agent n1", usage: false } },
      stdout: ["Using cluster c1", "NODE  STATUS\nn1    error: refused"],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await withFixture(async ({ store }) => {
        const output = memoryOutput();
        const fake = fakeAgents();
        fake.failures.set("http://10.0.0.1:5000", new Error("refused"));
        const summary = await runRepl({
          input: piped(c.input),
          output,
          store,
          agents: fake.agents,
          terminal: false,
        });
        assert.deepEqual(summary, c.summary);
        assert.deepEqual(
          output.stdout.map((l) => l.startsWith("NAME  IMAGE") ? l.split("\n")[0] : l),
          c.stdout,
        );
      });
    });
  }
});

Deno.test("runRepl() interactive: a failing line does not end the session", async () => {
  await withFixture(async ({ store }) => {
    const input = new PassThrough();
    const screen = new PassThrough();
    screen.resume();
    const output = memoryOutput();
    const done = runRepl({
      input,
      terminalOutput: screen,
      output,
      store,
      agents: fakeAgents().agents,
      terminal: true,
    });
    input.write("use nosuch\rfly\ruse c1\r");
    input.end();
    const summary = await done;
    assert.deepEqual(summary, { lines: 3, errors: 2 });
    assert.equal(output.stdout.at(-1), "Using cluster c1");
  });
});

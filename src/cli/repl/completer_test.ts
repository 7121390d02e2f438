import assert from "node:assert/strict";
import { complete, refreshNames } from "./completer.ts";
import { newSession } from "./session.ts";
import { fakeAgents, fakeDeps, makeFixture } from "./_testing.ts";

const NAMES = { clusters: ["c1", "c2"], nodes: ["n1", "n2"], services: ["db", "web"] };

const CASES: { line: string; hits: string[]; partial: string }[] = [
  {
    line: "",
    hits: [
      "deploy",
      "exit",
      "help",
      "list",
      "quit",
      "set",
      "show",
      "start",
      "stop",
      "undeploy",
      "update",
      "use",
    ],
    partial: "",
  },
  { line: "st", hits: ["start", "stop"], partial: "st" },
  { line: "U", hits: ["undeploy", "update", "use"], partial: "U" },
  { line: "use ", hits: ["c1", "c2"], partial: "" },
  { line: "use c1 ", hits: [], partial: "" },
  { line: "list n", hits: ["nodes"], partial: "n" },
  { line: "show ", hits: ["decisions", "node"], partial: "" },
  { line: "show node ", hits: ["n1", "n2", "all"], partial: "" },
  { line: "show node n1 c", hits: ["config", "constraints"], partial: "c" },
  { line: "show decisions ", hits: ["n1", "n2"], partial: "" },
  { line: "set ", hits: ["node"], partial: "" },
  { line: "set node a", hits: ["all"], partial: "a" },
  { line: "set node n1 ", hits: ["base-services", "cpumax", "cpumin"], partial: "" },
  { line: "set node n1 base-services ", hits: ["db", "web", "none"], partial: "" },
  { line: "set node n1 base-services web ", hits: ["db", "web"], partial: "" },
  { line: "set node n1 cpumin ", hits: [], partial: "" },
  { line: "start ", hits: ["agent", "service"], partial: "" },
  { line: "start agent ", hits: ["n1", "n2", "all"], partial: "" },
  { line: "stop agent n1 n", hits: ["n1", "n2"], partial: "n" },
  { line: "start service w", hits: ["web"], partial: "w" },
  { line: "start service web ", hits: ["node", "n1", "n2", "all"], partial: "" },
  { line: "start service web node ", hits: ["n1", "n2", "all"], partial: "" },
  { line: "start service web node n1 ", hits: ["n1", "n2"], partial: "" },
  {
    line: "update ",
    hits: ["all", "agent", "services", "policy", "analytics", "service-constraints"],
    partial: "",
  },
  { line: "update service-constraints ", hits: ["db", "web"], partial: "" },
  { line: "help s", hits: ["set", "show", "start", "stop"], partial: "s" },
  { line: "fly ", hits: [], partial: "" },
  { line: "  list   c", hits: ["clusters"], partial: "c" },
];

for (const c of CASES) {
  Deno.test(`complete() "${c.line}"`, () => {
    assert.deepEqual(complete(c.line, NAMES), [c.hits, c.partial]);
  });
}

Deno.test("refreshNames() loads clusters, and nodes and services of the current cluster", async () => {
  const fixture = await makeFixture({
    nodes: [{ name: "b", address: "http://10.0.0.2:5000" }, {
      name: "a",
      address: "http://10.0.0.1:5000",
    }],
    services: [{ name: "web", image: "w" }],
  });
  try {
    const { deps } = fakeDeps(fixture, fakeAgents());
    const none = newSession();
    await refreshNames(none, deps);
    assert.deepEqual(none.names, { clusters: ["c1", "c2"], nodes: [], services: [] });
    const session = newSession("c1");
    await refreshNames(session, deps);
    assert.deepEqual(session.names, {
      clusters: ["c1", "c2"],
      nodes: ["a", "b"],
      services: ["web"],
    });
  } finally {
    await fixture.close();
  }
});

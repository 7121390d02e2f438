import assert from "node:assert/strict";
import { runningServices } from "./deploy_commands.ts";

const CASES: { name: string; body: unknown; want: ReturnType<typeof runningServices> }[] = [
  { name: "empty array", body: [], want: [] },
  {
    name: "instances with ids",
    body: [{ name: "web", instances: [{ id: "a" }, { id: "b" }] }, { name: "db", instances: [] }],
    want: [{ service: "web", ids: ["a", "b"], count: 2 }],
  },
  {
    name: "keys in any case, wrapped in services",
    body: { Services: [{ Name: "web", Instances: [{ ID: "a" }] }] },
    want: [{ service: "web", ids: ["a"], count: 1 }],
  },
  {
    name: "instances without ids count only",
    body: [{ name: "web", instances: [{ status: "running" }, { id: "x" }] }],
    want: [{ service: "web", ids: [], count: 2 }],
  },
  {
    name: "instance count",
    body: [{ name: "db", instances: 3 }],
    want: [{ service: "db", ids: [], count: 3 }],
  },
  { name: "no instances field", body: [{ name: "db" }], want: [] },
  { name: "not a list", body: "hello", want: undefined },
  { name: "null", body: null, want: undefined },
  { name: "item without a name", body: [{ instances: [] }], want: undefined },
  { name: "instances of a wrong type", body: [{ name: "db", instances: "many" }], want: undefined },
];

for (const c of CASES) {
  Deno.test(`runningServices() ${c.name}`, () => {
    assert.deepEqual(runningServices(c.body), c.want);
  });
}

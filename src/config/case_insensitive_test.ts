import assert from "node:assert/strict";
import { z } from "zod";
import { canonicalize, spelledPath } from "./case_insensitive.ts";

const schema = z.object({
  daemonUrl: z.string().default(""),
  inner: z.object({ loopTimeInterval: z.number().default(1) }).prefault({}),
  env: z.record(z.string(), z.string()).default({}),
  list: z.array(z.object({ theName: z.string() })).default([]),
  piped: z.preprocess((v) => v, z.object({ deepKey: z.number() })).optional(),
});

Deno.test("canonicalize() matches keys in any case and keeps map keys verbatim", () => {
  const spellings = ["daemonUrl", "DaemonUrl", "daemonurl", "DAEMONURL"];
  for (const key of spellings) {
    const r = canonicalize({ [key]: "x" }, schema);
    assert.deepEqual(r.value, { daemonUrl: "x" }, key);
    assert.deepEqual(r.findings, [], key);
  }
  const r = canonicalize({
    INNER: { LoopTimeInterval: 3 },
    Env: { Path: "a", HOME: "b" },
    List: [{ THENAME: "n" }],
    Piped: { DEEPKEY: 1 },
  }, schema);
  assert.deepEqual(r.value, {
    inner: { loopTimeInterval: 3 },
    env: { Path: "a", HOME: "b" },
    list: [{ theName: "n" }],
    piped: { deepKey: 1 },
  });
  assert.deepEqual(spelledPath(r.spelled, ["inner", "loopTimeInterval"]), [
    "INNER",
    "LoopTimeInterval",
  ]);
  assert.deepEqual(spelledPath(r.spelled, ["list", 0, "theName"]), ["List", 0, "THENAME"]);
  assert.deepEqual(spelledPath(r.spelled, ["env", "Path"]), ["Env", "Path"]);
  assert.deepEqual(spelledPath(r.spelled, ["daemonUrl"]), ["daemonUrl"]);
});

Deno.test("canonicalize() drops null fields so they take their defaults", () => {
  const r = canonicalize({ daemonUrl: null, inner: null, list: null }, schema);
  assert.deepEqual(r.value, {});
  assert.deepEqual(schema.parse(r.value).inner, { loopTimeInterval: 1 });
});

Deno.test("canonicalize() reports unknown and duplicated keys", () => {
  const r = canonicalize({ Docker: 1, inner: { x: 1 }, DaemonUrl: "a", daemonurl: "b" }, schema, {
    ignoreRootKeys: ["docker"],
  });
  assert.deepEqual(r.value, { inner: {}, daemonUrl: "b" });
  assert.deepEqual(r.findings, [
    { kind: "unknown", parent: ["inner"], key: "x", known: ["loopTimeInterval"] },
    {
      kind: "duplicate",
      parent: [],
      key: "daemonurl",
      known: ["daemonUrl"],
      previous: "DaemonUrl",
    },
  ]);
});

Deno.test("canonicalize() leaves values of the wrong shape for the schema to reject", () => {
  assert.deepEqual(canonicalize([1, 2], schema).value, [1, 2]);
  assert.deepEqual(canonicalize({ inner: "x" }, schema).value, { inner: "x" });
});

import assert from "node:assert/strict";
import {
  type ConfigEntry,
  configFromFiles,
  type ConfigListing,
  configToFiles,
  isDocumentPath,
  staleFiles,
} from "./config_files.ts";
import { formatProblem } from "./problem.ts";

/** A directory listing of these entries (paths relative to "conf"). */
function listing(entries: Record<string, ConfigEntry>): ConfigListing {
  return { dir: "conf", kind: "directory", entries: new Map(Object.entries(entries)) };
}

const DIR: ConfigEntry = { kind: "directory" };
const file = (text: string): ConfigEntry => ({ kind: "file", text });

Deno.test("configFromFiles() names services after their file and rejects duplicates", async () => {
  const { docs, problems } = await configFromFiles(listing({
    "services": DIR,
    // Any order: the loader sorts the entries of a directory by name.
    "services/web.json": file(`{ "image": "a" }`),
    "services/other.json": file(`{ "NAME": "web", "image": "b" }`),
    "services/notes.md": { kind: "file" },
    "services/api.json": file(`{ "image": "c" }`),
  }));
  // Files load in name order: other.json claims "web" before web.json does.
  assert.deepEqual(docs.services?.map((s) => [s.name, s.image]), [["api", "c"], ["web", "b"]]);
  assert.deepEqual(problems.map(formatProblem), [
    `services/notes.md: $: warning: expected a service file named <name>.json, found "notes.md" (ignored)`,
    `services/web.json: $.name: expected a service name used by no other file, found "web" (services/other.json defines it too)`,
  ]);
});

Deno.test("configFromFiles() leaves absent parts undefined", async () => {
  const { docs, problems, sources } = await configFromFiles(listing({ "policy.json": file(`{}`) }));
  assert.deepEqual(problems, []);
  assert.deepEqual(Object.keys(docs), ["policy"]);
  assert.equal(sources.policy?.file, "policy.json");
  assert.equal(sources.config, undefined);
});

Deno.test("configFromFiles() reports a directory that is not one, or holds nothing", async () => {
  for (const kind of ["missing", "file", "other"] as const) {
    const { docs, problems } = await configFromFiles({ dir: "conf", kind, entries: new Map() });
    assert.deepEqual(docs, {});
    assert.deepEqual(problems.map(formatProblem), [
      `conf: $: expected a configuration directory, found ${
        kind === "missing" ? "nothing" : "a file"
      }`,
    ]);
  }
  const empty = await configFromFiles(listing({ "README.md": { kind: "file" } }));
  assert.deepEqual(empty.problems.map(formatProblem), [
    "conf: $: warning: expected config.json, policy.json, services/ or analytics/, found none of them (there is nothing to import)",
  ]);
});

Deno.test("configFromFiles() names the file and JSON path of every problem", async () => {
  const { docs, problems, sources } = await configFromFiles(
    listing({
      "config.json": DIR,
      "policy.json": { kind: "file", readError: "Permission denied" },
      "services": { kind: "file" },
      "analytics": DIR,
      "analytics/ratio.json": file(`{ "expr": "x / 2", "metrics": ["x"], }`),
      "analytics/broken.json": file(`{ "expr": `),
      "analytics/lost.json": { kind: "file" },
      "analytics/sub": DIR,
    }),
    { crossCheck: false },
  );
  assert.deepEqual(problems.map(formatProblem), [
    "config.json: $: expected a JSON file, found a directory",
    "policy.json: $: expected a readable file, found an unreadable file (Permission denied)",
    "services: $: expected a directory of service files, found something else",
    ...problems.filter((p) => p.file === "analytics/broken.json").map(formatProblem),
    "analytics/lost.json: $: expected a readable file, found an unreadable file (not read)",
    "analytics/sub: $: warning: expected a analytic file named <name>.json, found a directory (ignored)",
  ]);
  assert.ok(problems.some((p) => p.file === "analytics/broken.json" && p.severity === "error"));
  assert.deepEqual(docs.analytics?.map((a) => a.name), ["ratio"]);
  assert.deepEqual(docs.services, [], "services is present (an error), so its set is empty");
  assert.deepEqual([...sources.unloadedAnalytics ?? []].sort(), ["broken", "lost"]);
});

Deno.test("configFromFiles({ crossCheck: false }) skips the expression checks", async () => {
  const entries = {
    "analytics": DIR,
    "analytics/a.json": file(`{ "expr": "x / LIMIT", "metrics": ["x"] }`),
  };
  const checked = await configFromFiles(listing(entries));
  assert.deepEqual(checked.problems.map((p) => [p.file, p.path]), [["analytics/a.json", "$.expr"]]);
  assert.deepEqual((await configFromFiles(listing(entries), { crossCheck: false })).problems, []);
});

Deno.test("isDocumentPath() selects the files whose text the loader needs", () => {
  for (const path of ["config.json", "policy.json", "services/web.json", "analytics/a.json"]) {
    assert.ok(isDocumentPath(path), path);
  }
  for (const path of ["services", "services/notes.md", "services/a/b.json", "other/x.json", "x"]) {
    assert.ok(!isDocumentPath(path), path);
  }
});

Deno.test("configToFiles() gives what configFromFiles() reads back; staleFiles() the rest", async () => {
  const original = await configFromFiles(listing({
    "config.json": file(`{}`),
    "policy.json": file(`{}`),
    "services": DIR,
    "services/web.json": file(`{ "image": "a" }`),
    "services/db.json": file(`{ "image": "b" }`),
    "analytics": DIR,
  }));
  assert.deepEqual(original.problems, []);
  const write = configToFiles(original.docs);
  assert.deepEqual(write.files.map((f) => f.path), [
    "config.json",
    "policy.json",
    "services/db.json",
    "services/web.json",
  ]);
  assert.deepEqual(write.mirrored, ["services", "analytics"]);
  const web = write.files.find((f) => f.path === "services/web.json");
  assert.equal(web?.text, JSON.stringify(original.docs.services?.[1], null, 2) + "\n");
  assert.ok(web?.text.startsWith(`{\n  "name": "web",`));

  const entries: Record<string, ConfigEntry> = { "services": DIR, "analytics": DIR };
  for (const f of write.files) entries[f.path] = file(f.text);
  const back = await configFromFiles(listing(entries));
  assert.deepEqual(back.docs, original.docs);
  assert.deepEqual(back.problems, []);

  assert.deepEqual(staleFiles(write, "services", ["db.json", "old.json", "keep.txt", "web.json"]), [
    "old.json",
  ]);
  assert.deepEqual(staleFiles(write, "analytics", ["x.json"]), ["x.json"]);
  assert.deepEqual(configToFiles({}), { files: [], mirrored: [] });
});

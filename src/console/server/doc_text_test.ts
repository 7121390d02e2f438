import assert from "node:assert/strict";
import { locate, parsePath, redactDoc, restoreRedacted } from "./doc_text.ts";
import { lineDiff } from "./diff.ts";
import { parseServiceDescriptor } from "../../config/documents.ts";

const web = parseServiceDescriptor({
  name: "web",
  image: "nginx",
  configuration: { env: { DB_PASSWORD: "hunter2", MODE: "prod" } },
}, "test");

Deno.test("redactDoc: every Env value of a service is redacted, names stay", () => {
  const shown = redactDoc("service", web) as typeof web;
  assert.deepEqual(shown.configuration.env, { DB_PASSWORD: "<redacted>", MODE: "<redacted>" });
  assert.ok(!JSON.stringify(shown).includes("hunter2"));
  assert.equal(web.configuration.env!.DB_PASSWORD, "hunter2", "the input is not changed");
});

Deno.test("restoreRedacted: <redacted> keeps the stored value; a new one is taken as is", () => {
  const edited = {
    ...web,
    configuration: {
      ...web.configuration,
      env: {
        DB_PASSWORD: "<redacted>",
        MODE: "dev",
        NEW: "<redacted>",
      },
    },
  };
  const { value, missing } = restoreRedacted(edited, web);
  const env = (value as typeof web).configuration.env!;
  assert.equal(env.DB_PASSWORD, "hunter2");
  assert.equal(env.MODE, "dev");
  assert.deepEqual(missing, [["configuration", "env", "NEW"]]);
});

Deno.test("restoreRedacted: a URL with redacted user info takes the stored URL", () => {
  const stored = { url: "http://admin:pw@influx:8086" };
  assert.deepEqual(restoreRedacted({ url: "http://<redacted>@influx:8086" }, stored).value, stored);
  const moved = restoreRedacted({ url: "http://<redacted>@other:8086" }, stored);
  assert.deepEqual(moved.missing, [["url"]]);
});

Deno.test("parsePath and locate: a problem's path is found in the text", () => {
  assert.deepEqual(parsePath(`$.a.b[0]["c d"]`), ["a", "b", 0, "c d"]);
  assert.equal(parsePath("a.b"), undefined);
  const text = `{\n  "ScaleOut": {\n    "Threshold": 2\n  }\n}\n`;
  assert.deepEqual(locate(text, "$.scaleout.threshold", ""), { line: 3, column: 5 });
  assert.deepEqual(locate(text, "$.ScaleOut.Missing", ""), { line: 2, column: 3 });
  assert.deepEqual(locate("{", "$", "invalid JSON at line 1, column 2: expected …"), {
    line: 1,
    column: 2,
  });
});

Deno.test("lineDiff: kept, removed and added lines; nothing for equal texts", () => {
  assert.equal(lineDiff("a\nb\n", "a\nb\n"), "");
  assert.equal(lineDiff("a\nb\nc\n", "a\nx\nc\n"), "--- in force\n+++ edited\n a\n-b\n+x\n c");
  assert.equal(lineDiff("", "a\n"), "--- in force\n+++ edited\n-\n+a");
});

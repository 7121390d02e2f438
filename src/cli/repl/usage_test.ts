import assert from "node:assert/strict";
import { helpText, usageError, usageOf, USAGES } from "./usage.ts";
import { UsageError } from "./session.ts";
import { ValidationError } from "../../domain/errors.ts";

Deno.test("usageOf() gives every form of a command, quit as exit", () => {
  assert.deepEqual(usageOf("use"), ["use <cluster>"]);
  assert.equal(usageOf("start").length, 2);
  assert.deepEqual(usageOf("quit"), ["exit|quit"]);
  assert.deepEqual(usageOf("fly"), []);
});

Deno.test("usageError() states the problem then the usage", () => {
  const one = usageError("use", "Missing cluster name");
  assert.ok(one instanceof UsageError && one instanceof ValidationError);
  assert.equal(one.message, "Missing cluster name. Usage: use <cluster>");
  assert.equal(
    usageError("show", "Missing what to show").message,
    "Missing what to show. Usage:\n  show node <node|all> config|constraints|resources\n  show decisions [node]",
  );
});

Deno.test("helpText() aligns summaries and covers every form", () => {
  const all = helpText()!.split("\n");
  assert.equal(all.length, USAGES.length);
  const column = all[0]!.indexOf("choose the cluster");
  for (const [i, line] of all.entries()) {
    assert.ok(line.startsWith(USAGES[i]!.usage));
    assert.equal(line.indexOf(USAGES[i]!.summary), column);
  }
  assert.equal(helpText("use"), "use <cluster>  choose the cluster to manage");
  assert.equal(helpText("fly"), undefined);
});

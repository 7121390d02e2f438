import assert from "node:assert/strict";
import { tokenize } from "./tokenize.ts";

const CASES: { name: string; line: string; words: string[] }[] = [
  { name: "blank line", line: "", words: [] },
  { name: "spaces only", line: "   \t  ", words: [] },
  { name: "comment", line: "# list nodes", words: [] },
  { name: "indented comment", line: "   #list nodes", words: [] },
  { name: "trailing comment", line: "list nodes # all of them", words: ["list", "nodes"] },
  { name: "one word", line: "deploy", words: ["deploy"] },
  { name: "runs of whitespace", line: "  use \t  c1  ", words: ["use", "c1"] },
  { name: "trailing semicolon", line: "list nodes;", words: ["list", "nodes"] },
  { name: "detached semicolons", line: "list nodes ;;", words: ["list", "nodes"] },
  { name: "semicolon only", line: ";", words: [] },
  { name: "first word lower-cased", line: "LIST Nodes", words: ["list", "Nodes"] },
  {
    name: "names keep their case",
    line: "Start service Web node N1",
    words: ["start", "service", "Web", "node", "N1"],
  },
];

for (const c of CASES) {
  Deno.test(`tokenize() ${c.name}`, () => {
    assert.deepEqual(tokenize(c.line), c.words);
  });
}

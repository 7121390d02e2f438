import assert from "node:assert/strict";
import { ValidationError } from "../../domain/errors.ts";
import { parseCpuBound } from "./action_commands.ts";

Deno.test("parseCpuBound() accepts decimals in [0, 1]", () => {
  for (
    const [text, value] of [["0", 0], ["1", 1], ["0.5", 0.5], [".25", 0.25], ["1.0", 1], [
      "0.",
      0,
    ]] as const
  ) {
    assert.equal(parseCpuBound(text), value, text);
  }
});

Deno.test("parseCpuBound() rejects anything else", () => {
  for (
    const text of ["", "-0.1", "1.01", "2", "abc", "0x1", "1e-1", "NaN", "Infinity", " 0.5", "0,5"]
  ) {
    assert.throws(() => parseCpuBound(text), ValidationError, text);
  }
});

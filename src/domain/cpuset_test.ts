import assert from "node:assert/strict";
import { parseCpuset, tryParseCpuset } from "./cpuset.ts";
import { ValidationError } from "./errors.ts";

Deno.test("parseCpuset() reads lists and ranges", () => {
  assert.deepEqual(parseCpuset(""), []);
  assert.deepEqual(parseCpuset("0,2"), [0, 2]);
  assert.deepEqual(parseCpuset("0-3,6"), [0, 1, 2, 3, 6]);
  assert.deepEqual(parseCpuset("5"), [5]);
  assert.deepEqual(parseCpuset("2-2"), [2]);
});

Deno.test("parseCpuset() trims parts, skips empty ones, sorts and removes duplicates", () => {
  assert.deepEqual(parseCpuset(" 0 , 2-3 "), [0, 2, 3]);
  assert.deepEqual(parseCpuset("0,,2,"), [0, 2]);
  assert.deepEqual(parseCpuset(" "), []);
  assert.deepEqual(parseCpuset("3,1-2,2,0"), [0, 1, 2, 3]);
});

Deno.test("parseCpuset() throws a ValidationError naming the cpuset and the bad part", () => {
  assert.throws(() => parseCpuset("3-1"), (err: Error) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.message, `Invalid cpuset "3-1": range "3-1" descends`);
    return true;
  });
  assert.throws(() => parseCpuset("a"), (err: Error) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.message, `Invalid cpuset "a": "a" is not a core or range`);
    return true;
  });
  for (const bad of ["0 - 3", "-1", "1-", "0x1", "1.5", "0;1"]) {
    assert.throws(() => parseCpuset(bad), ValidationError, bad);
  }
});

Deno.test("tryParseCpuset() gives undefined where parseCpuset() throws", () => {
  assert.deepEqual(tryParseCpuset(""), []);
  assert.deepEqual(tryParseCpuset("0-1,3"), [0, 1, 3]);
  for (const bad of ["3-1", "a", "0 - 3", "-1", "1-"]) assert.equal(tryParseCpuset(bad), undefined);
});

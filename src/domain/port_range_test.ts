import assert from "node:assert/strict";
import { expandPortRange, parseGuestPort, parsePortRange } from "./port_range.ts";

Deno.test("parsePortRange() reads a port or an ascending range", () => {
  const cases = [
    { text: "80", first: 80, last: 80 },
    { text: "1", first: 1, last: 1 },
    { text: "65535", first: 65535, last: 65535 },
    { text: "50000-50004", first: 50000, last: 50004 },
    { text: "8080-8080", first: 8080, last: 8080 },
  ];
  for (const c of cases) {
    assert.deepEqual(parsePortRange(c.text), { first: c.first, last: c.last }, c.text);
  }
});

Deno.test("parsePortRange() rejects malformed, out-of-range and descending ranges", () => {
  const cases = [
    { text: "", reason: /expected "<port>"/ },
    { text: "http", reason: /expected "<port>"/ },
    { text: "80-", reason: /expected "<port>"/ },
    { text: "-80", reason: /expected "<port>"/ },
    { text: "80 - 90", reason: /expected "<port>"/ },
    { text: "8.5", reason: /expected "<port>"/ },
    { text: "0", reason: /1\.\.65535/ },
    { text: "0-10", reason: /1\.\.65535/ },
    { text: "65536", reason: /1\.\.65535/ },
    { text: "8080-8000", reason: /descending/ },
  ];
  for (const c of cases) assert.throws(() => parsePortRange(c.text), c.reason, c.text);
});

Deno.test("expandPortRange() lists every port ascending", () => {
  assert.deepEqual(expandPortRange("50000-50004"), [50000, 50001, 50002, 50003, 50004]);
  assert.deepEqual(expandPortRange("80"), [80]);
  assert.throws(() => expandPortRange("5-1"), RangeError);
});

Deno.test("parseGuestPort() reads a port with an optional protocol", () => {
  assert.deepEqual(parseGuestPort("80"), { port: 80, protocol: "tcp" });
  assert.deepEqual(parseGuestPort("80/tcp"), { port: 80, protocol: "tcp" });
  assert.deepEqual(parseGuestPort("53/udp"), { port: 53, protocol: "udp" });
  for (const key of ["", "http", "80/sctp", "0", "70000", "80/", "/tcp", "80-90"]) {
    assert.throws(() => parseGuestPort(key), RangeError, key);
  }
});

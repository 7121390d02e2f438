import assert from "node:assert/strict";
import { ValidationError } from "../../domain/errors.ts";
import { GOSSIP_LIMITS, type GossipMessage, type NodeShare, parseGossipMessage } from "./types.ts";

function entry(origin = "a"): NodeShare {
  return {
    origin,
    version: 3,
    time: 1_700_000_000_000,
    active: true,
    services: {
      web: {
        running: 2,
        pending: 1,
        cpu_avg: 0.5,
        memory_avg: 0.25,
        analytics: { load: 0.7 },
        cpuNumber: 1,
      },
      "my-db": { running: 0, pending: 0, analytics: {}, cpuNumber: 2 },
    },
    resources: { totalCpus: 8, freeCpus: 5, totalMemory: 1024, freeMemory: 512 },
    actions: [{ service: "web", action: "start", time: 1_699_999_999_000, reason: "scaleout" }],
  };
}

function message(): GossipMessage {
  return { cluster: "c1", from: "a", entries: [entry("a"), entry("b")] };
}

/** A valid message changed by `edit` (on a JSON copy, as a body would arrive). */
// deno-lint-ignore no-explicit-any -- the edits deliberately break the types
function edited(edit: (m: Record<string, any>) => void): unknown {
  const m = JSON.parse(JSON.stringify(message()));
  edit(m);
  return m;
}

Deno.test("parseGossipMessage accepts valid messages unchanged", () => {
  const cases: [string, unknown][] = [
    ["full", message()],
    ["no entries", { cluster: "c1", from: "a", entries: [] }],
    ["with digest", { ...message(), digest: { a: 3, b: 0 } }],
    ["unknown values absent", edited((m) => delete m.entries[0].services.web.cpu_avg)],
    ["255-char reason", edited((m) => m.entries[0].actions[0].reason = "r".repeat(255))],
    ["empty reason", edited((m) => m.entries[0].actions[0].reason = "")],
  ];
  for (const [name, input] of cases) {
    const parsed = parseGossipMessage(input);
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(input)), name);
  }
});

Deno.test("parseGossipMessage rejects bad messages, naming the JSON path", () => {
  const long = "x".repeat(GOSSIP_LIMITS.maxString + 1);
  const cases: [string, unknown, string][] = [
    ["not an object", "hello", "$"],
    ["null", null, "$"],
    ["missing cluster", edited((m) => delete m.cluster), "$.cluster"],
    ["cluster too long", edited((m) => m.cluster = long), "$.cluster"],
    ["empty from", edited((m) => m.from = ""), "$.from"],
    ["unknown top-level field", edited((m) => m.extra = 1), "$.extra"],
    ["entries not an array", edited((m) => m.entries = {}), "$.entries"],
    ["entry not an object", edited((m) => m.entries[1] = 7), "$.entries[1]"],
    ["negative version", edited((m) => m.entries[0].version = -1), "$.entries[0].version"],
    ["fractional version", edited((m) => m.entries[1].version = 1.5), "$.entries[1].version"],
    ["string time", edited((m) => m.entries[0].time = "now"), "$.entries[0].time"],
    ["infinite time", edited((m) => m.entries[0].time = Infinity), "$.entries[0].time"],
    ["active not boolean", edited((m) => m.entries[0].active = "yes"), "$.entries[0].active"],
    ["origin too long", edited((m) => m.entries[0].origin = long), "$.entries[0].origin"],
    ["unknown entry field", edited((m) => m.entries[0].extra = 1), "$.entries[0].extra"],
    [
      "running as a string",
      edited((m) => m.entries[0].services.web.running = "2"),
      "$.entries[0].services.web.running",
    ],
    [
      "null cpu_avg (absent is the unknown)",
      edited((m) => m.entries[0].services.web.cpu_avg = null),
      "$.entries[0].services.web.cpu_avg",
    ],
    [
      "analytic not a number",
      edited((m) => m.entries[0].services["my-db"].analytics.load = "high"),
      '$.entries[0].services["my-db"].analytics.load',
    ],
    [
      "service name too long",
      edited((m) => m.entries[0].services[long] = m.entries[0].services.web),
      `$.entries[0].services["${"x".repeat(64)}…"]`,
    ],
    [
      "__proto__ as a service name",
      JSON.parse(
        JSON.stringify(message()).replace('"my-db":', '"__proto__":'),
      ),
      "$.entries[0].services.__proto__",
    ],
    [
      "missing freeCpus",
      edited((m) => delete m.entries[0].resources.freeCpus),
      "$.entries[0].resources.freeCpus",
    ],
    [
      "unknown action",
      edited((m) => m.entries[0].actions[0].action = "restart"),
      "$.entries[0].actions[0].action",
    ],
    [
      "reason too long",
      edited((m) => m.entries[0].actions[0].reason = long),
      "$.entries[0].actions[0].reason",
    ],
    ["negative digest version", edited((m) => m.digest = { a: -1 }), "$.digest.a"],
    ["digest not an object", edited((m) => m.digest = [1]), "$.digest"],
    [
      "too many entries",
      { cluster: "c1", from: "a", entries: new Array(GOSSIP_LIMITS.maxEntries + 1).fill(entry()) },
      "$.entries",
    ],
    [
      "too many services",
      edited((m) => {
        for (let i = 0; i <= GOSSIP_LIMITS.maxServices; i++) {
          m.entries[0].services[`s${i}`] = m.entries[0].services.web;
        }
      }),
      "$.entries[0].services",
    ],
    [
      "too many actions",
      edited((m) => {
        m.entries[0].actions = new Array(GOSSIP_LIMITS.maxActions + 1).fill(
          m.entries[0].actions[0],
        );
      }),
      "$.entries[0].actions",
    ],
  ];
  for (const [name, input, path] of cases) {
    assert.throws(
      () => parseGossipMessage(input),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError, name);
        assert.equal(err.code, "validation", name);
        const details = err.details as { path: string; message: string }[];
        assert.ok(
          details.some((p) => p.path === path),
          `${name}: expected a problem at ${path}, got ${JSON.stringify(details)}`,
        );
        assert.match(err.message, /^Invalid gossip message at \$/, name);
        return true;
      },
      name,
    );
  }
});

Deno.test("parseGossipMessage names the first problem in the message", () => {
  const input = edited((m) => m.entries[0].version = -1);
  assert.throws(
    () => parseGossipMessage(input),
    { message: "Invalid gossip message at $.entries[0].version: expected a whole number >= 0" },
  );
});

Deno.test("parseGossipMessage: a service's source readings (value absent when it failed)", () => {
  const share = entry();
  share.services.web!.sources = {
    rps: { value: 12.5, age: 300 },
    p95: { age: 1200, error: "timeout: no answer within 2000 ms" },
  };
  const message: GossipMessage = { cluster: "c", from: "a", entries: [share] };
  assert.deepEqual(parseGossipMessage(structuredClone(message)), message);
  const bad = structuredClone(message) as unknown as {
    entries: { services: { web: { sources: Record<string, unknown> } } }[];
  };
  bad.entries[0]!.services.web.sources = { rps: { value: 1, age: -5 } };
  assert.throws(
    () => parseGossipMessage(bad),
    (e: unknown) =>
      e instanceof ValidationError &&
      e.message.includes("$.entries[0].services.web.sources.rps.age"),
  );
  bad.entries[0]!.services.web.sources = { rps: { value: 0, age: 0, extra: 1 } };
  assert.throws(() => parseGossipMessage(bad), /sources\.rps\.extra: unknown field/);
});

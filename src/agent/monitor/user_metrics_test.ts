import assert from "node:assert/strict";
import { FakeClock } from "../../domain/clock.ts";
import { ValidationError } from "../../domain/errors.ts";
import { UserMetrics, type UserMetricsOptions } from "./user_metrics.ts";

/** The error `f` throws (failing when it throws none). */
function thrown(f: () => void): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

/** The user metrics of services `web` and `db`, over windows of 10 s on a fake clock. */
function store(options: Partial<UserMetricsOptions> = {}) {
  const clock = new FakeClock(1_000_000);
  const services = new Set(["web", "db"]);
  const m = new UserMetrics({ settings: () => ({ windowMs: 10_000, services }), ...options });
  return {
    clock,
    services,
    push: (service: string, metric: string, values: number[]) =>
      m.push(service, metric, values, clock.now()),
    means: () => m.means(clock.now()),
    stats: () => m.stats(),
  };
}

Deno.test("UserMetrics.push() refuses bad names with a short escaped excerpt, storing nothing", () => {
  const { push, means, stats } = store();
  const bad = [
    "x".repeat(5000),
    "m".repeat(65),
    "",
    "5xx",
    ".hidden",
    "a b",
    "a,b=c",
    "trailing\\",
    "line\nbreak",
    "esc\u001b[2J",
    "nul\u0000",
    "ünïcode",
  ];
  for (const name of bad) {
    const err = thrown(() => push("web", name, [1]));
    assert.ok(err instanceof ValidationError);
    const message = err.message;
    assert.match(message, /^Invalid metric name "/, name.slice(0, 20));
    assert.ok(message.length < 200, `short: ${message}`);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(message, /[\u0000-\u001f\u007f]/, "no raw control character");
  }
  const long = thrown(() => push("web", "x".repeat(5000), [1]));
  assert.ok(!long.message.includes("x".repeat(81)), "quotes at most 80 characters");
  assert.deepEqual(means(), {});
  assert.deepEqual(stats(), {
    metrics: 0,
    refusedNames: bad.length + 1,
    refusedOverLimit: 0,
    pruned: 0,
  });
});

Deno.test("UserMetrics.push() accepts a 64-character name", () => {
  const { push, stats } = store();
  push("web", "_" + "a".repeat(63), [1]);
  assert.equal(stats().metrics, 1);
});

Deno.test("UserMetrics.push() refuses an unknown service and bad values, storing nothing", () => {
  const { push, means } = store();
  assert.throws(
    () => push("nope\n", "rt", [1]),
    /Unknown service "nope\\n" for metric "rt"/,
  );
  for (const v of [NaN, Infinity, -1, "1" as unknown as number]) {
    assert.throws(() => push("web", "rt", [1, v]), ValidationError);
  }
  assert.deepEqual(means(), {});
});

Deno.test("UserMetrics.push() bounds the distinct metrics of a service and counts refusals", () => {
  const { push, means, stats } = store({ maxMetricsPerService: 3 });
  for (const name of ["a", "b", "c"]) push("web", name, [1]);
  assert.throws(() => push("web", "d", [1]), /has 3 user metrics already.*"d"/);
  assert.throws(() => push("web", "e", [1]), ValidationError);
  // known metrics still take values; other services have their own bound
  push("web", "a", [3]);
  push("db", "d", [1]);
  assert.deepEqual(Object.keys(means()["web"] ?? {}).sort(), ["a", "b", "c"]);
  assert.deepEqual(stats(), { metrics: 4, refusedNames: 0, refusedOverLimit: 2, pruned: 0 });
});

Deno.test("UserMetrics prunes stale metrics, making room for new ones", () => {
  const { clock, push, means, stats } = store({ maxMetricsPerService: 2, staleWindows: 3 });
  push("web", "a", [1]);
  push("web", "b", [1]);
  clock.advance(20_000);
  push("web", "b", [2]); // b stays fresh
  clock.advance(15_000); // a: 35 s without a value > 3 windows of 10 s
  push("web", "c", [5]);
  assert.deepEqual(means(), { web: { b: undefined, c: 5 } });
  clock.advance(25_000);
  assert.deepEqual(means(), { web: { c: undefined } });
  clock.advance(10_000);
  assert.deepEqual(means(), {});
  assert.deepEqual(stats(), { metrics: 0, refusedNames: 0, refusedOverLimit: 0, pruned: 3 });
});

Deno.test("UserMetrics drops the metrics of a service that is no longer known", () => {
  const { services, push, means, stats } = store();
  push("db", "a", [1]);
  services.delete("db");
  assert.deepEqual(means(), {});
  assert.equal(stats().pruned, 1);
});

Deno.test("UserMetrics keeps memory bounded under a flood of distinct names", () => {
  const { push, stats } = store();
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    try {
      push("web", `flood_${i}`, [i]);
    } catch {
      refused++;
    }
  }
  assert.equal(stats().metrics, 64);
  assert.equal(refused, 5000 - 64);
  assert.equal(stats().refusedOverLimit, 5000 - 64);
});

/** Schedules (schedules.ts) across a window's boundaries and a daylight-saving change. */

import assert from "node:assert/strict";
import { parseServiceDescriptor } from "../../config/documents.ts";
import { FakeClock } from "../../domain/clock.ts";
import type { ServiceSchedule } from "../../domain/model.ts";
import { applySchedules, scheduleInForce } from "./schedules.ts";

const OFFICE: ServiceSchedule = {
  name: "office-hours",
  start: "0 8 * * 1-5",
  end: "0 18 * * 1-5",
  timeZone: "Europe/Berlin",
  minInstances: 3,
};

function web(schedules: unknown[], bounds: { min?: number; max?: number } = {}) {
  return parseServiceDescriptor({
    Name: "web",
    Image: "img",
    MinInstances: bounds.min ?? 1,
    MaxInstances: bounds.max ?? 0,
    Scaling: { Schedules: schedules },
  }, "web.json");
}

Deno.test("scheduleInForce(): in force from Start to End, local time, on the fake clock", () => {
  // Monday 2026-03-23, Berlin is UTC+1: the window is 07:00–17:00 UTC.
  const clock = new FakeClock(Date.parse("2026-03-23T06:59:59Z"));
  assert.equal(scheduleInForce([OFFICE], clock.now()), undefined);
  clock.advance(1000);
  const open = scheduleInForce([OFFICE], clock.now());
  assert.deepEqual(open?.names, ["office-hours"]);
  assert.equal(open?.minInstances, 3);
  assert.equal(open?.until, Date.parse("2026-03-23T17:00:00Z"));
  clock.advance(10 * 3600_000 - 1000);
  assert.ok(scheduleInForce([OFFICE], clock.now()), "17:59:59 local");
  clock.advance(1000);
  assert.equal(scheduleInForce([OFFICE], clock.now()), undefined, "18:00 local");
  clock.advance(5 * 24 * 3600_000);
  assert.equal(scheduleInForce([OFFICE], clock.now()), undefined, "Saturday");
});

Deno.test("scheduleInForce(): the window keeps its local hours across the DST change", () => {
  // Berlin moves to UTC+2 on Sunday 2026-03-29: Monday 30th's window is 06:00–16:00 UTC.
  const daily: ServiceSchedule = { ...OFFICE, start: "0 8 * * *", end: "0 18 * * *" };
  const at = (iso: string) => scheduleInForce([daily], Date.parse(iso));
  assert.ok(at("2026-03-28T07:00:00Z"), "Saturday 08:00 CET");
  assert.equal(at("2026-03-28T06:30:00Z"), undefined, "Saturday 07:30 CET");
  assert.ok(at("2026-03-29T06:00:00Z"), "Sunday 08:00 CEST, the day of the change");
  assert.equal(at("2026-03-29T05:59:59Z"), undefined, "Sunday 07:59:59 CEST");
  assert.equal(at("2026-03-29T16:00:00Z"), undefined, "Sunday 18:00 CEST");
  assert.ok(at("2026-03-29T15:59:59Z"));
  // Back to UTC+1 on Sunday 2026-10-25: a 10-hour Duration from 08:00 ends at 18:00 local.
  const fall: ServiceSchedule = {
    ...OFFICE,
    start: "0 0 * * *",
    end: undefined,
    duration: 10 * 3600,
  };
  // Midnight CEST is 22:00 UTC the day before; that night has 25 hours, so the window
  // (10 h of elapsed time) ends at 09:00 local, 08:00 UTC.
  assert.ok(scheduleInForce([fall], Date.parse("2026-10-25T07:59:59Z")));
  assert.equal(scheduleInForce([fall], Date.parse("2026-10-25T08:00:00Z")), undefined);
});

Deno.test("scheduleInForce(): several in force combine to the highest floor and lowest ceiling", () => {
  const night: ServiceSchedule = {
    name: "night",
    start: "0 0 * * *",
    duration: 24 * 3600,
    timeZone: "UTC",
    minInstances: 1,
    maxInstances: 5,
  };
  const s = scheduleInForce([OFFICE, night], Date.parse("2026-03-23T10:00:00Z"));
  assert.deepEqual(s?.names, ["office-hours", "night"]);
  assert.equal(s?.minInstances, 3);
  assert.equal(s?.maxInstances, 5);
});

Deno.test("applySchedules(): narrows the bounds, never a floor above the document's ceiling", () => {
  const inOffice = Date.parse("2026-03-23T10:00:00Z");
  const plain = web([]);
  const scheduled = web([{
    Name: "office",
    Start: "0 8 * * 1-5",
    End: "0 18 * * 1-5",
    TimeZone: "Europe/Berlin",
    MinInstances: 3,
  }]);
  const capped = web([{
    Name: "big",
    Start: "0 8 * * 1-5",
    Duration: 3600 * 10,
    TimeZone: "Europe/Berlin",
    MinInstances: 9,
  }], { max: 4 });
  const out = applySchedules(
    new Map([["a", plain], ["b", scheduled], ["c", { ...capped, name: "c" }]]),
    inOffice,
  );
  assert.equal(out.services.get("a"), plain, "unchanged without a schedule");
  assert.equal(out.services.get("b")?.minInstances, 3);
  assert.equal(out.inForce.b?.names[0], "office");
  assert.equal(out.services.get("c")?.minInstances, 4);
  assert.equal(out.services.get("c")?.maxInstances, 4);
  const evening = applySchedules(new Map([["b", scheduled]]), Date.parse("2026-03-23T18:00:00Z"));
  assert.equal(evening.services.get("b")?.minInstances, 1);
  assert.deepEqual(evening.inForce, {});
});

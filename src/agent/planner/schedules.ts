/**
 * Schedules: cron-style floors and ceilings per service (`Scaling.Schedules` of a descriptor),
 * e.g. at least 3 instances on weekdays from 08:00 to 18:00 in `Europe/Berlin`. Pure: the time
 * comes in (wall-clock ms since the epoch: schedules are about the calendar); croner computes
 * the occurrences in the schedule's time zone, so a window keeps its local hours across a
 * daylight-saving change.
 *
 * A schedule is in force from its latest `Start` occurrence (at or before now) until the first
 * `End` occurrence after that start, or for `Duration` seconds. Several in force combine: the
 * highest floor and the lowest ceiling. The bounds in force narrow the descriptor's: floor =
 * max(`MinInstances`, schedule floors), ceiling = min(`MaxInstances`, schedule ceilings), a
 * floor never above the ceiling; everything that reads the bounds (policies, target tracking,
 * coordination, the bounds reconciliation) then follows them.
 *
 * @module
 */

import { Cron } from "croner";
import type { ServiceDescriptor, ServiceSchedule } from "../../domain/model.ts";

/** The schedules in force for a service, combined. */
export interface ScheduleInForce {
  /** Names of the schedules in force, in document order. */
  names: string[];
  /** The combined floor (undefined: none). */
  minInstances?: number;
  /** The combined ceiling (undefined: none). */
  maxInstances?: number;
  /** When the earliest of them ends, ms since the epoch. */
  until: number;
}

/** When `schedule`'s window around `now` started and ends, if it is in force. */
export function scheduleWindow(
  schedule: ServiceSchedule,
  now: number,
): { since: number; until: number } | undefined {
  const options = { timezone: schedule.timeZone, paused: true };
  // From the next second back: an occurrence at exactly `now` counts (croner drops ms).
  const start = new Cron(schedule.start, options).previousRuns(2, new Date(now + 1000))
    .find((d) => d.getTime() <= now);
  if (!start) return undefined;
  const since = start.getTime();
  let until: number;
  if (schedule.end !== undefined) {
    const end = new Cron(schedule.end, options).nextRun(new Date(since));
    until = end ? end.getTime() : Infinity;
  } else {
    until = since + (schedule.duration ?? 0) * 1000;
  }
  return since <= now && now < until ? { since, until } : undefined;
}

/**
 * The schedules of `schedules` in force at `now`, combined.
 *
 * @returns Undefined when none is.
 */
export function scheduleInForce(
  schedules: readonly ServiceSchedule[],
  now: number,
): ScheduleInForce | undefined {
  let out: ScheduleInForce | undefined;
  for (const s of schedules) {
    const w = scheduleWindow(s, now);
    if (!w) continue;
    out ??= { names: [], until: w.until };
    out.names.push(s.name);
    out.until = Math.min(out.until, w.until);
    if (s.minInstances !== undefined) {
      out.minInstances = Math.max(out.minInstances ?? 0, s.minInstances);
    }
    if (s.maxInstances !== undefined && s.maxInstances > 0) {
      out.maxInstances = Math.min(out.maxInstances ?? Infinity, s.maxInstances);
    }
  }
  return out;
}

/** The descriptors with the bounds in force, and which schedules are in force. */
export interface ScheduledServices {
  services: Map<string, ServiceDescriptor>;
  /** Services with a schedule in force, with the bounds that result. */
  inForce: Record<string, ScheduleInForce & { min: number; max: number }>;
}

/**
 * Narrows every descriptor's `MinInstances`/`MaxInstances` by its schedules in force at `now`.
 * A descriptor without a schedule in force is passed through as it is.
 */
export function applySchedules(
  services: ReadonlyMap<string, ServiceDescriptor>,
  now: number,
): ScheduledServices {
  const out = new Map<string, ServiceDescriptor>();
  const inForce: ScheduledServices["inForce"] = {};
  for (const [name, svc] of services) {
    const sch = svc.scaling?.schedules.length
      ? scheduleInForce(svc.scaling.schedules, now)
      : undefined;
    if (!sch) {
      out.set(name, svc);
      continue;
    }
    const docMax = svc.maxInstances > 0 ? svc.maxInstances : Infinity;
    const max = Math.min(docMax, sch.maxInstances ?? Infinity);
    const min = Math.min(Math.max(svc.minInstances, sch.minInstances ?? 0), max);
    const maxInstances = max === Infinity ? 0 : max;
    out.set(name, { ...svc, minInstances: min, maxInstances });
    inForce[name] = { ...sch, min, max: maxInstances };
  }
  return { services: out, inForce };
}

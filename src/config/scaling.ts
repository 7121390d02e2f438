/**
 * Schemas of a service's `Scaling` block (target tracking, one anti-flapping block per
 * direction, cron schedules of instance bounds) and of the agent's `FastPath` and
 * `ShadowStrategies` settings. Every message is the `expected` part of a problem;
 * `documents.ts` adds the file, the JSON path and what was found.
 *
 * @module
 */

import { Cron } from "croner";
import { z } from "zod";
import { type MaxStep, STRATEGY_NAMES } from "../domain/model.ts";

const EXPECTS = {
  object: "an object",
  metric: "a base metric or analytic name (not empty)",
  targetValue: "a number greater than 0",
  tolerance: "a number from 0 to 1",
  seconds: "a number of seconds >= 0",
  positiveSeconds: "a number of seconds greater than 0",
  maxStep: `a whole number of instances >= 1 or a percent such as "50%" (1 to 1000)`,
  scheduleName: `a name of 1 to 63 letters, digits, ".", "_" or "-"`,
  cron: `a 5-field cron expression such as "0 8 * * 1-5"`,
  timeZone: `an IANA time zone such as "Europe/Berlin" or "UTC"`,
  whole: "a whole number >= 0",
  list: "a list",
  strategies: `a list of strategy names (${STRATEGY_NAMES.join(", ")})`,
  boolean: "true or false",
  margin: "a number >= 0",
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/**
 * Whether `pattern` is a 5-field cron expression croner accepts.
 *
 * @param pattern The expression.
 * @returns True when valid.
 */
export function isCron(pattern: string): boolean {
  if (pattern.trim().split(/\s+/).length !== 5) return false;
  try {
    new Cron(pattern, { paused: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `zone` is a time zone this runtime knows.
 *
 * @param zone An IANA name.
 * @returns True when known.
 */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone.trim() !== "";
  } catch {
    return false;
  }
}

/**
 * Parses a `MaxStep`: a whole number of instances, or a percent string.
 *
 * @param input The document's value.
 * @returns The step, or undefined when invalid.
 */
export function parseMaxStep(input: unknown): MaxStep | undefined {
  // The parsed form (`{"count": 4}`, `{"percent": 50}`) as stored by an import parses again.
  if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    const entries = Object.entries(input).map(([k, v]) => [k.toLowerCase(), v] as const);
    if (entries.length !== 1) return undefined;
    const [key, value] = entries[0]!;
    if (key === "count") return typeof value === "number" ? parseMaxStep(value) : undefined;
    if (key === "percent" && typeof value === "number") return parseMaxStep(`${value}%`);
    return undefined;
  }
  if (typeof input === "number") {
    return Number.isInteger(input) && input >= 1 ? { count: input } : undefined;
  }
  if (typeof input !== "string") return undefined;
  const m = PERCENT.exec(input);
  if (!m) return undefined;
  const percent = Number(m[1]);
  return percent >= 1 && percent <= 1000 ? { percent } : undefined;
}

const seconds = (expected: string = EXPECTS.seconds) =>
  z.number({ error: expected }).min(0, { error: expected });

const maxStep = z.unknown().transform((input, ctx): MaxStep => {
  const step = parseMaxStep(input);
  if (step) return step;
  ctx.issues.push({ code: "custom", message: EXPECTS.maxStep, input });
  return z.NEVER;
});

/** One direction's anti-flapping block (`ScaleOut` or `ScaleIn`). */
export const scalingDirectionSchema = z.object({
  tolerance: z.number({ error: EXPECTS.tolerance }).min(0, { error: EXPECTS.tolerance })
    .max(1, { error: EXPECTS.tolerance }).optional(),
  stabilizationWindow: seconds().optional(),
  cooldown: seconds().optional(),
  maxStep: maxStep.optional(),
}, { error: EXPECTS.object });

const cron = z.string({ error: EXPECTS.cron }).refine(isCron, { error: EXPECTS.cron });
const whole = z.number({ error: EXPECTS.whole }).int({ error: EXPECTS.whole })
  .min(0, { error: EXPECTS.whole });

/** One schedule of instance bounds. */
export const scheduleSchema = z.object({
  name: z.string({ error: EXPECTS.scheduleName }).regex(NAME, { error: EXPECTS.scheduleName }),
  start: cron,
  end: cron.optional(),
  duration: z.number({ error: EXPECTS.positiveSeconds })
    .gt(0, { error: EXPECTS.positiveSeconds }).optional(),
  timeZone: z.string({ error: EXPECTS.timeZone }).refine(isTimeZone, {
    error: EXPECTS.timeZone,
  }).default("UTC"),
  minInstances: whole.optional(),
  maxInstances: whole.optional(),
}, { error: EXPECTS.object }).superRefine((s, ctx) => {
  if ((s.end === undefined) === (s.duration === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: "a schedule with exactly one of End (a cron expression) or Duration (seconds)",
      input: s.end === undefined ? "neither" : "both",
    });
  }
  if (s.minInstances === undefined && s.maxInstances === undefined) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: "a schedule with MinInstances, MaxInstances or both",
      input: "neither",
    });
  }
  const max = s.maxInstances ?? 0;
  if (max > 0 && (s.minInstances ?? 0) > max) {
    ctx.addIssue({
      code: "custom",
      path: ["maxInstances"],
      message: `0 (no ceiling) or at least MinInstances (${s.minInstances})`,
      input: s.maxInstances,
    });
  }
});

/** A service's `Scaling` block. */
export const serviceScalingSchema = z.object({
  target: z.object({
    metric: z.string({ error: EXPECTS.metric }).min(1, { error: EXPECTS.metric }),
    value: z.number({ error: EXPECTS.targetValue }).gt(0, { error: EXPECTS.targetValue }),
  }, { error: EXPECTS.object }).optional(),
  scaleOut: scalingDirectionSchema.optional(),
  scaleIn: scalingDirectionSchema.optional(),
  schedules: z.array(scheduleSchema, { error: EXPECTS.list }).default([]).superRefine(
    (list, ctx) => {
      const seen = new Set<string>();
      list.forEach((s, i) => {
        if (seen.has(s.name)) {
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: "a schedule name not used earlier in the list",
            input: s.name,
          });
        }
        seen.add(s.name);
      });
    },
  ),
}, { error: EXPECTS.object }).optional();

/** The agent's `FastPath` settings. */
export const fastPathSchema = z.object({
  enable: z.boolean({ error: EXPECTS.boolean }).default(false),
  margin: z.number({ error: EXPECTS.margin }).min(0, { error: EXPECTS.margin }).default(0.1),
  window: z.number({ error: EXPECTS.positiveSeconds })
    .gt(0, { error: EXPECTS.positiveSeconds }).default(1),
  checkInterval: z.number({ error: EXPECTS.positiveSeconds })
    .gt(0, { error: EXPECTS.positiveSeconds }).default(0.25),
  calm: z.number({ error: EXPECTS.seconds }).min(0, { error: EXPECTS.seconds })
    .default(20),
}, { error: EXPECTS.object }).optional();

/** The agent's `ShadowStrategies`. */
export const shadowStrategiesSchema = z.array(
  z.enum(STRATEGY_NAMES, { error: EXPECTS.strategies }),
  { error: EXPECTS.strategies },
).optional();

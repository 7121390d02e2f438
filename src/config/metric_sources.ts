/**
 * Schemas of a service's metric sources (`MetricSources`) and of its rule while a source fails
 * (`OnSourceFailure`). A metric source is an instant PromQL query against a Prometheus-compatible
 * server; its value becomes a user metric of the service, usable in analytics like a metric
 * pushed by the service itself.
 *
 * Secrets (`BasicAuth.Password`, header values) are never quoted in a problem: a bad one is shown
 * as `"<hidden>"`.
 *
 * @module
 */

import { z } from "zod";
import type { MetricSource, SourceFailureRule } from "../domain/model.ts";

/** A metric source's name: a name mathjs analytics can read as a variable. */
export const SOURCE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Placeholders a query may use, and the scope they need. */
export const QUERY_PLACEHOLDERS = ["service", "node", "instance"] as const;

/** Most seconds a source's `Timeout` may be. */
export const MAX_SOURCE_TIMEOUT_SECONDS = 60;

const EXPECTS = {
  sourceName: "a metric name of 1 to 64 letters, digits or _, not starting with a digit",
  url: `an http:// or https:// URL without user info or query, such as "http://prometheus:9090"`,
  query: "a PromQL query (not empty)",
  scope: `"cluster" or "node"`,
  header: "a header name of letters, digits and -",
  secret: "a string",
  timeout: `a number of seconds greater than 0 and at most ${MAX_SOURCE_TIMEOUT_SECONDS}`,
  seconds: "a number of seconds greater than 0",
  rule: `"hold", "scale-out-only" or a whole number of instances >= 1`,
  ca: "the path of a PEM CA file",
  object: "an object",
  string: "a string",
} as const;

const HIDDEN = "<hidden>";
const HEADER_NAME = /^[A-Za-z0-9-]{1,128}$/;
const PLACEHOLDER = /\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** A string whose value is never quoted in a problem. */
function secret() {
  return z.unknown().transform((input, ctx): string => {
    if (typeof input === "string") return input;
    ctx.issues.push({ code: "custom", message: EXPECTS.secret, input: HIDDEN });
    return z.NEVER;
  });
}

/** The URL's text with any user info replaced, for problems. */
function withoutUserInfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, `$1${HIDDEN}@`);
}

function url() {
  return z.unknown().transform((input, ctx): string => {
    if (typeof input === "string") {
      try {
        const u = new URL(input);
        if (
          (u.protocol === "http:" || u.protocol === "https:") && u.username === "" &&
          u.password === "" && u.search === "" && u.hash === ""
        ) return input;
      } catch {
        // reported below
      }
    }
    const shown = typeof input === "string" ? withoutUserInfo(input) : input;
    ctx.issues.push({ code: "custom", message: EXPECTS.url, input: shown });
    return z.NEVER;
  });
}

/** The placeholders a query uses (without `$`). */
export function placeholdersOf(query: string): string[] {
  return [...query.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** One metric source, `MetricSources.<name>`. */
export const metricSourceSchema = z.object({
  type: z.literal("prometheus", { error: `"prometheus"` }).default("prometheus"),
  url: url(),
  query: z.string({ error: EXPECTS.query }).refine((q) => q.trim() !== "", {
    error: EXPECTS.query,
  }),
  scope: z.enum(["cluster", "node"], { error: EXPECTS.scope }).default("cluster"),
  headers: z.record(
    z.string().regex(HEADER_NAME),
    secret(),
    { error: (i) => i.code === "invalid_key" ? EXPECTS.header : EXPECTS.object },
  ).default({}),
  basicAuth: z.object({
    username: z.string({ error: EXPECTS.string }),
    password: secret(),
  }, { error: EXPECTS.object }).optional(),
  tls: z.object({
    ca: z.string({ error: EXPECTS.ca }).min(1, { error: EXPECTS.ca }),
  }, { error: EXPECTS.object }).optional(),
  timeout: z.number({ error: EXPECTS.timeout }).gt(0, { error: EXPECTS.timeout })
    .max(MAX_SOURCE_TIMEOUT_SECONDS, { error: EXPECTS.timeout }).default(2),
  staleAfter: z.number({ error: EXPECTS.seconds }).gt(0, { error: EXPECTS.seconds })
    .default(60),
}, { error: EXPECTS.object }).check((ctx) => {
  const { query, scope } = ctx.value;
  for (const name of placeholdersOf(query)) {
    if (!(QUERY_PLACEHOLDERS as readonly string[]).includes(name)) {
      ctx.issues.push({
        code: "custom",
        message: `only the placeholders $service, $node and $instance (not $${name.slice(0, 40)})`,
        input: query,
        path: ["query"],
      });
    } else if (name !== "service" && scope !== "node") {
      ctx.issues.push({
        code: "custom",
        message: `no $${name} in cluster scope (one node queries for all: use "Scope": "node")`,
        input: query,
        path: ["query"],
      });
    }
  }
}) satisfies z.ZodType<MetricSource, unknown>;

/** `MetricSources`: metric name → source (absent: none; left out so documents stay as written). */
export const metricSourcesSchema = z.record(
  z.string().regex(SOURCE_NAME_PATTERN),
  metricSourceSchema,
  { error: (i) => i.code === "invalid_key" ? EXPECTS.sourceName : EXPECTS.object },
).optional();

/** `OnSourceFailure`: `hold` (the default when absent), `scale-out-only`, or an instance count. */
export const onSourceFailureSchema = z.union([
  z.enum(["hold", "scale-out-only"]),
  z.number().int().min(1),
], { error: EXPECTS.rule }).optional() satisfies z.ZodType<SourceFailureRule | undefined, unknown>;

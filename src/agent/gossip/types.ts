/**
 * What agents gossip: each node's share (its services, resources and recent scaling actions),
 * versioned per origin, and the message that carries shares between two agents. The wire format
 * is JSON; `parseGossipMessage` checks an untrusted body strictly before anything is merged.
 *
 * Unknown values are absent, never `null` or `0` (JSON has no `undefined`).
 *
 * @module
 */

import { z } from "zod";
import { ValidationError } from "../../domain/errors.ts";

/** What one node shares about one of its services. */
export interface ServiceShare {
  /** Running instances on the node. */
  running: number;
  /** Pending (starting) instances on the node. */
  pending: number;
  /** Mean CPU use of the running instances (fraction of their cores); absent when unknown. */
  cpu_avg?: number;
  /** Mean memory use of the running instances (fraction of their limit); absent when unknown. */
  memory_avg?: number;
  /** The service's analytics by name; unknown ones are absent. */
  analytics: Record<string, number>;
  /** Cores one instance needs, as the node's copy of the service descriptor says. */
  cpuNumber: number;
}

/** A node's resources as it last computed them. */
export interface NodeResources {
  totalCpus: number;
  freeCpus: number;
  /** Bytes. */
  totalMemory: number;
  /** Bytes. */
  freeMemory: number;
}

/** One scaling action a node took (its "ledger"). */
export interface LedgerAction {
  service: string;
  action: "start" | "stop";
  /** The origin's clock, ms since the epoch. */
  time: number;
  /** Why, usually the chosen policy. */
  reason: string;
}

/** Everything one node shares, versioned. */
export interface NodeShare {
  /** The node's name. */
  origin: string;
  /** Per origin, strictly increasing: a higher version replaces a lower one everywhere. */
  version: number;
  /** The origin's clock when it published, ms since the epoch (informative: clocks differ). */
  time: number;
  /** Whether the origin's agent is active (runs its loop and would act). */
  active: boolean;
  /** The origin's services by name, including ones with no instance there. */
  services: Record<string, ServiceShare>;
  resources: NodeResources;
  /** The origin's recent scaling actions. */
  actions: LedgerAction[];
}

/** One gossip message (request or reply) between two agents of a cluster. */
export interface GossipMessage {
  /** The cluster's name; a receiver drops messages of another cluster. */
  cluster: string;
  /** The sender's node name. */
  from: string;
  /** Shares the sender passes on (its own and those it holds of others). */
  entries: NodeShare[];
  /**
   * The versions the sender holds, by origin (its own included). Only in a request: the
   * receiver then replies with just the entries newer than these. Absent: reply with all.
   */
  digest?: Record<string, number>;
}

/** Bounds on a gossip message: anything larger is rejected. */
export const GOSSIP_LIMITS = {
  /** Entries per message, and origins per digest. */
  maxEntries: 10_000,
  /** Characters per string (names, reasons, keys). */
  maxString: 256,
  /** Services per entry. */
  maxServices: 1000,
  /** Analytics per service. */
  maxAnalytics: 1000,
  /** Ledger actions per entry. */
  maxActions: 1000,
} as const;

const NAME = `a string of 1 to ${GOSSIP_LIMITS.maxString} characters`;

function name(): z.ZodString {
  return z.string({ error: `expected ${NAME}` })
    .min(1, { error: `expected ${NAME}` })
    .max(GOSSIP_LIMITS.maxString, { error: `expected ${NAME}` });
}

function text(): z.ZodString {
  return z.string({ error: "expected a string" })
    .max(GOSSIP_LIMITS.maxString, {
      error: `expected at most ${GOSSIP_LIMITS.maxString} characters`,
    });
}

function finite(): z.ZodNumber {
  return z.number({ error: "expected a finite number" });
}

function nonNegative(): z.ZodNumber {
  return finite().min(0, { error: "expected a number >= 0" });
}

function count(): z.ZodNumber {
  return z.number({ error: "expected a whole number >= 0" })
    .int({ error: "expected a whole number >= 0" })
    .min(0, { error: "expected a whole number >= 0" });
}

/**
 * A record with at most `max` non-empty, bounded keys. `__proto__` is refused: zod would drop it
 * silently.
 */
function boundedRecord<T extends z.ZodType>(value: T, max: number, what: string) {
  const record = z.record(name(), value, { error: "expected an object" }).check((ctx) => {
    if (Object.keys(ctx.value).length > max) {
      ctx.issues.push({
        code: "custom",
        message: `expected at most ${max} ${what}`,
        input: ctx.value,
      });
    }
  });
  return z.unknown().check((ctx) => {
    if (
      typeof ctx.value === "object" && ctx.value !== null && Object.hasOwn(ctx.value, "__proto__")
    ) {
      ctx.issues.push({
        code: "custom",
        message: "reserved key",
        input: ctx.value,
        path: ["__proto__"],
      });
    }
  }).pipe(record);
}

function boundedArray<T extends z.ZodType>(item: T, max: number, what: string) {
  return z.array(item, { error: "expected an array" })
    .max(max, { error: `expected at most ${max} ${what}` });
}

const serviceShareSchema = z.strictObject({
  running: count(),
  pending: count(),
  cpu_avg: nonNegative().optional(),
  memory_avg: nonNegative().optional(),
  analytics: boundedRecord(finite(), GOSSIP_LIMITS.maxAnalytics, "analytics"),
  cpuNumber: nonNegative(),
}, { error: "expected an object" });

const nodeShareSchema = z.strictObject({
  origin: name(),
  version: count(),
  time: nonNegative(),
  active: z.boolean({ error: "expected true or false" }),
  services: boundedRecord(serviceShareSchema, GOSSIP_LIMITS.maxServices, "services"),
  resources: z.strictObject({
    totalCpus: nonNegative(),
    freeCpus: nonNegative(),
    totalMemory: nonNegative(),
    freeMemory: nonNegative(),
  }, { error: "expected an object" }),
  actions: boundedArray(
    z.strictObject({
      service: name(),
      action: z.enum(["start", "stop"], { error: 'expected "start" or "stop"' }),
      time: nonNegative(),
      reason: text(),
    }, { error: "expected an object" }),
    GOSSIP_LIMITS.maxActions,
    "actions",
  ),
}, { error: "expected an object" });

const gossipMessageSchema = z.strictObject({
  cluster: name(),
  from: name(),
  entries: boundedArray(nodeShareSchema, GOSSIP_LIMITS.maxEntries, "entries"),
  digest: boundedRecord(count(), GOSSIP_LIMITS.maxEntries, "origins").optional(),
}, { error: "expected an object" });

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const MAX_SEGMENT = 64;

/** `$.entries[0].services["my-svc"].running`; a key longer than 64 characters is cut (`…`). */
function jsonPath(path: readonly PropertyKey[]): string {
  let out = "$";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
      continue;
    }
    const key = String(segment);
    if (key.length > MAX_SEGMENT) out += `[${JSON.stringify(key.slice(0, MAX_SEGMENT) + "…")}]`;
    else if (IDENTIFIER.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** One problem found in a gossip message. */
export interface GossipProblem {
  /** JSON path, such as `$.entries[3].version`. */
  path: string;
  message: string;
}

function problemsOf(error: z.ZodError): GossipProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0] ?? "";
      return { path: jsonPath([...issue.path, key]), message: "unknown field" };
    }
    if (issue.code === "invalid_key") {
      const inner = issue.issues[0]?.message;
      return { path: jsonPath(issue.path), message: `invalid key: ${inner ?? "bad key"}` };
    }
    return { path: jsonPath(issue.path), message: issue.message };
  });
}

/**
 * Checks an untrusted gossip message (a parsed JSON body).
 *
 * @param input The decoded JSON.
 * @returns The message, typed.
 * @throws {ValidationError} naming the JSON path of the first problem (`details` lists all).
 */
export function parseGossipMessage(input: unknown): GossipMessage {
  const result = gossipMessageSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = problemsOf(result.error);
  const first = problems[0] ?? { path: "$", message: "invalid" };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return fail(`Invalid gossip message at ${first.path}: ${first.message}${more}`, problems);
}

function fail(message: string, details: GossipProblem[]): never {
  throw new ValidationError(message, { details });
}

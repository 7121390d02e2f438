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
import type { NodeCapacity } from "../../domain/model.ts";

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
  /** Bytes of one entry's canonical JSON (see signing.ts): a larger entry is dropped. */
  maxEntryBytes: 64 * 1024,
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

/**
 * A metric source's last reading by the node that queried it (docs/gossip.md): the value (absent
 * when the query failed), its age when the share was published (ms, the origin's monotonic
 * clock; receivers add how long they have held the share), and why there is no value.
 */
const sourceShareSchema = z.strictObject({
  value: finite().optional(),
  age: count(),
  error: text().optional(),
}, { error: "expected an object" });

/** One metric source's reading in a share. */
export type SourceShare = z.infer<typeof sourceShareSchema>;

const serviceShareSchema = z.strictObject({
  /** Running instances on the node. */
  running: count(),
  /** Pending (starting) instances on the node. */
  pending: count(),
  /** Mean CPU use of the running instances (fraction of their cores); absent when unknown. */
  cpu_avg: nonNegative().optional(),
  /** Mean memory use of the running instances (fraction of their limit); absent when unknown. */
  memory_avg: nonNegative().optional(),
  /** The service's analytics by name; unknown ones are absent. */
  analytics: boundedRecord(finite(), GOSSIP_LIMITS.maxAnalytics, "analytics"),
  /** Cores one instance needs, as the node's copy of the service descriptor says. */
  cpuNumber: nonNegative(),
  /**
   * Instances the node keeps whatever the cluster says (a base service's floor there); absent
   * means 0. The cluster-bounds reconciliation never asks such a node to stop below it.
   */
  keep: count().optional(),
  /** The readings of the service's cluster-scope metric sources this node queried, by metric. */
  sources: boundedRecord(sourceShareSchema, GOSSIP_LIMITS.maxAnalytics, "sources").optional(),
}, { error: "expected an object" });

/** What one node shares about one of its services. */
export type ServiceShare = z.infer<typeof serviceShareSchema>;

const capacitySchema: z.ZodType<NodeCapacity> = z.strictObject({
  totalCpus: nonNegative(),
  freeCpus: nonNegative(),
  totalMemory: nonNegative(),
  freeMemory: nonNegative(),
}, { error: "expected an object" });

const ledgerActionSchema = z.strictObject({
  service: name(),
  action: z.enum(["start", "stop"], { error: 'expected "start" or "stop"' }),
  /** The origin's clock, ms since the epoch (informative, and checked against the skew). */
  time: nonNegative(),
  /**
   * How long before the share's publication the action happened, ms, measured on the origin's
   * monotonic clock. Receivers add how long ago they accepted the share, so cluster cooldowns
   * never compare two nodes' clocks. Absent (older agents): `share.time − time`.
   */
  age: count().optional(),
  /** Why, usually the chosen policy. */
  reason: text(),
}, { error: "expected an object" });

/** One scaling action a node took (its "ledger"). */
export type LedgerAction = z.infer<typeof ledgerActionSchema>;

const nodeShareSchema = z.strictObject({
  /** The node's name. */
  origin: name(),
  /** Per origin, strictly increasing: a higher version replaces a lower one everywhere. */
  version: count(),
  /** The origin's clock when it published, ms since the epoch (informative: clocks differ). */
  time: nonNegative(),
  /** Whether the origin's agent is active (runs its loop and would act). */
  active: z.boolean({ error: "expected true or false" }),
  /** The origin's services by name, including ones with no instance there. */
  services: boundedRecord(serviceShareSchema, GOSSIP_LIMITS.maxServices, "services"),
  resources: capacitySchema,
  /** The origin's recent scaling actions. */
  actions: boundedArray(ledgerActionSchema, GOSSIP_LIMITS.maxActions, "actions"),
  /**
   * The origin's Ed25519 signature of this share (base64url, 86 characters; see signing.ts).
   * Absent only on a share not yet signed, or from an agent older than signed gossip:
   * receivers drop unsigned entries.
   */
  sig: z.string({ error: "expected a base64url signature" })
    .regex(/^[A-Za-z0-9_-]{86}$/, { error: "expected a base64url signature (86 characters)" })
    .optional(),
}, { error: "expected an object" });

/** Everything one node shares, versioned. */
export type NodeShare = z.infer<typeof nodeShareSchema>;

/** What this node publishes each loop: its share without the version, the ledger and the signature. */
export type LocalShare = Pick<NodeShare, "active" | "services" | "resources">;

const gossipMessageSchema = z.strictObject({
  /** The cluster's name; a receiver drops messages of another cluster. */
  cluster: name(),
  /** The sender's node name. */
  from: name(),
  /** Shares the sender passes on (its own and those it holds of others). */
  entries: boundedArray(nodeShareSchema, GOSSIP_LIMITS.maxEntries, "entries"),
  /**
   * The versions the sender holds, by origin (its own included). Only in a request: the
   * receiver then replies with just the entries newer than these. Absent: reply with all.
   */
  digest: boundedRecord(count(), GOSSIP_LIMITS.maxEntries, "origins").optional(),
}, { error: "expected an object" });

/** One gossip message (request or reply) between two agents of a cluster. */
export type GossipMessage = z.infer<typeof gossipMessageSchema>;

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

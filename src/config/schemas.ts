/**
 * Zod schemas of the configuration documents (the original's fields, docs/compat.md#keep-config),
 * with Gru's defaults and checks; how they are stricter than the original is listed in
 * docs/compat.md#validation. Every check's message is the `expected` part of a problem ("a number greater than 0");
 * `documents.ts` adds the path and what was found.
 *
 * Keys are the model's camelCase names; `case_insensitive.ts` maps the document's keys onto them
 * before these schemas run.
 *
 * @module
 */

import { z } from "zod";
import { STRATEGY_NAMES } from "../domain/model.ts";
import { isSize } from "../domain/size.ts";
import { parseGuestPort, parsePortRange } from "../domain/port_range.ts";
import { metricSourcesSchema, onSourceFailureSchema } from "./metric_sources.ts";
import { fastPathSchema, serviceScalingSchema, shadowStrategiesSchema } from "./scaling.ts";

/**
 * Cluster, node, service and analytic names: they become etcd key parts and file names. Same
 * rule as `NAME_PATTERN` in `cluster/keys.ts` (a test keeps them equal).
 */
export const DOCUMENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Base metrics a policy may name. */
export const BASE_METRICS = ["cpu_avg", "memory_avg"] as const;

/** Metric services an agent knows. */
export const METRIC_SERVICES = ["influxdb", "none"] as const;

/** Keys of `metric.configuration` the InfluxDB exporter reads. */
export const INFLUX_CONFIGURATION_KEYS = [
  "Url",
  "DbName",
  "Username",
  "Password",
  "Token",
  "Org",
  "Bucket",
] as const;

function quoteAll(values: readonly string[]): string {
  const quoted = values.map((v) => `"${v}"`);
  return quoted.length <= 1
    ? quoted.join("")
    : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/** Expected-phrases used in problems. */
export const EXPECT = {
  string: "a string",
  boolean: "true or false",
  stringList: "a list of strings",
  seconds: "a number of seconds greater than 0",
  secondsOrZero: "a number of seconds >= 0",
  ttl: "a whole number of seconds >= 1",
  drainDelay: "a number of seconds from 0 to 3600",
  maxFriends: "a whole number >= 1",
  wholeOrZero: "a whole number >= 0",
  numberOrZero: "a number >= 0",
  number: "a number",
  threshold: "a number between 0 and 1 (both excluded)",
  strategy: `one of ${quoteAll(STRATEGY_NAMES)}`,
  storage: `"internal"`,
  metricService: `one of ${quoteAll(METRIC_SERVICES)}`,
  baseMetric: `one of ${quoteAll(BASE_METRICS)}`,
  daemonUrl: `"default", "local:<port>", "<host>:<port>", "unix:///<path>", "tcp://<host>:<port>"` +
    ` or "http(s)://<host>:<port>"`,
  memory: `a size such as "512m", "1g" or "1024", a number of bytes, or ""`,
  portRange: "an ascending port range in 1..65535",
  guestPort: `a guest port in 1..65535, optionally with "/tcp" or "/udp"`,
  cpuset: `a comma-separated list of core indexes such as "0,1", or ""`,
  name: `a name of 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
  image: "a Docker image name",
  expr: "an expression",
  volume: "an object ({})",
  object: "an object",
  stopTimeout: "a whole number of seconds from 0 to 300",
} as const;

/**
 * The longest grace period a service may ask for between SIGTERM and SIGKILL, seconds. A stop
 * request waits that long plus `DaemonTimeout`, and it holds this node's action queue meanwhile.
 */
export const MAX_STOP_TIMEOUT_SECONDS = 300;

const DAEMON_URL_PATTERNS = [
  /^default$/,
  /^local:\d{1,5}$/,
  /^unix:\/\/\/\S+$/,
  /^(tcp|https?):\/\/[^\s/]+(\/\S*)?$/,
  /^[^\s:/]+:\d{1,5}$/,
];

const CPUSET_PATTERN = /^(\d+(,\d+)*)?$/;

function str(expected: string = EXPECT.string) {
  return z.string({ error: expected });
}

function bool() {
  return z.boolean({ error: EXPECT.boolean });
}

function strList() {
  return z.array(str(), { error: EXPECT.stringList });
}

function positive(expected: string) {
  return z.number({ error: expected }).gt(0, { error: expected });
}

function atLeast(min: number, expected: string) {
  return z.number({ error: expected }).min(min, { error: expected });
}

function wholeAtLeast(min: number, expected: string) {
  return atLeast(min, expected).int({ error: expected });
}

function threshold(defaultValue: number) {
  return z.number({ error: EXPECT.threshold })
    .gt(0, { error: EXPECT.threshold })
    .lt(1, { error: EXPECT.threshold })
    .default(defaultValue);
}

function name() {
  return str(EXPECT.name).regex(DOCUMENT_NAME_PATTERN, { error: EXPECT.name });
}

/** A string, or a number turned into its decimal text (ports and sizes are often numbers). */
function stringOrNumber(expected: string, valid: (text: string) => boolean) {
  return z.unknown().transform((input, ctx): string => {
    const text = typeof input === "number" && Number.isSafeInteger(input) && input >= 0
      ? String(input)
      : input;
    if (typeof text === "string" && valid(text)) return text;
    ctx.issues.push({ code: "custom", message: expected, input });
    return z.NEVER;
  });
}

function succeeds(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

const portRange = stringOrNumber(EXPECT.portRange, (t) => succeeds(() => parsePortRange(t)));

const ports = z.record(
  z.string().refine((key) => succeeds(() => parseGuestPort(key))),
  portRange,
  { error: (issue) => issue.code === "invalid_key" ? EXPECT.guestPort : EXPECT.object },
);

const volumes = z.record(
  z.string(),
  z.record(z.string(), z.unknown(), { error: EXPECT.volume })
    .transform((): Record<string, never> => ({})),
  { error: EXPECT.object },
);

/** The agent configuration, `/gru/<cluster>/config`. */
export const agentConfigSchema = z.object({
  docker: z.object({
    daemonUrl: str(EXPECT.daemonUrl)
      .refine((u) => DAEMON_URL_PATTERNS.some((p) => p.test(u)), { error: EXPECT.daemonUrl })
      .default("default"),
    daemonTimeout: atLeast(0, EXPECT.secondsOrZero).default(10),
    tls: z.object({
      ca: str().default(""),
      cert: str().default(""),
      key: str().default(""),
      verify: bool().default(true),
    }, { error: EXPECT.object }).optional(),
  }, { error: EXPECT.object }).prefault({}),
  autonomic: z.object({
    loopTimeInterval: positive(EXPECT.seconds).default(5),
    plannerStrategy: z.enum(STRATEGY_NAMES, { error: EXPECT.strategy }).default("probdelta"),
    enableLogReading: bool().default(false),
    dryRun: bool().default(false),
    warmup: atLeast(0, EXPECT.secondsOrZero).default(5),
    window: positive(EXPECT.seconds).default(10),
    scaleOutCooldown: atLeast(0, EXPECT.secondsOrZero).default(10),
    scaleInCooldown: atLeast(0, EXPECT.secondsOrZero).default(30),
    scaleInStabilization: atLeast(0, EXPECT.secondsOrZero).default(10),
    decisionHistory: wholeAtLeast(1, EXPECT.wholeOrZero).default(100),
    shadowStrategies: shadowStrategiesSchema,
    fastPath: fastPathSchema,
  }, { error: EXPECT.object }).prefault({}),
  communication: z.object({
    loopTimeInterval: positive(EXPECT.seconds).default(5),
    maxFriends: wholeAtLeast(1, EXPECT.maxFriends).default(3),
    maxClockSkew: positive(EXPECT.seconds).default(30),
  }, { error: EXPECT.object }).prefault({}),
  storage: z.object({
    storageService: z.literal("internal", { error: EXPECT.storage }).default("internal"),
  }, { error: EXPECT.object }).prefault({}),
  metric: z.object({
    metricService: z.enum(METRIC_SERVICES, { error: EXPECT.metricService }).default("none"),
    configuration: z.record(z.string(), str(), { error: EXPECT.object }).default({}),
  }, { error: EXPECT.object }).prefault({}),
  discovery: z.object({
    appRoot: str().default(""),
    ttl: wholeAtLeast(1, EXPECT.ttl).default(5),
    drainDelay: atLeast(0, EXPECT.drainDelay).max(3600, { error: EXPECT.drainDelay }).optional(),
  }, { error: EXPECT.object }).prefault({}),
}, { error: EXPECT.object });

/** `configuration` of a service descriptor: how its containers are created. */
export const dockerConfigurationSchema = z.object({
  env: z.record(z.string(), str(), { error: EXPECT.object }).default({}),
  volumes: volumes.default({}),
  entrypoint: strList().default([]),
  memory: stringOrNumber(EXPECT.memory, (t) => t === "" || isSize(t)).default(""),
  cpuNumber: wholeAtLeast(0, EXPECT.wholeOrZero).default(0),
  cpuShares: wholeAtLeast(0, EXPECT.wholeOrZero).default(0),
  cpusetCpus: str(EXPECT.cpuset).regex(CPUSET_PATTERN, { error: EXPECT.cpuset }).default(""),
  links: strList().default([]),
  ports: ports.default({}),
  cmd: strList().default([]),
  stopTimeout: wholeAtLeast(0, EXPECT.stopTimeout)
    .max(MAX_STOP_TIMEOUT_SECONDS, { error: EXPECT.stopTimeout }).default(0),
}, { error: EXPECT.object });

/** A service descriptor, `/gru/<cluster>/services/<name>`. */
export const serviceDescriptorSchema = z.object({
  name: name(),
  type: str().default(""),
  image: str(EXPECT.image).min(1, { error: EXPECT.image }),
  remote: str().default(""),
  discoveryPort: stringOrNumber(
    EXPECT.guestPort + `, or ""`,
    (t) => t === "" || succeeds(() => parseGuestPort(t)),
  ).default(""),
  analytics: strList().default([]),
  constraints: z.record(z.string(), z.number({ error: EXPECT.number }), { error: EXPECT.object })
    .default({}),
  minInstances: wholeAtLeast(0, EXPECT.wholeOrZero).default(0),
  maxInstances: wholeAtLeast(0, EXPECT.wholeOrZero + " (0 = unlimited)").default(0),
  configuration: dockerConfigurationSchema.prefault({}),
  metricSources: metricSourcesSchema,
  onSourceFailure: onSourceFailureSchema,
  scaling: serviceScalingSchema,
}, { error: EXPECT.object });

function policyRule(defaultThreshold: number) {
  return z.object({
    enable: bool().default(false),
    threshold: threshold(defaultThreshold),
    metrics: z.array(z.enum(BASE_METRICS, { error: EXPECT.baseMetric }), {
      error: EXPECT.stringList,
    }).default([]),
    analytics: strList().default([]),
    dryRun: bool().default(false),
  }, { error: EXPECT.object }).prefault({});
}

/** The policy configuration, `/gru/<cluster>/policy`. */
export const policyConfigSchema = z.object({
  scalein: policyRule(0.35),
  scaleout: policyRule(0.75),
  swap: policyRule(0.6),
}, { error: EXPECT.object });

/** An analytic expression, `/gru/<cluster>/analytics/<name>`. */
export const analyticSchema = z.object({
  name: name(),
  expr: str(EXPECT.expr).refine((e) => e.trim() !== "", { error: EXPECT.expr }),
  metrics: strList().default([]),
  constraints: strList().default([]),
}, { error: EXPECT.object });

/** A node's identity, `…/nodes/<node>/config`. */
export const nodeConfigSchema = z.object({
  uuid: str().default(""),
  name: str().default(""),
  address: str().default(""),
  cluster: str().default(""),
  remote: str().default(""),
  /**
   * Gru addition: the node's Ed25519 public key for signed gossip (base64url, 32 bytes). Any
   * string is kept (one bad record must not hide the others); gossip treats a malformed key as
   * no key.
   */
  publicKey: str().optional(),
}, { error: EXPECT.object });

/** A node's constraints, `…/nodes/<node>/constraints`. */
export const nodeConstraintsSchema = z.object({
  cpuMin: atLeast(0, EXPECT.numberOrZero).default(0),
  cpuMax: atLeast(0, EXPECT.numberOrZero).default(0),
  baseServices: strList().default([]),
}, { error: EXPECT.object });

/** A node's resources (from the engine), `…/nodes/<node>/resources`. */
export const nodeResourcesSchema = z.object({
  totalCpus: wholeAtLeast(0, EXPECT.wholeOrZero).default(0),
  totalMemory: wholeAtLeast(0, EXPECT.wholeOrZero).default(0),
}, { error: EXPECT.object });

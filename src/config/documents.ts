/**
 * Parsing and checking of single configuration documents: keys are matched case-insensitively
 * (Go `encoding/json` semantics), missing fields take defaults, unknown keys are warnings and
 * every invalid value is an error naming the file, the JSON path, what was expected and what was
 * found. Cross-document checks (expressions, references) are in `validate.ts`.
 *
 * @module
 */

import type { z } from "zod";
import type {
  AgentConfig,
  Analytic,
  NodeConfig,
  NodeConstraints,
  NodeResources,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import { ValidationError } from "../domain/errors.ts";
import { canonicalize, type KeyFinding, spelledPath } from "./case_insensitive.ts";
import {
  countProblems,
  describeValue,
  formatPath,
  formatProblem,
  type PathSegment,
  type Problem,
  problem,
} from "./problem.ts";
import {
  agentConfigSchema,
  analyticSchema,
  nodeConfigSchema,
  nodeConstraintsSchema,
  nodeResourcesSchema,
  policyConfigSchema,
  serviceDescriptorSchema,
} from "./schemas.ts";
import { type Finding, lintAgentConfig, lintPolicy, lintService } from "./lint.ts";
import { closest } from "./suggest.ts";

export type { Finding } from "./lint.ts";

/** The outcome of checking one document. */
export interface Checked<T> {
  /** The document with defaults filled in; `undefined` when it has errors. */
  value: T | undefined;
  /** Errors first, then warnings. */
  problems: Problem[];
  /** Formats a canonical path (`["configuration", "ports"]`) with the document's spelling. */
  pathOf(path: readonly PathSegment[]): string;
}

interface DocumentSpec<T> {
  /** What the document is, for messages: `service descriptor`. */
  kind: string;
  schema: z.ZodType<T>;
  lint?: (value: T) => Finding[];
  /** Root keys dropped silently (runtime state found in the original's exports). */
  ignoreRootKeys?: readonly string[];
}

const ARTICLES: Record<string, string> = {
  array: "a list",
  object: "an object",
  boolean: "true or false",
  number: "a number",
  string: "a string",
  int: "a whole number",
  record: "an object",
};

/** Fallback text for checks that carry no message of their own. */
function expectedOf(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return ARTICLES[issue.expected] ?? `a value of type ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return "a valid value";
  }
}

function keyProblem(f: KeyFinding, source: string, pathOf: Checked<unknown>["pathOf"]): Problem {
  const parent = pathOf(f.parent);
  const path = parent + formatPath([f.key]).slice(1);
  if (f.kind === "duplicate") {
    return problem({ file: source, path }, {
      expected: `the key "${f.known[0]}" once (keys match in any case)`,
      found: `${describeValue(f.previous)} and ${describeValue(f.key)}`,
      severity: "warning",
      note: "the last one wins",
    });
  }
  const guess = closest(f.key, f.known);
  return problem({ file: source, path }, {
    expected: `one of the keys ${f.known.join(", ")} (any case)`,
    found: describeValue(f.key),
    severity: "warning",
    note: guess ? `ignored; did you mean "${guess}"?` : "ignored",
  });
}

function check<T>(spec: DocumentSpec<T>, input: unknown, source: string): Checked<T> {
  const canon = canonicalize(input, spec.schema, { ignoreRootKeys: spec.ignoreRootKeys ?? [] });
  const pathOf = (path: readonly PathSegment[]) => formatPath(spelledPath(canon.spelled, path));
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const result = spec.schema.safeParse(canon.value, { reportInput: true, error: expectedOf });
  let value: T | undefined;
  if (result.success) {
    value = result.data;
    for (const f of spec.lint?.(value) ?? []) {
      const p = problem({ file: source, path: pathOf(f.path) }, f);
      (p.severity === "error" ? errors : warnings).push(p);
    }
  } else {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
      const found = "input" in issue ? describeValue(issue.input) : "nothing";
      errors.push(problem({ file: source, path: pathOf(path) }, {
        expected: issue.message,
        found,
      }));
    }
  }
  for (const f of canon.findings) warnings.push(keyProblem(f, source, pathOf));
  if (errors.length > 0) value = undefined;
  return { value, problems: [...errors, ...warnings], pathOf };
}

function parseWith<T>(spec: DocumentSpec<T>, input: unknown, source: string): T {
  const checked = check(spec, input, source);
  if (checked.value === undefined) throw invalid(spec.kind, source, checked.problems);
  return checked.value;
}

/**
 * The error thrown for an invalid document: its message lists every problem.
 *
 * @param kind What the document is (`service descriptor`).
 * @param source Where it came from.
 * @param problems Its problems.
 * @returns A `ValidationError` whose `details` is `problems`.
 */
export function invalid(kind: string, source: string, problems: Problem[]): ValidationError {
  const lines = problems.map((p) => `  ${formatProblem(p)}`);
  return new ValidationError(
    `Invalid ${kind} in ${source}: ${countProblems(problems)}\n${lines.join("\n")}`,
    { details: problems },
  );
}

const AGENT_CONFIG: DocumentSpec<AgentConfig> = {
  kind: "agent configuration",
  schema: agentConfigSchema,
  lint: lintAgentConfig,
};
const SERVICE: DocumentSpec<ServiceDescriptor> = {
  kind: "service descriptor",
  schema: serviceDescriptorSchema,
  lint: lintService,
  ignoreRootKeys: ["instances"],
};
const POLICY: DocumentSpec<PolicyConfig> = {
  kind: "policy configuration",
  schema: policyConfigSchema,
  lint: lintPolicy,
};
const ANALYTIC: DocumentSpec<Analytic> = { kind: "analytic", schema: analyticSchema };
const NODE_CONFIG: DocumentSpec<NodeConfig> = { kind: "node config", schema: nodeConfigSchema };
const NODE_CONSTRAINTS: DocumentSpec<NodeConstraints> = {
  kind: "node constraints",
  schema: nodeConstraintsSchema,
};
const NODE_RESOURCES: DocumentSpec<NodeResources> = {
  kind: "node resources",
  schema: nodeResourcesSchema,
};

/**
 * Checks an agent configuration (`/gru/<cluster>/config`) without throwing.
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for problems.
 * @returns The value with defaults (unless there are errors) and every problem.
 */
export function checkAgentConfig(input: unknown, source: string): Checked<AgentConfig> {
  return check(AGENT_CONFIG, input, source);
}

/**
 * Checks a service descriptor without throwing. Its `instances` (runtime state in the original's
 * documents) is ignored silently.
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for problems.
 * @returns The value with defaults (unless there are errors) and every problem.
 */
export function checkServiceDescriptor(
  input: unknown,
  source: string,
): Checked<ServiceDescriptor> {
  return check(SERVICE, input, source);
}

/**
 * Checks a policy configuration without throwing.
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for problems.
 * @returns The value with defaults (unless there are errors) and every problem.
 */
export function checkPolicyConfig(input: unknown, source: string): Checked<PolicyConfig> {
  return check(POLICY, input, source);
}

/**
 * Checks an analytic without throwing (its expression is checked by `validateClusterDocs`).
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for problems.
 * @returns The value with defaults (unless there are errors) and every problem.
 */
export function checkAnalytic(input: unknown, source: string): Checked<Analytic> {
  return check(ANALYTIC, input, source);
}

/**
 * Parses an agent configuration, filling defaults.
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for messages.
 * @returns The configuration.
 * @throws {ValidationError} With every problem in `details` when it is invalid.
 */
export function parseAgentConfig(input: unknown, source: string): AgentConfig {
  return parseWith(AGENT_CONFIG, input, source);
}

/**
 * Parses a service descriptor, filling defaults.
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for messages.
 * @returns The descriptor.
 * @throws {ValidationError} With every problem in `details` when it is invalid.
 */
export function parseServiceDescriptor(input: unknown, source: string): ServiceDescriptor {
  return parseWith(SERVICE, input, source);
}

/**
 * Parses a policy configuration, filling defaults.
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for messages.
 * @returns The policy configuration.
 * @throws {ValidationError} With every problem in `details` when it is invalid.
 */
export function parsePolicyConfig(input: unknown, source: string): PolicyConfig {
  return parseWith(POLICY, input, source);
}

/**
 * Parses an analytic (the expression itself is not parsed here).
 *
 * @param input The parsed JSON.
 * @param source The file or key it came from, for messages.
 * @returns The analytic.
 * @throws {ValidationError} With every problem in `details` when it is invalid.
 */
export function parseAnalytic(input: unknown, source: string): Analytic {
  return parseWith(ANALYTIC, input, source);
}

/**
 * Parses a node's `config` key.
 *
 * @param input The parsed JSON.
 * @param source The key it came from, for messages.
 * @returns The node config.
 * @throws {ValidationError} When it is invalid.
 */
export function parseNodeConfig(input: unknown, source: string): NodeConfig {
  return parseWith(NODE_CONFIG, input, source);
}

/**
 * Parses a node's `constraints` key (the original's `cpumin`, `cpumax`, `baseservices`).
 *
 * @param input The parsed JSON.
 * @param source The key it came from, for messages.
 * @returns The node constraints.
 * @throws {ValidationError} When it is invalid.
 */
export function parseNodeConstraints(input: unknown, source: string): NodeConstraints {
  return parseWith(NODE_CONSTRAINTS, input, source);
}

/**
 * Parses a node's `resources` key (the original's `totalcpus`, `totalmemory`).
 *
 * @param input The parsed JSON.
 * @param source The key it came from, for messages.
 * @returns The node resources.
 * @throws {ValidationError} When it is invalid.
 */
export function parseNodeResources(input: unknown, source: string): NodeResources {
  return parseWith(NODE_RESOURCES, input, source);
}

/**
 * The agent configuration used when none was uploaded: every default of `agentConfigSchema`
 * (loop every 5 s, strategy `probdelta`, Docker `default`, metrics off…).
 *
 * @returns A fresh configuration.
 */
export function defaultAgentConfig(): AgentConfig {
  return agentConfigSchema.parse({});
}

/**
 * The policy configuration used when none was uploaded: every policy disabled, thresholds
 * scalein 0.35, scaleout 0.75, swap 0.6.
 *
 * @returns A fresh policy configuration.
 */
export function defaultPolicyConfig(): PolicyConfig {
  return policyConfigSchema.parse({});
}

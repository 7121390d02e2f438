/**
 * A node's desired state as stored (a Gru addition): `/gru/<cluster>/desired/<node>` in etcd and
 * the agent's local cache file hold the same JSON object, `{"baseServices": [...], "cpuMin": x,
 * "cpuMax": x, "active": b}`, each field optional (an absent field means the default).
 *
 * @module
 */

import { ValidationError } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";
import type { NodeDesiredState } from "../domain/model.ts";
import { isValidName } from "./keys.ts";

/** The fields of a desired state, in display order. */
export const DESIRED_FIELDS = ["baseServices", "cpuMin", "cpuMax", "active"] as const;

/** One field of a desired state. */
export type DesiredField = typeof DESIRED_FIELDS[number];

/** The state of a node nobody has set anything on. */
export function defaultDesiredState(): NodeDesiredState {
  return { baseServices: [], cpuMin: 0, cpuMax: 0, active: false };
}

/**
 * Checks a parsed desired-state object; unknown fields are ignored.
 *
 * @param input The parsed JSON.
 * @param source Where it came from (`etcd:<key>` or a file path), for messages.
 * @returns The fields present.
 * @throws {ValidationError} Naming the source and the JSON path of the first bad field.
 */
export function checkDesiredState(input: unknown, source: string): Partial<NodeDesiredState> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError(`${source}: $: expected an object, found ${excerpt(input)}`);
  }
  const o = input as Record<string, unknown>;
  const out: Partial<NodeDesiredState> = {};
  const bad = (path: string, expected: string, found: unknown) =>
    new ValidationError(`${source}: $.${path}: expected ${expected}, found ${excerpt(found)}`);
  if (o.baseServices !== undefined) {
    const list = o.baseServices;
    if (!Array.isArray(list)) throw bad("baseServices", "a list of service names", list);
    list.forEach((n, i) => {
      if (typeof n !== "string" || !isValidName(n)) {
        throw bad(`baseServices[${i}]`, "a service name", n);
      }
    });
    out.baseServices = [...new Set(list as string[])];
  }
  for (const f of ["cpuMin", "cpuMax"] as const) {
    const x = o[f];
    if (x === undefined) continue;
    if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw bad(f, "a number in [0, 1]", x);
    out[f] = x;
  }
  if (o.active !== undefined) {
    if (typeof o.active !== "boolean") throw bad("active", "true or false", o.active);
    out.active = o.active;
  }
  return out;
}

/**
 * Parses a stored desired state.
 *
 * @param raw The stored text.
 * @param source Where it came from, for messages.
 * @returns The fields present.
 * @throws {ValidationError} When it is not JSON or a field is invalid.
 */
export function parseDesiredState(raw: string, source: string): Partial<NodeDesiredState> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ValidationError(`${source}: not JSON: ${excerpt(raw)}`, { cause: err });
  }
  return checkDesiredState(value, source);
}

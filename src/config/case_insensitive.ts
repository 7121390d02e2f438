/**
 * Go `encoding/json` key matching for Zod object schemas: a document key fills the schema field
 * whose name matches it case-insensitively (`"DaemonUrl"`, `"daemonurl"` → `daemonUrl`). Keys of
 * user maps (`z.record`) are kept verbatim. Unknown keys are dropped and reported, `null` fields
 * are dropped (they take their default, as Go leaves the zero value), and the spelling of every
 * matched key is remembered so problems can quote the document as written.
 *
 * @module
 */

import { z } from "zod";
import type { PathSegment } from "./problem.ts";

/** A key the schema does not know, or one given twice in different cases. */
export interface KeyFinding {
  kind: "unknown" | "duplicate";
  /** Canonical path of the object that holds the key. */
  parent: PathSegment[];
  /** The key as written. */
  key: string;
  /** The schema's field names at that level. */
  known: string[];
  /** For a duplicate: the spelling seen before `key`. */
  previous?: string;
}

/** The value with canonical keys, what was dropped, and how keys were spelled. */
export interface Canonical {
  value: unknown;
  findings: KeyFinding[];
  /** Canonical path (JSON of the segments) → the key as written in the document. */
  spelled: Map<string, string>;
}

/** Options of `canonicalize`. */
export interface CanonicalizeOptions {
  /** Root keys (any case) to drop silently, e.g. runtime state that exports carry. */
  ignoreRootKeys?: readonly string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Removes wrappers (default, optional, pipes…) down to the schema that shapes the input. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let depth = 0; depth < 32; depth++) {
    if (
      s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable
    ) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
    } else {
      return s;
    }
  }
  return s;
}

/**
 * Renames `value`'s keys to the schema's field names, case-insensitively, recursively.
 *
 * @param value The parsed JSON document.
 * @param schema The document's schema.
 * @param options Keys to ignore silently.
 * @returns The canonical value, the dropped keys and the original spellings.
 */
export function canonicalize(
  value: unknown,
  schema: z.ZodType,
  options: CanonicalizeOptions = {},
): Canonical {
  const findings: KeyFinding[] = [];
  const spelled = new Map<string, string>();
  const ignored = new Set((options.ignoreRootKeys ?? []).map((k) => k.toLowerCase()));

  function walk(v: unknown, s: z.ZodType, path: PathSegment[]): unknown {
    const shape = unwrap(s);
    if (shape instanceof z.ZodObject && isPlainObject(v)) {
      const fields = shape.shape as Record<string, z.ZodType>;
      const byLower = new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]));
      const out: Record<string, unknown> = {};
      const seen = new Map<string, string>();
      for (const [key, child] of Object.entries(v)) {
        const canon = Object.hasOwn(fields, key) ? key : byLower.get(key.toLowerCase());
        if (canon === undefined) {
          if (!(path.length === 0 && ignored.has(key.toLowerCase()))) {
            findings.push({ kind: "unknown", parent: path, key, known: Object.keys(fields) });
          }
          continue;
        }
        const previous = seen.get(canon);
        if (previous !== undefined) {
          findings.push({ kind: "duplicate", parent: path, key, known: [canon], previous });
        }
        seen.set(canon, key);
        if (child === null) {
          delete out[canon];
          continue;
        }
        const childPath = [...path, canon];
        out[canon] = walk(child, fields[canon]!, childPath);
        spelled.set(JSON.stringify(childPath), key);
      }
      return out;
    }
    if (shape instanceof z.ZodArray && Array.isArray(v)) {
      return v.map((el, i) => walk(el, shape.element as z.ZodType, [...path, i]));
    }
    if (shape instanceof z.ZodRecord && isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(v)) {
        out[key] = walk(child, shape.valueType as z.ZodType, [...path, key]);
      }
      return out;
    }
    return v;
  }

  return { value: walk(value, schema, []), findings, spelled };
}

/**
 * Maps a canonical path back to the keys as written in the document (keys that were not in it
 * keep their canonical names).
 *
 * @param spelled The `spelled` map of `canonicalize`.
 * @param path A canonical path.
 * @returns The path as written.
 */
export function spelledPath(
  spelled: ReadonlyMap<string, string>,
  path: readonly PathSegment[],
): PathSegment[] {
  return path.map((segment, i) =>
    typeof segment === "number"
      ? segment
      : spelled.get(JSON.stringify(path.slice(0, i + 1))) ?? segment
  );
}

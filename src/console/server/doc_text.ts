/**
 * Documents as the configuration manager shows and takes them: secrets redacted on the way out
 * (the agent API's own rules: every service `Env` value, metric credentials, Docker TLS paths,
 * user info in URLs), the stored value kept where an edit sends a redacted one back, and a
 * problem's JSON path located in the edited text (line and column) for the editor.
 *
 * @module
 */

import { findNodeAtLocation, parseTree } from "jsonc-parser";
import type { AgentConfig, ServiceDescriptor } from "../../domain/model.ts";
import { redactAgentConfig, REDACTED, redactService, redactUrl } from "../../api/redact.ts";
import { formatPath, type PathSegment } from "../../config/problem.ts";

/** The document kinds the console edits. */
export type DocKind = "config" | "policy" | "service" | "analytic";

/** The document as shown: secrets replaced by `<redacted>`. */
export function redactDoc(kind: DocKind, doc: unknown): unknown {
  if (kind === "config") return redactAgentConfig(doc as AgentConfig);
  if (kind === "service") return redactService(doc as ServiceDescriptor);
  return doc;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Puts the stored values back where an edited document holds a redacted one: a value that is
 * exactly `<redacted>`, or a URL whose user info was redacted (`http://<redacted>@host`), takes
 * the stored value at the same path. A redacted value with nothing stored there is reported.
 *
 * @param edited The edited document (parsed and normalized).
 * @param stored The stored document, if any.
 * @returns The document to write, and the paths of redacted values that have no stored value.
 *
 * @example
 * ```ts
 * import { restoreRedacted } from "./doc_text.ts";
 * restoreRedacted({ env: { A: "<redacted>" } }, { env: { A: "s3cret" } }).value;
 * // { env: { A: "s3cret" } }
 * ```
 */
export function restoreRedacted(
  edited: unknown,
  stored: unknown,
): { value: unknown; missing: PathSegment[][] } {
  const missing: PathSegment[][] = [];
  const walk = (e: unknown, s: unknown, path: PathSegment[]): unknown => {
    if (typeof e === "string") {
      if (e === REDACTED || e.includes(`${REDACTED}@`)) {
        if (typeof s === "string" && (e === REDACTED || redactUrl(s) === e)) return s;
        missing.push(path);
      }
      return e;
    }
    if (Array.isArray(e)) {
      return e.map((v, i) => walk(v, Array.isArray(s) ? s[i] : undefined, [...path, i]));
    }
    if (isRecord(e)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e)) {
        out[k] = walk(v, isRecord(s) ? s[k] : undefined, [...path, k]);
      }
      return out;
    }
    return e;
  };
  return { value: walk(edited, stored, []), missing };
}

/**
 * Splits a JSON path as problems write it (`$.a.b[0]["c d"]`) into segments.
 *
 * @param path The path.
 * @returns The segments, or undefined when it is not such a path.
 */
export function parsePath(path: string): PathSegment[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const out: PathSegment[] = [];
  const re = /\.([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let i = 1;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
    i = re.lastIndex;
  }
  return out;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/**
 * Where a problem's path is in the edited text: the node at the path, or its nearest existing
 * parent (a missing key is reported on the object that lacks it). A syntax error's position comes
 * from its message.
 *
 * @param text The edited text.
 * @param path The problem's path.
 * @param message The problem's message.
 * @returns Line and column from 1, or undefined.
 */
export function locate(
  text: string,
  path: string,
  message: string,
): { line: number; column: number } | undefined {
  const at = /invalid JSON at line (\d+), column (\d+)/.exec(message);
  if (at) return { line: Number(at[1]), column: Number(at[2]) };
  const segments = parsePath(path);
  if (!segments) return undefined;
  const root = parseTree(text);
  if (!root) return undefined;
  for (let n = segments.length; n >= 0; n--) {
    // Keys are matched as written; the document may spell them in another case.
    const node = findNodeAtLocation(root, segments.slice(0, n)) ??
      findCaseInsensitive(root, segments.slice(0, n));
    if (node) {
      return lineColumn(text, node.parent?.type === "property" ? node.parent.offset : node.offset);
    }
  }
  return undefined;
}

type JsonNode = NonNullable<ReturnType<typeof parseTree>>;

function findCaseInsensitive(root: JsonNode, segments: PathSegment[]): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const seg of segments) {
    if (!node) return undefined;
    if (typeof seg === "number") {
      node = node.type === "array" ? node.children?.[seg] : undefined;
      continue;
    }
    const prop: JsonNode | undefined = node.type === "object"
      ? node.children?.find((p) =>
        String(p.children?.[0]?.value ?? "").toLowerCase() === seg.toLowerCase()
      )
      : undefined;
    node = prop?.children?.[1];
  }
  return node;
}

/** A path as problems write it. */
export function pathText(path: readonly PathSegment[]): string {
  return formatPath(path);
}

/** Pretty JSON (2 spaces, trailing newline), as `gru config export` writes. */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

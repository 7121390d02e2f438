/**
 * Reading a request: its JSON body, a command in it, whether its content type may go on, the
 * token it presents and the caller's address.
 *
 * @module
 */

import type { Context } from "hono";
import { ValidationError } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";
import type { AgentCommand } from "../domain/commands.ts";
import { JSON_CONTENT_TYPE, TOKEN_HEADER } from "./protocol.ts";

/** Reads a JSON body, turning bad JSON into a `ValidationError` that quotes a short excerpt. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    // The parser's message may quote the input at length: keep only where it stopped.
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message)?.[1];
    const reason = at !== undefined ? `at position ${at}` : message.includes('"') ? "" : message;
    throw new ValidationError(
      `Request body is not JSON${reason ? ` (${reason})` : ""}: it starts with ${excerpt(text)}`,
    );
  }
}

/** Reads a command (docs/compat.md#keep-commands) with keys in any letter case. */
export function toCommand(body: unknown): AgentCommand {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError(
      `Expected a command object {"Name", "Target", "Object"}, found ${excerpt(body)}`,
    );
  }
  const lower = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const name = lower.get("name");
  const target = lower.get("target");
  if (typeof name !== "string" || typeof target !== "string") {
    throw new ValidationError(
      `Expected string "Name" and "Target" in the command, found ${excerpt(body)}`,
    );
  }
  return { name, target, object: lower.get("object") };
}

/**
 * Whether a POST or DELETE may go on: its body, if any, must be declared
 * `application/json` (parameters such as `charset` allowed). A request without a body may omit
 * the content type. Returns the refusal message, or undefined.
 */
export function contentTypeProblem(
  method: string,
  headers: { get(name: string): string | null },
): string | undefined {
  if (method !== "POST" && method !== "DELETE") return undefined;
  const type = headers.get("content-type");
  if (type === null || type.trim() === "") {
    const length = headers.get("content-length");
    const hasBody = headers.get("transfer-encoding") !== null ||
      (length !== null && length.trim() !== "0");
    return hasBody
      ? `${method} with a body needs content-type: application/json, found none`
      : undefined;
  }
  const media = type.split(";")[0]!.trim().toLowerCase();
  if (media === JSON_CONTENT_TYPE) return undefined;
  return `${method} needs content-type: application/json, found ${excerpt(type)} ` +
    `(text/plain and form bodies are refused: a web page can send them to any address)`;
}

export function presentedToken(c: Context): string {
  const auth = c.req.header("authorization") ?? "";
  return auth.toLowerCase().startsWith("bearer ")
    ? auth.slice(7).trim()
    : (c.req.header(TOKEN_HEADER) ?? "").trim();
}

/** The caller's address: `Deno.serve` hands its `remoteAddr`, node's server its `incoming`. */
export function remoteHost(env: unknown): string | undefined {
  const e = env as {
    remoteAddr?: { hostname?: unknown };
    incoming?: { socket?: { remoteAddress?: unknown } };
  } | undefined;
  const host = e?.remoteAddr?.hostname ?? e?.incoming?.socket?.remoteAddress;
  return typeof host === "string" ? host : undefined;
}

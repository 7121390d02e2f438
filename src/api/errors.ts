/**
 * The one place where errors become HTTP responses. Messages are made safe on the way out:
 * control characters escaped, URL credentials removed, length bounded, and at most
 * {@linkcode MAX_DETAILS} entries of `details`; each error names what was wrong and quotes at
 * most a short excerpt of the input (`excerpt` in `src/domain/excerpt.ts`).
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { GruError } from "../domain/errors.ts";
import type { ErrorBody } from "./protocol.ts";
import { escapeControl } from "../domain/excerpt.ts";
import { redactUrl } from "./redact.ts";

/** Longest message an error response carries. */
export const MAX_MESSAGE = 600;
/** Most entries of an error's `details` list in a response. */
export const MAX_DETAILS = 20;

function safeMessage(message: string): string {
  const clean = escapeControl(redactUrl(message));
  return clean.length > MAX_MESSAGE ? clean.slice(0, MAX_MESSAGE) + "…" : clean;
}

function safeDetails(details: unknown): unknown {
  return Array.isArray(details) && details.length > MAX_DETAILS
    ? details.slice(0, MAX_DETAILS)
    : details;
}

const STATUS: Record<string, 400 | 401 | 404 | 409 | 500 | 503> = {
  validation: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

/** JSON error response for any thrown value. */
export function errorResponse(err: unknown, c: Context): Response {
  if (err instanceof HTTPException) {
    const body: ErrorBody = {
      error: { code: err.status === 413 ? "too_large" : "http", message: safeMessage(err.message) },
    };
    return c.json(body, err.status);
  }
  if (err instanceof GruError) {
    const body: ErrorBody = {
      error: {
        code: err.code,
        message: safeMessage(err.message),
        ...(err.details !== undefined ? { details: safeDetails(err.details) } : {}),
      },
    };
    return c.json(body, STATUS[err.code] ?? 500);
  }
  const message = err instanceof Error ? err.message : String(err);
  return c.json(
    { error: { code: "internal", message: safeMessage(message) } } satisfies ErrorBody,
    500,
  );
}

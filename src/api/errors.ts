/**
 * The one place where errors become HTTP responses.
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { GruError } from "../domain/errors.ts";
import type { ErrorBody } from "./protocol.ts";

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
      error: { code: err.status === 413 ? "too_large" : "http", message: err.message },
    };
    return c.json(body, err.status);
  }
  if (err instanceof GruError) {
    const body: ErrorBody = {
      error: {
        code: err.code,
        message: err.message,
        ...(err.details !== undefined ? { details: err.details } : {}),
      },
    };
    return c.json(body, STATUS[err.code] ?? 500);
  }
  const message = err instanceof Error ? err.message : String(err);
  return c.json({ error: { code: "internal", message } } satisfies ErrorBody, 500);
}

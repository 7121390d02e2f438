/**
 * Gru's error classes. Callers branch on the class (or `code`); the API maps them to HTTP
 * statuses in `api/errors.ts` and `main.ts` maps them to exit codes.
 *
 * @module
 */

/** Machine-readable error codes. */
export type GruErrorCode =
  | "validation"
  | "not_found"
  | "conflict"
  | "unavailable"
  | "unauthorized"
  | "internal";

/** Base class of every error Gru raises on purpose. */
export class GruError extends Error {
  /** Machine-readable code. */
  readonly code: GruErrorCode;
  /** Extra details, serialised by the API (for example a list of validation problems). */
  readonly details: unknown;

  /**
   * @param message Human-readable message, sentence case, no trailing period.
   * @param options Code, cause and details.
   */
  constructor(
    message: string,
    options: { code?: GruErrorCode; cause?: unknown; details?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "GruError";
    this.code = options.code ?? "internal";
    this.details = options.details;
  }
}

/** Bad input: a config document, a command, a request body. Exit 2 / HTTP 400. */
export class ValidationError extends GruError {
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { ...options, code: "validation" });
    this.name = "ValidationError";
  }
}

/** Something named does not exist. HTTP 404. */
export class NotFoundError extends GruError {
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { ...options, code: "not_found" });
    this.name = "NotFoundError";
  }
}

/** A compare failed: the thing exists already, or is held by someone else. HTTP 409. */
export class ConflictError extends GruError {
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { ...options, code: "conflict" });
    this.name = "ConflictError";
  }
}

/** A dependency (etcd, Docker, a peer) is down or timed out; retriable. HTTP 503. */
export class UnavailableError extends GruError {
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { ...options, code: "unavailable" });
    this.name = "UnavailableError";
  }
}

/** Missing or wrong cluster token. HTTP 401. */
export class UnauthorizedError extends GruError {
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { ...options, code: "unauthorized" });
    this.name = "UnauthorizedError";
  }
}

/** Returns the message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

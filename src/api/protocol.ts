/**
 * The agent's HTTP protocol: the route prefix, the token header and the error body. The command
 * shapes live in the domain (`src/domain/commands.ts`), where the agent reads them too.
 *
 * @module
 */

export type { AgentCommand, CommandResult } from "../domain/commands.ts";

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** API version prefix. */
export const API_PREFIX = "/gru/v1";

/** Header carrying the cluster token (also accepted: `Authorization: Bearer <token>`). */
export const TOKEN_HEADER = "x-gru-token";

/**
 * The one content type of POST and DELETE bodies (parameters such as `charset` allowed); any
 * other is refused with 415 `unsupported_media_type`. A request without a body may omit it.
 */
export const JSON_CONTENT_TYPE = "application/json";

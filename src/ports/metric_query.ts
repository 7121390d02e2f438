/**
 * The port through which the agent reads a metric from a Prometheus-compatible server: one
 * instant query, one number. The adapter (`src/adapters/prometheus/promql_source.ts`) owns the
 * HTTP, TLS and timeouts; the agent owns who queries, when, and what a failure means.
 *
 * @module
 */

/** One instant query, placeholders already filled in. */
export interface InstantQuery {
  /** Base URL of the query API (the request goes to `<url>/api/v1/query`). */
  url: string;
  query: string;
  /** Extra request headers (secret values). */
  headers: Readonly<Record<string, string>>;
  basicAuth?: { username: string; password: string } | undefined;
  /** Path of a PEM CA bundle for https. */
  caFile?: string | undefined;
  /** Most milliseconds the request may take. */
  timeoutMs: number;
}

/** Why a query gave no number. */
export type QueryFailure =
  /** The server answered with no series (the query matched nothing). */
  | "empty"
  /** More than one series: the query must aggregate to one. */
  | "ambiguous"
  /** The value is NaN or infinite. */
  | "not-finite"
  /** No answer within the timeout. */
  | "timeout"
  /** Connection refused, DNS, TLS, HTTP error status, or a malformed answer. */
  | "error";

/** A query's outcome: a finite number, or why there is none. Never a made-up 0. */
export type QueryResult =
  | {
    ok: true;
    value: number; /** The sample's timestamp, ms since the epoch. */
    sampleTime: number;
  }
  | { ok: false; failure: QueryFailure; /** Free of secrets. */ error: string };

/** Runs instant queries. */
export interface MetricQuerier {
  /** Never throws: every failure is a `QueryResult` with `ok: false`. */
  query(query: InstantQuery): Promise<QueryResult>;
}

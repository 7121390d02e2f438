/**
 * Instant PromQL queries against a Prometheus-compatible server (Prometheus, VictoriaMetrics,
 * Thanos, Mimir…): `GET <url>/api/v1/query?query=…`, with optional basic auth, extra headers and
 * a CA bundle for https, each bounded by a timeout.
 *
 * The answer must be one number: a scalar, or an instant vector of exactly one series. No series
 * is `empty` and several are `ambiguous` (the query must aggregate, e.g. with `sum()`); NaN and
 * infinities are `not-finite`. None of these is ever turned into 0. Error texts never carry the
 * credentials or header values.
 *
 * @module
 */

import type { InstantQuery, MetricQuerier, QueryResult } from "../../ports/metric_query.ts";

/** Longest part of a server's error text quoted in a failure. */
const QUOTED = 120;

function clip(text: string): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > QUOTED ? `${flat.slice(0, QUOTED - 1)}…` : flat;
}

function fail(failure: Exclude<QueryResult, { ok: true }>["failure"], error: string): QueryResult {
  return { ok: false, failure, error };
}

/** A sample `[seconds, "value"]` as a result, or a failure. */
function sample(pair: unknown): QueryResult {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== "string") {
    return fail("error", "malformed sample in the answer");
  }
  const value = Number(pair[1]);
  const seconds = Number(pair[0]);
  if (!Number.isFinite(value)) return fail("not-finite", `the value is ${clip(pair[1])}`);
  return { ok: true, value, sampleTime: Number.isFinite(seconds) ? seconds * 1000 : 0 };
}

/**
 * Reads a `/api/v1/query` answer body (already decoded JSON).
 *
 * @param body The decoded answer.
 * @returns The one number it holds, or why there is none.
 */
export function readQueryAnswer(body: unknown): QueryResult {
  const b = body as { status?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (typeof b !== "object" || b === null || b.status !== "success" || !b.data) {
    return fail("error", "the answer is not a successful query result");
  }
  const { resultType, result } = b.data;
  if (resultType === "scalar") return sample(result);
  if (resultType !== "vector" || !Array.isArray(result)) {
    return fail("error", `expected an instant vector or a scalar, got ${clip(String(resultType))}`);
  }
  if (result.length === 0) return fail("empty", "no series matched the query");
  if (result.length > 1) {
    return fail(
      "ambiguous",
      `${result.length} series matched; the query must return one (aggregate it, e.g. sum(…))`,
    );
  }
  return sample((result[0] as { value?: unknown }).value);
}

/** The Prometheus querier over `fetch`. */
export class PromqlQuerier implements MetricQuerier {
  #clients = new Map<string, Promise<Deno.HttpClient>>();
  #readFile: (path: string) => Promise<string>;

  /** @param readFile How a CA file is read (tests pass a fake). */
  constructor(readFile: (path: string) => Promise<string> = Deno.readTextFile) {
    this.#readFile = readFile;
  }

  async query(q: InstantQuery): Promise<QueryResult> {
    const target = `${q.url.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(q.query)}`;
    const headers = new Headers({ accept: "application/json" });
    for (const [name, value] of Object.entries(q.headers)) headers.set(name, value);
    if (q.basicAuth) {
      const token = btoa(
        String.fromCharCode(
          ...new TextEncoder().encode(`${q.basicAuth.username}:${q.basicAuth.password}`),
        ),
      );
      headers.set("authorization", `Basic ${token}`);
    }
    const signal = AbortSignal.timeout(Math.max(1, q.timeoutMs));
    try {
      const client = q.caFile ? await this.#client(q.caFile) : undefined;
      const response = await fetch(target, { headers, signal, ...(client ? { client } : {}) });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return fail("error", `HTTP ${response.status}: the answer is not JSON`);
      }
      if (!response.ok) {
        const why = (body as { error?: unknown })?.error;
        return fail(
          "error",
          `HTTP ${response.status}${typeof why === "string" ? `: ${clip(why)}` : ""}`,
        );
      }
      return readQueryAnswer(body);
    } catch (err) {
      if (signal.aborted) return fail("timeout", `no answer within ${q.timeoutMs} ms`);
      return fail("error", clip(err instanceof Error ? err.message : String(err)));
    }
  }

  /** Closes the TLS clients. */
  close(): void {
    for (const c of this.#clients.values()) c.then((client) => client.close(), () => {});
    this.#clients.clear();
  }

  #client(caFile: string): Promise<Deno.HttpClient> {
    let client = this.#clients.get(caFile);
    if (!client) {
      client = this.#readFile(caFile).then((ca) => Deno.createHttpClient({ caCerts: [ca] }));
      client.catch(() => this.#clients.delete(caFile));
      this.#clients.set(caFile, client);
    }
    return client;
  }
}

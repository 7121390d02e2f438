/**
 * What the console's routes share: its dependencies (the cluster store, agent clients sending a
 * cluster's token, the login settings), the HTTP error every route throws for bad input, and
 * which clusters a caller may see (every cluster on loopback or with the console password; with a
 * cluster token, the clusters that token opens, re-read every few seconds so a rotated-out token
 * stops working).
 *
 * @module
 */

import type { ClusterStore } from "../../cluster/cluster_store.ts";
import type { AgentClient } from "../../api/client.ts";
import { tokenRetrying } from "../../cli/token_retry.ts";
import type { Context } from "hono";
import { sameSecret, type Session } from "./auth.ts";

/** The part of an agent client the console uses (`AgentClient` fits). */
export type ConsoleAgent = Pick<AgentClient, "get" | "command">;

/** What the console server is built from. */
export interface ConsoleDeps {
  store: ClusterStore;
  /** An agent client sending `token` (cached per token by the caller). */
  agents: (token: string | undefined) => ConsoleAgent;
  /** The cluster shown first (`--cluster`). */
  defaultCluster?: string | undefined;
  /** Loopback: no login. Otherwise every `/api` route but session and login needs one. */
  loopback: boolean;
  /** Whether the console serves HTTPS (its own origin's scheme). */
  https: boolean;
  /** The console password (`--password-file`), accepted at login besides cluster tokens. */
  password?: string | undefined;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Random bytes. @default crypto.getRandomValues */
  random?: (bytes: number) => Uint8Array;
  /** Aborted when the console stops: open event streams end. */
  signal?: AbortSignal | undefined;
  /** Called after each overview and history is built (the console's throttled collection). */
  collect?: (() => void) | undefined;
}

/** A refused request: its status and what was expected (never a secret). */
export class HttpError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;
  constructor(status: HttpError["status"], message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

/** How long cluster names and tokens are reused before etcd is read again. */
const CACHE_MS = 5000;

/** Cluster names and their tokens, read from the store at most every few seconds. */
export class ClusterAccess {
  #store: ClusterStore;
  #now: () => number;
  #names: { at: number; names: Promise<string[]> } | undefined;
  #tokens = new Map<string, { at: number; tokens: Promise<string[]> }>();

  constructor(store: ClusterStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** Every cluster, by name. */
  names(): Promise<string[]> {
    const now = this.#now();
    if (!this.#names || now - this.#names.at > CACHE_MS) {
      const names = this.#store.listClusters().then((l) => l.map((c) => c.name).sort());
      names.catch(() => this.#names = undefined);
      this.#names = { at: now, names };
    }
    return this.#names.names;
  }

  /** The tokens a cluster accepts now: the current one, and the previous one in its grace. */
  tokens(cluster: string): Promise<string[]> {
    const now = this.#now();
    const hit = this.#tokens.get(cluster);
    if (hit && now - hit.at <= CACHE_MS) return hit.tokens;
    const tokens = this.#store.readTokens(cluster).then((t) => [
      ...(t.current ? [t.current] : []),
      ...(t.previous && t.previous.until > this.#now() ? [t.previous.token] : []),
    ]);
    tokens.catch(() => this.#tokens.delete(cluster));
    if (this.#tokens.size > 1000) this.#tokens.clear();
    this.#tokens.set(cluster, { at: now, tokens });
    return tokens;
  }

  /** Forgets what was read (after a change the console made). */
  forget(): void {
    this.#names = undefined;
    this.#tokens.clear();
  }

  /**
   * The clusters a caller may see: all of them without login or with the password; with a token,
   * those that accept it.
   */
  async visible(session: Session | "open"): Promise<string[]> {
    const names = await this.names();
    if (session === "open" || session.user === "password") return names;
    const token = session.token ?? "";
    const ok = await Promise.all(
      names.map(async (n) => (await this.tokens(n)).some((t) => sameSecret(t, token))),
    );
    return names.filter((_, i) => ok[i]);
  }
}

/**
 * The default cluster of a caller: `--cluster` when visible, else the only or first visible one.
 *
 * @param visible The clusters the caller may see.
 * @param preferred `--cluster`.
 * @returns The cluster, or null when none is visible.
 */
export function defaultClusterOf(visible: readonly string[], preferred?: string): string | null {
  if (preferred !== undefined && visible.includes(preferred)) return preferred;
  return visible[0] ?? null;
}

/**
 * The cluster a request names (`?cluster=`), checked against what the caller may see.
 *
 * @param route The route, for the error.
 * @param asked The query value, if any.
 * @param visible The clusters the caller may see.
 * @param all Every cluster (to tell unknown from not allowed).
 * @param preferred `--cluster`.
 * @returns The cluster name.
 * @throws {HttpError} 404 unknown, 403 not allowed, 404 when there is no cluster at all.
 */
export function pickCluster(
  route: string,
  asked: string | undefined,
  visible: readonly string[],
  all: readonly string[],
  preferred?: string,
): string {
  if (asked === undefined || asked === "") {
    const d = defaultClusterOf(visible, preferred);
    if (d === null) {
      throw new HttpError(404, `${route}: expected a cluster, found none (create one: gru create)`);
    }
    return d;
  }
  if (visible.includes(asked)) return asked;
  if (!all.includes(asked)) {
    throw new HttpError(404, `${route}: expected cluster to name a cluster; no such cluster`);
  }
  throw new HttpError(403, `${route}: this login does not open that cluster`);
}

/**
 * Runs agent requests for a cluster with its token (read again once when an agent answers 401).
 *
 * @param deps The console's dependencies.
 * @param cluster The cluster.
 * @returns `run(op)`, giving `op` the client to use.
 */
export async function clusterAgents(
  deps: Pick<ConsoleDeps, "store" | "agents">,
  cluster: string,
): Promise<<T>(op: (agent: ConsoleAgent) => Promise<T>) => Promise<T>> {
  return tokenRetrying({
    token: await deps.store.token(cluster),
    read: () => deps.store.token(cluster),
    client: deps.agents,
  });
}

/**
 * Reads a request's JSON body without ever quoting it (a login body holds a secret).
 *
 * @param c The request context.
 * @param route The route, for the error.
 * @returns The decoded body, undefined when empty.
 * @throws {HttpError} 400 when it does not parse.
 */
export async function readJson(c: Context, route: string): Promise<unknown> {
  const text = await c.req.text();
  try {
    return text.trim() === "" ? undefined : JSON.parse(text);
  } catch {
    throw new HttpError(400, `${route}: expected a JSON body; it does not parse`);
  }
}

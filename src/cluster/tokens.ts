/**
 * The cluster's API tokens over the key-value store: the current token at `/gru/<cluster>/token`
 * and, while a rotation's grace lasts, the previous one at `/gru/<cluster>/token-previous`
 * (JSON `{"token": "…", "until": "<ISO 8601>"}`). Reading both in one go, rotating in one
 * transaction, and making new tokens. `ClusterStore` delegates its token operations here.
 *
 * @module
 */

import type { KvCompare, KvOp, KvStore } from "../ports/kv_store.ts";
import { ConflictError, ValidationError } from "../domain/errors.ts";
import { assertName, clusterKeys } from "./keys.ts";

/** The cluster's tokens as stored (see {@linkcode readClusterTokens}). */
export interface ClusterTokens {
  /** `/gru/<cluster>/token`; undefined when the key does not exist. */
  current: string | undefined;
  /** The token before the last rotation and when it stops being accepted (ms since epoch). */
  previous?: { token: string; until: number } | undefined;
  /** Why `token-previous` was ignored, when it is malformed. */
  problem?: string | undefined;
}

/** Options of {@linkcode rotateClusterToken}. */
export interface TokenRotation {
  /** The new token (see {@linkcode isUsableToken}). */
  token: string;
  /** How long the old token stays accepted, in seconds; 0 or less drops it at once. */
  graceSeconds: number;
  /** The current time, in ms since epoch. */
  now: number;
}

/** Whether `token` can be a cluster token: 1 to 512 printable ASCII characters, no space. */
export function isUsableToken(token: string): boolean {
  return /^[\x21-\x7e]{1,512}$/.test(token);
}

/** A new cluster token: 256 random bits as 64 lowercase hex characters. */
export function newClusterToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function parsePreviousToken(raw: string): { token: string; until: number } | undefined {
  try {
    const v = JSON.parse(raw) as { token?: unknown; until?: unknown };
    if (typeof v?.token !== "string" || !isUsableToken(v.token)) return undefined;
    const until = typeof v.until === "string" ? Date.parse(v.until) : NaN;
    return Number.isFinite(until) ? { token: v.token, until } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cluster's tokens in one read: the current one (undefined when the key is absent, as in
 * a cluster the original Gru created) and the previous one while a rotation's grace lasts. A
 * malformed `token-previous` is reported in `problem`, never thrown. Throws
 * `UnavailableError` (or the store's error) when the keys cannot be read.
 */
export async function readClusterTokens(kv: KvStore, cluster: string): Promise<ClusterTokens> {
  const k = clusterKeys(cluster);
  const entries = await kv.getPrefix(k.token);
  const current = entries.find((e) => e.key === k.token)?.value;
  const raw = entries.find((e) => e.key === k.tokenPrevious)?.value;
  const out: ClusterTokens = { current };
  if (raw === undefined) return out;
  const previous = parsePreviousToken(raw);
  if (previous) out.previous = previous;
  else out.problem = `${k.tokenPrevious} is not {"token": string, "until": ISO time}: ignored`;
  return out;
}

/**
 * Replaces the cluster token with `options.token` in one transaction. The old token (if there
 * was one) stays accepted until `now + graceSeconds` through `token-previous`; with no grace, or
 * no old token, `token-previous` is deleted. `requireCluster` gives the cluster's uuid once the
 * arguments are checked, and throws `NotFoundError` when the cluster does not exist. Throws
 * `ConflictError` when another rotation won the race (nothing is written then).
 */
export async function rotateClusterToken(
  kv: KvStore,
  cluster: string,
  options: TokenRotation,
  requireCluster: () => Promise<string>,
): Promise<{ previousUntil: number | undefined }> {
  assertName("cluster", cluster);
  if (!isUsableToken(options.token)) {
    throw new ValidationError("A cluster token must be 1 to 512 printable ASCII characters");
  }
  const k = clusterKeys(cluster);
  const uuid = await requireCluster();
  const old = await kv.get(k.token);
  const keep = old !== undefined && isUsableToken(old) && options.graceSeconds > 0;
  const previousUntil = keep ? options.now + options.graceSeconds * 1000 : undefined;
  const ops: KvOp[] = [{ put: k.token, value: options.token }];
  if (keep) {
    ops.push({
      put: k.tokenPrevious,
      value: JSON.stringify({ token: old, until: new Date(previousUntil!).toISOString() }),
    });
  } else {
    ops.push({ delete: k.tokenPrevious });
  }
  const compares: KvCompare[] = [
    { key: k.uuid, value: uuid },
    old === undefined ? { key: k.token, exists: false } : { key: k.token, value: old },
  ];
  if (!await kv.txn(compares, ops)) {
    throw new ConflictError(
      `The token of cluster "${cluster}" changed during the rotation: nothing was written, retry`,
    );
  }
  return { previousUntil };
}

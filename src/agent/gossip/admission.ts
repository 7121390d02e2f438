/**
 * What a receiver checks before merging gossip entries. An entry is dropped (and counted, by
 * reason) when:
 *
 * - its origin has no public key in the etcd membership (`unknown_origin`): only live, keyed
 *   members are ever held, so a flood of made-up origins costs a map lookup each;
 * - its version (`future_version`), its `time` (`future_time`) or one of its ledger actions
 *   (`future_action`) lies beyond now + the allowed clock skew: versions are ms timestamps,
 *   and a far-future version or action would freeze its origin out of every view or block
 *   scaling through the cluster cooldown;
 * - its canonical JSON is over the per-entry size limit (`too_large`);
 * - it carries no signature (`unsigned`) or one that is not its origin's signature of it
 *   (`bad_signature`): an entry for node B signed with A's key, or altered on the way, is
 *   forged.
 *
 * Entries the view would ignore anyway (not newer than what it holds) are skipped before the
 * costly checks, neither accepted nor counted. Pure apart from WebCrypto.
 *
 * @module
 */

import type { GossipRejection } from "../../ports/telemetry.ts";
import { canonicalShare, type ShareVerifier } from "./signing.ts";
import type { NodeShare } from "./types.ts";
import type { GossipView } from "./view.ts";

/** What admission needs. */
export interface AdmissionOptions {
  verifier: ShareVerifier;
  /** The origin's public key (base64url), from its etcd node record; undefined: unknown. */
  publicKeyOf: (origin: string) => string | undefined;
  /** How far ahead of this node's clock a version, time or action may be, ms. */
  maxSkewMs: number;
  /** Bytes of an entry's canonical JSON at most. */
  maxEntryBytes: number;
}

/** The outcome of admitting a batch. */
export interface Admitted {
  /** Entries to merge, in input order. */
  accepted: NodeShare[];
  /** Dropped entries by reason. */
  rejected: Partial<Record<GossipRejection, number>>;
  /** A few dropped origins with their reason, for a debug log (at most 5). */
  samples: { origin: string; reason: GossipRejection }[];
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The cheap checks (no signature): a reason to drop, or undefined. */
export function precheck(
  entry: NodeShare,
  now: number,
  options: Pick<AdmissionOptions, "maxSkewMs">,
): GossipRejection | undefined {
  const limit = now + options.maxSkewMs;
  if (entry.version > limit) return "future_version";
  if (entry.time > limit) return "future_time";
  if (entry.actions.some((a) => a.time > limit)) return "future_action";
  if (entry.sig === undefined) return "unsigned";
  return undefined;
}

/**
 * Checks received entries before they are merged into `view`.
 *
 * @param view The receiver's view (read only: what it would accept).
 * @param entries Schema-checked entries from a peer.
 * @param now The receiver's clock, ms.
 * @param options Keys, verifier, skew and size limit.
 */
export async function admit(
  view: GossipView,
  entries: readonly NodeShare[],
  now: number,
  options: AdmissionOptions,
): Promise<Admitted> {
  const rejected: Partial<Record<GossipRejection, number>> = {};
  const samples: Admitted["samples"] = [];
  const drop = (origin: string, reason: GossipRejection) => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    if (samples.length < 5) samples.push({ origin, reason });
  };
  const checks: { entry: NodeShare; ok: Promise<boolean> }[] = [];
  for (const entry of entries) {
    const key = options.publicKeyOf(entry.origin);
    if (key === undefined) {
      drop(entry.origin, "unknown_origin");
      continue;
    }
    if (!view.wouldAccept(entry, now)) continue;
    const reason = precheck(entry, now, options);
    if (reason !== undefined) {
      drop(entry.origin, reason);
      continue;
    }
    const canonical = canonicalShare(entry);
    if (canonical.length > options.maxEntryBytes || utf8Length(canonical) > options.maxEntryBytes) {
      drop(entry.origin, "too_large");
      continue;
    }
    checks.push({ entry, ok: options.verifier.verify(entry, key, canonical) });
  }
  const accepted: NodeShare[] = [];
  for (const { entry, ok } of checks) {
    if (await ok) accepted.push(entry);
    else drop(entry.origin, "bad_signature");
  }
  return { accepted, rejected, samples };
}

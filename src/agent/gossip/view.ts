/**
 * One agent's view of the cluster: the newest share it knows of every origin (its own
 * included), merged from gossip. Pure: the caller passes `now` (its own clock, ms).
 *
 * Rules (fixing the original's pull-only gossip, which had no versions or ages:
 * docs/compat.md#d37):
 *
 * - **Newest version wins.** Per origin, an entry replaces the held one only if its version is
 *   higher; a tie keeps the held one. Versions only ever grow, so merging is idempotent,
 *   commutative and associative: every view converges on the same entries.
 * - **Versions survive restarts.** `publish` uses max(previous version + 1, the share's `time`):
 *   strictly increasing, and a restarted agent (whose counter starts afresh) still outranks its
 *   previous life, and any tombstone of it, at once, as long as its clock has moved forward.
 * - **Self is authoritative.** Entries claiming to come from this node are never merged; a
 *   higher version of them (a previous life of this node, with a clock that was ahead) only
 *   raises the version the next `publish` uses, so the new life's shares win everywhere (unless
 *   it is more than a day ahead of this node's clock: then it is corrupt and ignored).
 * - **Ages are by receive time.** Clocks differ between nodes, so an entry's age is measured
 *   from when this node accepted it (`receivedAt`), not from the origin's `time`. An entry not
 *   replaced by a newer version within `maxAgeMs` is dropped by `expire`; so is an entry whose
 *   origin has left the etcd membership.
 * - **No resurrection.** A dropped entry leaves a tombstone (origin and version) for another
 *   `maxAgeMs`: peers still holding the same or an older version cannot gossip it back. A newer
 *   version (the origin is alive after all) is accepted at once.
 * - **Bounded.** At most `maxOrigins` other origins are held, and as many tombstones: a new
 *   origin beyond that is refused (counted in `merge`'s `refused`), the oldest tombstone goes.
 *   Receivers admit only entries of live, keyed members (see admission.ts), so the cap is a
 *   backstop.
 * - **Nothing is filtered by service.** Services this node does not know are kept (the original
 *   dropped them on merge); consumers ignore what they do not configure.
 *
 * Entries are stored as given and must not be mutated afterwards.
 *
 * @module
 */

import type { NodeShare } from "./types.ts";

/** Options of a `GossipView`. */
export interface GossipViewOptions {
  /** This node's name. */
  self: string;
  /** How long an entry lives without being replaced by a newer version, ms (> 0). */
  maxAgeMs: number;
  /** Other origins held at most, and tombstones at most. @default 1024 */
  maxOrigins?: number;
}

/** How far (ms) a version of self seen in gossip may be ahead of this node's clock. */
const SELF_VERSION_SLACK = 86_400_000;

interface Held {
  share: NodeShare;
  receivedAt: number;
}

/** The newest share of every origin this node has heard of. */
export class GossipView {
  readonly #self: string;
  readonly #maxAgeMs: number;
  readonly #maxOrigins: number;
  #own: Held | undefined;
  /** The version the next publish must exceed. */
  #floor = 0;
  readonly #others = new Map<string, Held>();
  readonly #tombstones = new Map<string, { version: number; until: number }>();

  /**
   * @param options This node's name and the maximum age.
   * @throws {RangeError} when `maxAgeMs` is not a positive number.
   */
  constructor(options: GossipViewOptions) {
    if (!(options.maxAgeMs > 0)) throw new RangeError("maxAgeMs must be > 0");
    this.#self = options.self;
    this.#maxAgeMs = options.maxAgeMs;
    this.#maxOrigins = options.maxOrigins ?? 1024;
    if (!(this.#maxOrigins >= 1)) throw new RangeError("maxOrigins must be >= 1");
  }

  /** This node's name. */
  get self(): string {
    return this.#self;
  }

  /**
   * Publishes this node's share under a new version.
   *
   * @param local The share without origin and version; `time` is this node's clock, ms.
   * @returns The stored share: origin = self, version = max(previous + 1, `time`), unsigned
   *   (see `attachSignature`).
   */
  publish(local: Omit<NodeShare, "origin" | "version">): NodeShare {
    const version = Math.max(this.#floor + 1, Math.floor(local.time));
    this.#floor = version;
    const { sig: _sig, ...unsigned } = local;
    const share: NodeShare = { ...unsigned, origin: this.#self, version };
    this.#own = { share, receivedAt: local.time };
    return share;
  }

  /**
   * Attaches this node's signature to its published share, if that share is still `version`
   * (a newer publish makes the signature moot).
   *
   * @returns Whether it was attached.
   */
  attachSignature(version: number, sig: string): boolean {
    const own = this.#own;
    if (own === undefined || own.share.version !== version) return false;
    this.#own = { share: { ...own.share, sig }, receivedAt: own.receivedAt };
    return true;
  }

  /**
   * Whether `merge` would take `entry` now: a newer version than held and than any live
   * tombstone (for self: above the version floor). Lets a receiver skip checking the
   * signature of entries it would ignore anyway.
   */
  wouldAccept(entry: Pick<NodeShare, "origin" | "version">, now: number): boolean {
    if (entry.origin === this.#self) return entry.version > this.#floor;
    const tomb = this.#tombstones.get(entry.origin);
    if (tomb !== undefined && entry.version <= tomb.version && now <= tomb.until) return false;
    const held = this.#others.get(entry.origin);
    return held === undefined || entry.version > held.share.version;
  }

  /**
   * Merges received entries: per origin the higher version wins, a tie keeps the held entry.
   * Entries of this node and tombstoned versions are ignored.
   *
   * @param entries Shares received from a peer (already validated).
   * @param now This node's clock, ms; becomes the accepted entries' receive time.
   * @returns The origins whose entry was added or replaced, each once, in input order, and how
   *   many entries of new origins were refused because `maxOrigins` are held already.
   */
  merge(entries: readonly NodeShare[], now: number): { updated: string[]; refused: number } {
    const updated = new Set<string>();
    let refused = 0;
    for (const entry of entries) {
      if (entry.origin === this.#self) {
        // A previous life's version; one absurdly far ahead is corrupt and would push this
        // node's versions out of the safe-integer range, so it is ignored.
        if (entry.version <= Math.max(this.#floor, now) + SELF_VERSION_SLACK) {
          this.#floor = Math.max(this.#floor, entry.version);
        }
        continue;
      }
      const tomb = this.#tombstones.get(entry.origin);
      if (tomb !== undefined) {
        if (entry.version <= tomb.version && now <= tomb.until) continue;
        this.#tombstones.delete(entry.origin);
      }
      const held = this.#others.get(entry.origin);
      if (held !== undefined && entry.version <= held.share.version) continue;
      if (held === undefined && this.#others.size >= this.#maxOrigins) {
        refused++;
        continue;
      }
      this.#others.set(entry.origin, { share: entry, receivedAt: now });
      updated.add(entry.origin);
    }
    return { updated: [...updated], refused };
  }

  /**
   * Drops entries whose origin is not a member any more, or that were not replaced by a newer
   * version within `maxAgeMs`; forgets tombstones older than `maxAgeMs`. Never drops self.
   *
   * @param now This node's clock, ms.
   * @param live The etcd membership (node names); undefined = do not filter by membership.
   * @returns The removed origins.
   */
  expire(now: number, live: ReadonlySet<string> | undefined): string[] {
    const removed: string[] = [];
    for (const [origin, held] of this.#others) {
      const gone = live !== undefined && !live.has(origin);
      if (gone || now - held.receivedAt > this.#maxAgeMs) {
        this.#others.delete(origin);
        this.#tombstones.delete(origin);
        this.#tombstones.set(origin, { version: held.share.version, until: now + this.#maxAgeMs });
        removed.push(origin);
      }
    }
    for (const [origin, tomb] of this.#tombstones) {
      if (now > tomb.until) this.#tombstones.delete(origin);
    }
    // Oldest first (insertion order): the cap drops the tombstones closest to expiry.
    for (const origin of this.#tombstones.keys()) {
      if (this.#tombstones.size <= this.#maxOrigins) break;
      this.#tombstones.delete(origin);
    }
    return removed;
  }

  /** Every held share, this node's first if published. */
  entries(): NodeShare[] {
    const out: NodeShare[] = [];
    if (this.#own !== undefined) out.push(this.#own.share);
    for (const held of this.#others.values()) out.push(held.share);
    return out;
  }

  /**
   * The shares accepted (or published, for self) at or after `since`: the recent changes a
   * request pushes to a peer.
   *
   * @param since This node's clock, ms.
   */
  changedSince(since: number): NodeShare[] {
    const out: NodeShare[] = [];
    if (this.#own !== undefined && this.#own.receivedAt >= since) out.push(this.#own.share);
    for (const held of this.#others.values()) {
      if (held.receivedAt >= since) out.push(held.share);
    }
    return out;
  }

  /** The version held of every origin (this node's included): what a request's digest says. */
  digest(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const share of this.entries()) out[share.origin] = share.version;
    return out;
  }

  /**
   * The shares newer than a peer's digest: those whose origin is missing from it or whose
   * version is higher.
   *
   * @param digest The peer's versions by origin.
   */
  newerThan(digest: Readonly<Record<string, number>>): NodeShare[] {
    return this.entries().filter((share) => {
      const known = Object.hasOwn(digest, share.origin) ? digest[share.origin] : undefined;
      return known === undefined || share.version > known;
    });
  }

  /** The share held of `origin` (self included), if any. */
  get(origin: string): NodeShare | undefined {
    if (origin === this.#self) return this.#own?.share;
    return this.#others.get(origin)?.share;
  }

  /** When the share of `origin` was accepted (this node's clock), if held. */
  receivedAt(origin: string): number | undefined {
    if (origin === this.#self) return this.#own?.receivedAt;
    return this.#others.get(origin)?.receivedAt;
  }

  /** The origins held, this node's first if published. */
  origins(): string[] {
    const out: string[] = this.#own === undefined ? [] : [this.#self];
    for (const origin of this.#others.keys()) out.push(origin);
    return out;
  }

  /** How many tombstones are held. */
  get tombstones(): number {
    return this.#tombstones.size;
  }

  /** How many origins are held (this node's included once published). */
  get size(): number {
    return this.#others.size + (this.#own === undefined ? 0 : 1);
  }
}

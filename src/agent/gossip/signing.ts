/**
 * Signed gossip: every node signs its own share (Ed25519, WebCrypto) and receivers verify it
 * with the origin's public key, published in the origin's etcd node record
 * (`/gru/<cluster>/nodes/<node>/config`, field `publicKey`). A token holder can then no longer
 * speak for another node.
 *
 * **What is signed.** The UTF-8 bytes of
 *
 * ```text
 * gru-gossip-v1\n<cluster>\n<canonical JSON of the share without its sig>
 * ```
 *
 * where the canonical JSON is `JSON.stringify` of the share with every object's keys sorted
 * (by UTF-16 code units, as `Array.prototype.sort` does), arrays in their order, and no
 * whitespace. Numbers and strings are written as `JSON.stringify` writes them, which is
 * deterministic. The cluster name is part of the signed bytes, so a share cannot be replayed
 * into another cluster.
 *
 * **Keys.** Public keys travel as base64url (no padding) of the raw 32 bytes; a signature as
 * base64url of its 64 bytes (86 characters). The private key is kept in the node identity file
 * as the JWK `d` member (base64url of the 32-byte seed) and never leaves the node.
 *
 * @module
 */

import type { NodeShare } from "./types.ts";

/** Domain separation: the first line of every signed message. */
const CONTEXT = "gru-gossip-v1";

/** A node's key pair as stored in its identity file (base64url, no padding). */
export interface SigningKeyPair {
  /** The raw 32-byte Ed25519 public key. */
  publicKey: string;
  /** The 32-byte Ed25519 private seed (JWK `d`). Secret: never logged or sent. */
  privateKey: string;
}

const BASE64URL_32 = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL_64 = /^[A-Za-z0-9_-]{86}$/;

/** Whether `s` looks like a base64url Ed25519 public key (32 bytes). */
export function isPublicKey(s: unknown): s is string {
  return typeof s === "string" && BASE64URL_32.test(s);
}

/** Whether `s` looks like a base64url Ed25519 signature (64 bytes). */
export function isSignature(s: unknown): s is string {
  return typeof s === "string" && BASE64URL_64.test(s);
}

/** base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes base64url (padding optional). */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A fresh Ed25519 key pair, exported for the identity file. */
export async function generateSigningKey(): Promise<SigningKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  if (typeof jwk.d !== "string" || typeof jwk.x !== "string") {
    throw new Error("Ed25519 key export gave no private or public part");
  }
  return { publicKey: jwk.x, privateKey: jwk.d };
}

function canonicalValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalValue).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${canonicalValue(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The canonical JSON of a share, its `sig` left out: sorted keys, no whitespace, absent
 * (undefined) members skipped.
 */
export function canonicalShare(share: NodeShare): string {
  const { sig: _sig, ...unsigned } = share;
  return canonicalValue(unsigned);
}

/** The bytes an origin signs for `share` in `cluster`. */
export function signedBytes(cluster: string, canonical: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${CONTEXT}\n${cluster}\n${canonical}`);
}

/** Signs this node's shares. Holds a non-extractable private key. */
export class ShareSigner {
  readonly publicKey: string;
  readonly #key: CryptoKey;
  readonly #cluster: string;

  private constructor(cluster: string, publicKey: string, key: CryptoKey) {
    this.#cluster = cluster;
    this.publicKey = publicKey;
    this.#key = key;
  }

  /**
   * Imports a stored key pair.
   *
   * @throws {Error} when the key is malformed (the message never quotes it).
   */
  static async create(cluster: string, pair: SigningKeyPair): Promise<ShareSigner> {
    if (!isPublicKey(pair.publicKey) || !BASE64URL_32.test(pair.privateKey)) {
      throw new Error("Signing key: expected base64url Ed25519 public and private keys");
    }
    const key = await crypto.subtle.importKey(
      "jwk",
      { kty: "OKP", crv: "Ed25519", x: pair.publicKey, d: pair.privateKey },
      { name: "Ed25519" },
      false,
      ["sign"],
    );
    return new ShareSigner(cluster, pair.publicKey, key);
  }

  /** The signature of `share` (its `sig`, if any, is ignored): base64url, 86 characters. */
  async sign(share: NodeShare): Promise<string> {
    const bytes = signedBytes(this.#cluster, canonicalShare(share));
    return toBase64Url(new Uint8Array(await crypto.subtle.sign("Ed25519", this.#key, bytes)));
  }
}

interface Verified {
  version: number;
  sig: string;
  publicKey: string;
  canonical: string;
  ok: Promise<boolean>;
}

/**
 * Verifies shares against their origin's public key. Imported keys and the last verification
 * per origin are cached (both bounded by `maxOrigins`), so the same entry arriving again (from
 * several friends in one round, or again after expiry) costs a string comparison instead of a
 * signature check. The cache binds the whole canonical content, never just (origin, version,
 * sig): a reused signature on other content is checked, and fails.
 */
export class ShareVerifier {
  readonly #cluster: string;
  readonly #maxOrigins: number;
  readonly #keys = new Map<string, { publicKey: string; key: Promise<CryptoKey | undefined> }>();
  readonly #verified = new Map<string, Verified>();
  /** Signature checks actually run (not served from the cache). */
  checks = 0;

  constructor(cluster: string, options: { maxOrigins?: number } = {}) {
    this.#cluster = cluster;
    this.#maxOrigins = options.maxOrigins ?? 4096;
  }

  #key(origin: string, publicKey: string): Promise<CryptoKey | undefined> {
    const held = this.#keys.get(origin);
    if (held?.publicKey === publicKey) return held.key;
    const key = crypto.subtle.importKey(
      "raw",
      fromBase64Url(publicKey),
      { name: "Ed25519" },
      false,
      ["verify"],
    ).catch(() => undefined);
    remember(this.#keys, origin, { publicKey, key }, this.#maxOrigins);
    return key;
  }

  /**
   * Whether `share.sig` is `share.origin`'s signature of `share`.
   *
   * @param share The received share (already schema-checked).
   * @param publicKey The origin's public key (from its node record).
   * @param canonical `canonicalShare(share)`, if the caller has it already.
   */
  verify(share: NodeShare, publicKey: string, canonical = canonicalShare(share)): Promise<boolean> {
    const sig = share.sig;
    if (!isSignature(sig) || !isPublicKey(publicKey)) return Promise.resolve(false);
    const held = this.#verified.get(share.origin);
    if (
      held !== undefined && held.version === share.version && held.sig === sig &&
      held.publicKey === publicKey && held.canonical === canonical
    ) {
      return held.ok;
    }
    this.checks++;
    const ok = this.#key(share.origin, publicKey).then(async (key) => {
      if (key === undefined) return false;
      return await crypto.subtle.verify(
        "Ed25519",
        key,
        fromBase64Url(sig),
        signedBytes(this.#cluster, canonical),
      );
    }).catch(() => false);
    remember(
      this.#verified,
      share.origin,
      { version: share.version, sig, publicKey, canonical, ok },
      this.#maxOrigins,
    );
    return ok;
  }

  /** Forgets origins that are not in `keep` (nodes that left). */
  prune(keep: ReadonlySet<string>): void {
    for (const origin of this.#keys.keys()) if (!keep.has(origin)) this.#keys.delete(origin);
    for (const origin of this.#verified.keys()) {
      if (!keep.has(origin)) this.#verified.delete(origin);
    }
  }

  /** Origins cached (for tests: stays bounded). */
  get size(): number {
    return Math.max(this.#keys.size, this.#verified.size);
  }
}

/** Sets `key` last in insertion order, evicting the oldest beyond `max`. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

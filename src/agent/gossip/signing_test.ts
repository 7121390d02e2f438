import assert from "node:assert/strict";
import {
  canonicalShare,
  fromBase64Url,
  generateSigningKey,
  isPublicKey,
  ShareSigner,
  ShareVerifier,
  toBase64Url,
} from "./signing.ts";
import type { NodeShare } from "./types.ts";

const share: NodeShare = {
  origin: "n1",
  version: 5,
  time: 4,
  active: true,
  services: {
    web: { running: 1, pending: 0, cpu_avg: 0.5, analytics: { b: 2, a: 1 }, cpuNumber: 1 },
    api: { running: 0, pending: 1, analytics: {}, cpuNumber: 0.5 },
  },
  resources: { totalCpus: 2, freeCpus: 1, totalMemory: 10, freeMemory: 5 },
  actions: [{ service: "web", action: "start", time: 3, reason: "scaleout" }],
};

Deno.test("canonicalShare sorts keys at every level, keeps array order, leaves out sig", () => {
  const text = canonicalShare({ ...share, sig: "x".repeat(86) });
  assert.equal(
    text,
    '{"actions":[{"action":"start","reason":"scaleout","service":"web","time":3}],' +
      '"active":true,"origin":"n1","resources":{"freeCpus":1,"freeMemory":5,"totalCpus":2,' +
      '"totalMemory":10},"services":{"api":{"analytics":{},"cpuNumber":0.5,"pending":1,' +
      '"running":0},"web":{"analytics":{"a":1,"b":2},"cpuNumber":1,"cpu_avg":0.5,"pending":0,' +
      '"running":1}},"time":4,"version":5}',
  );
  // Key order of the input does not matter; JSON round trips give the same text.
  const shuffled = JSON.parse(
    JSON.stringify(Object.fromEntries(Object.entries(share).reverse())),
  ) as NodeShare;
  assert.notEqual(JSON.stringify(shuffled), JSON.stringify(share));
  assert.equal(canonicalShare(shuffled), canonicalShare(share));
});

Deno.test("a share signed by its origin verifies; altered, re-signed or replayed ones do not", async () => {
  const key = await generateSigningKey();
  const other = await generateSigningKey();
  assert.ok(isPublicKey(key.publicKey));
  assert.equal(fromBase64Url(key.publicKey).length, 32);
  const signer = await ShareSigner.create("c", key);
  const sig = await signer.sign(share);
  assert.match(sig, /^[A-Za-z0-9_-]{86}$/);
  const verifier = new ShareVerifier("c");
  assert.equal(await verifier.verify({ ...share, sig }, key.publicKey), true);
  // Same (origin, version, sig), other content: the cache binds the content, so this fails.
  assert.equal(await verifier.verify({ ...share, active: false, sig }, key.publicKey), false);
  assert.equal(await verifier.verify({ ...share, sig }, other.publicKey), false);
  const foreign = await (await ShareSigner.create("c", other)).sign(share);
  assert.equal(await verifier.verify({ ...share, sig: foreign }, key.publicKey), false);
  const otherCluster = await (await ShareSigner.create("d", key)).sign(share);
  assert.equal(await verifier.verify({ ...share, sig: otherCluster }, key.publicKey), false);
  assert.equal(await verifier.verify(share, key.publicKey), false); // unsigned
  assert.equal(await verifier.verify({ ...share, sig }, "not-a-key"), false);
});

Deno.test("ShareVerifier caches the last verification per origin, bounded", async () => {
  const key = await generateSigningKey();
  const signer = await ShareSigner.create("c", key);
  const signedShare = { ...share, sig: await signer.sign(share) };
  const verifier = new ShareVerifier("c", { maxOrigins: 3 });
  for (let i = 0; i < 20; i++) assert.ok(await verifier.verify(signedShare, key.publicKey));
  assert.equal(verifier.checks, 1);
  for (let i = 0; i < 10; i++) {
    const s = { ...share, origin: `o${i}` };
    await verifier.verify({ ...s, sig: await signer.sign(s) }, key.publicKey);
  }
  assert.equal(verifier.size, 3);
  verifier.prune(new Set(["o9"]));
  assert.equal(verifier.size, 1);
});

Deno.test("ShareSigner refuses a malformed key without quoting it", async () => {
  await assert.rejects(
    () => ShareSigner.create("c", { publicKey: "short", privateKey: "secret-value" }),
    (err: Error) => !err.message.includes("secret-value") && /base64url Ed25519/.test(err.message),
  );
  assert.equal(toBase64Url(new Uint8Array([251, 255])), "-_8");
});

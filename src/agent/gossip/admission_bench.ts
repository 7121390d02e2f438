/**
 * What signed gossip costs a receiver (`deno bench src/agent/gossip/admission_bench.ts`): one
 * signature check (key import included, or key already imported), and one round's admission of 100 new entries (~650-byte shares), cold (every
 * entry verified), from the cache (the same entries again, before they were merged), and for
 * entries the view already holds (skipped before any check).
 *
 * @module
 */

import { type AdmissionOptions, admit } from "./admission.ts";
import { generateSigningKey, ShareSigner, ShareVerifier, type SigningKeyPair } from "./signing.ts";
import type { NodeShare } from "./types.ts";
import { GossipView } from "./view.ts";
import { GOSSIP_LIMITS } from "./types.ts";

const N = 100;
const NOW = 1_700_000_000_000;

function shareOf(origin: string): NodeShare {
  const services: NodeShare["services"] = {};
  for (const name of ["web", "api", "worker"]) {
    services[name] = {
      running: 2,
      pending: 0,
      cpu_avg: 0.42,
      memory_avg: 0.3,
      analytics: { rps: 120.5, latency: 0.08 },
      cpuNumber: 1,
    };
  }
  return {
    origin,
    version: NOW,
    time: NOW,
    active: true,
    services,
    resources: { totalCpus: 8, freeCpus: 2, totalMemory: 16e9, freeMemory: 8e9 },
    actions: [{ service: "web", action: "start", time: NOW - 1000, reason: "scaleout" }],
  };
}

const keys = new Map<string, SigningKeyPair>();
const entries: NodeShare[] = [];
for (let i = 0; i < N; i++) {
  const origin = `node-${i}`;
  const key = await generateSigningKey();
  keys.set(origin, key);
  const share = shareOf(origin);
  entries.push({ ...share, sig: await (await ShareSigner.create("c", key)).sign(share) });
}

function options(verifier: ShareVerifier): AdmissionOptions {
  return {
    verifier,
    publicKeyOf: (origin) => keys.get(origin)?.publicKey,
    maxSkewMs: 30_000,
    maxEntryBytes: GOSSIP_LIMITS.maxEntryBytes,
  };
}

const first = entries[0]!;
const firstKey = keys.get(first.origin)!.publicKey;

Deno.bench({
  name: "verify one entry (no cache)",
  group: "entry",
  fn: async () => {
    await new ShareVerifier("c").verify(first, firstKey);
  },
});

const versions: NodeShare[] = [];
const firstSigner = await ShareSigner.create("c", keys.get(first.origin)!);
for (let v = 1; v <= 2000; v++) {
  const share = { ...shareOf(first.origin), version: NOW - v };
  versions.push({ ...share, sig: await firstSigner.sign(share) });
}
const keyed = new ShareVerifier("c");
let at = 0;
Deno.bench({
  name: "verify one new entry (key imported)",
  group: "entry",
  baseline: true,
  fn: async () => {
    await keyed.verify(versions[at++ % versions.length]!, firstKey);
  },
});

Deno.bench({
  name: "admit a round of 100 new entries, cold",
  group: "round",
  baseline: true,
  fn: async () => {
    const view = new GossipView({ self: "me", maxAgeMs: 60_000 });
    const { accepted } = await admit(view, entries, NOW, options(new ShareVerifier("c")));
    if (accepted.length !== N) throw new Error("not all accepted");
  },
});

const warm = new ShareVerifier("c");
await admit(new GossipView({ self: "me", maxAgeMs: 60_000 }), entries, NOW, options(warm));
Deno.bench({
  name: "admit the same 100 entries again (cache hits)",
  group: "round",
  fn: async () => {
    const view = new GossipView({ self: "me", maxAgeMs: 60_000 });
    await admit(view, entries, NOW, options(warm));
  },
});

const held = new GossipView({ self: "me", maxAgeMs: 60_000 });
held.merge(entries, NOW);
Deno.bench({
  name: "admit 100 entries the view already holds (skipped)",
  group: "round",
  fn: async () => {
    await admit(held, entries, NOW, options(new ShareVerifier("c")));
  },
});

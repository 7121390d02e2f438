import assert from "node:assert/strict";
import { type Prng, seededPrng } from "../../domain/random.ts";
import { pickFriends } from "./friends.ts";

const PEERS = ["a", "b", "c", "d", "e"] as const;

function counting(prng: Prng): { prng: Prng; draws: () => number } {
  let draws = 0;
  return {
    prng: () => {
      draws++;
      return prng();
    },
    draws: () => draws,
  };
}

Deno.test("pickFriends returns min(max, n) distinct peers, with exactly that many draws", () => {
  const cases: { peers: readonly string[]; max: number; size: number }[] = [
    { peers: PEERS, max: 1, size: 1 },
    { peers: PEERS, max: 3, size: 3 },
    { peers: PEERS, max: 5, size: 5 },
    { peers: PEERS, max: 9, size: 5 },
    { peers: PEERS, max: Infinity, size: 5 },
    { peers: ["solo"], max: 3, size: 1 },
    { peers: [], max: 3, size: 0 },
  ];
  for (const c of cases) {
    for (let seed = 0; seed < 20; seed++) {
      const { prng, draws } = counting(seededPrng(seed));
      const picked = pickFriends(c.peers, c.max, prng);
      const label = `${c.peers.length} peers, max ${c.max}, seed ${seed}`;
      assert.equal(picked.length, c.size, label);
      assert.equal(new Set(picked).size, c.size, `${label}: unique`);
      for (const p of picked) assert.ok(c.peers.includes(p), label);
      assert.equal(draws(), c.size, `${label}: draws`);
    }
  }
});

Deno.test("pickFriends returns every peer when max >= n", () => {
  const picked = pickFriends(PEERS, 5, seededPrng(1));
  assert.deepEqual([...picked].sort(), [...PEERS]);
});

Deno.test("pickFriends is reproducible with a seed and leaves its input alone", () => {
  const peers = [...PEERS];
  const a = pickFriends(peers, 3, seededPrng(42));
  const b = pickFriends(peers, 3, seededPrng(42));
  assert.deepEqual(a, b);
  assert.deepEqual(peers, [...PEERS]);
  const differs = Array.from({ length: 10 }, (_, s) => pickFriends(peers, 3, seededPrng(s)))
    .some((p) => p.join() !== a.join());
  assert.ok(differs, "other seeds give other picks");
});

Deno.test("pickFriends is uniform: every peer equally likely, every pair equally likely", () => {
  const prng = seededPrng(7);
  const single = new Map<string, number>();
  const pairs = new Map<string, number>();
  const trials = 20_000;
  for (let i = 0; i < trials; i++) {
    const [one] = pickFriends(PEERS, 1, prng);
    single.set(one as string, (single.get(one as string) ?? 0) + 1);
    const pair = pickFriends(PEERS, 2, prng).sort().join();
    pairs.set(pair, (pairs.get(pair) ?? 0) + 1);
  }
  assert.equal(single.size, 5);
  for (const n of single.values()) assert.ok(Math.abs(n - trials / 5) < trials * 0.02, `${n}`);
  assert.equal(pairs.size, 10);
  for (const n of pairs.values()) assert.ok(Math.abs(n - trials / 10) < trials * 0.015, `${n}`);
});

Deno.test("pickFriends rejects max below 1 or not whole", () => {
  for (const max of [0, -1, 0.5, 1.5, Number.NaN, -Infinity]) {
    assert.throws(() => pickFriends(PEERS, max, seededPrng(1)), RangeError, String(max));
  }
});

Deno.test("pickFriends copes with a PRNG that returns its upper bound", () => {
  assert.deepEqual(pickFriends(["a", "b"], 2, () => 0.9999999999999999).length, 2);
  const almostOne: Prng = () => 1; // out of contract, but must not yield undefined
  assert.deepEqual(pickFriends(["a", "b", "c"], 3, almostOne).sort(), ["a", "b", "c"]);
});

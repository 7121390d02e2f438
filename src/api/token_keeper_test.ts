import assert from "node:assert/strict";
import { FakeClock } from "../domain/clock.ts";
import { UnavailableError } from "../domain/errors.ts";
import type { ClusterTokens } from "../cluster/tokens.ts";
import { fixedTokenAuth, TokenKeeper } from "./token_keeper.ts";

/** A store whose answer the test sets (a value, or an error to throw). */
function fakeStore(initial: ClusterTokens | Error) {
  const s = {
    answer: initial,
    reads: 0,
    read: () => {
      s.reads++;
      return s.answer instanceof Error ? Promise.reject(s.answer) : Promise.resolve(s.answer);
    },
  };
  return s;
}

Deno.test("TokenKeeper fails closed when the token key is absent, empty or unreadable", async () => {
  const clock = new FakeClock(1_000);
  const store = fakeStore({ current: undefined });
  const keeper = new TokenKeeper({ cluster: "c1", read: store.read, clock });
  assert.equal(keeper.status().ok, false, "nothing read yet");
  await keeper.refresh();
  assert.equal(keeper.accepts(""), false);
  assert.equal(keeper.current(), undefined);
  assert.match(keeper.status().error!, /\/gru\/c1\/token does not exist.*gru token rotate c1/);

  store.answer = { current: "  " };
  await keeper.refresh();
  assert.match(keeper.status().error!, /is empty/);
  assert.equal(keeper.accepts("  "), false);

  store.answer = new UnavailableError("etcd\nunreachable");
  await keeper.refresh();
  const error = keeper.status().error!;
  assert.match(error, /could not be read: etcd\\nunreachable/, "control characters escaped");
  assert.equal(keeper.accepts("anything"), false);
});

Deno.test("TokenKeeper keeps the token it has when a later read fails", async () => {
  const clock = new FakeClock(1_000);
  const store = fakeStore({ current: "new-token" });
  const keeper = new TokenKeeper({ cluster: "c1", read: store.read, clock });
  await keeper.refresh();
  assert.deepEqual(keeper.status(), { ok: true });
  store.answer = new UnavailableError("etcd down");
  await keeper.refresh();
  assert.equal(keeper.accepts("new-token"), true);
  assert.equal(keeper.current(), "new-token");
  assert.equal(keeper.status().ok, true);
  assert.match(keeper.status().warning!, /could not be read again/);
  store.answer = { current: undefined };
  await keeper.refresh();
  assert.equal(keeper.accepts("new-token"), false, "a deleted token is no longer in force");
});

Deno.test("TokenKeeper accepts the previous token until its grace ends, then only the new", async () => {
  const clock = new FakeClock(10_000);
  const store = fakeStore({ current: "old" });
  const keeper = new TokenKeeper({ cluster: "c1", read: store.read, clock, refreshMs: 5000 });
  await keeper.start();
  assert.equal(keeper.accepts("old"), true);
  store.answer = { current: "new", previous: { token: "old", until: 70_000 } };
  clock.advance(5000);
  await keeper.refresh(); // the background read is in flight: wait for it
  assert.equal(keeper.accepts("new"), true);
  assert.equal(keeper.accepts("old"), true);
  assert.equal(keeper.current(), "new");
  assert.equal(keeper.status().previousUntil, new Date(70_000).toISOString());
  clock.advance(55_000); // now = 70 000: the grace is over
  await keeper.refresh();
  assert.equal(keeper.accepts("old"), false);
  assert.equal(keeper.accepts("new"), true);
  assert.equal(keeper.accepts("ne"), false);
  assert.equal(keeper.status().previousUntil, undefined);
  await keeper.stop();
});

Deno.test("TokenKeeper.recheck() re-reads at most once per interval", async () => {
  const clock = new FakeClock(0);
  const store = fakeStore({ current: "a" });
  const keeper = new TokenKeeper({ cluster: "c1", read: store.read, clock, minRereadMs: 1000 });
  await keeper.refresh();
  store.answer = { current: "b", previous: { token: "a", until: 60_000 } };
  assert.equal(keeper.accepts("b"), false, "not read yet");
  clock.advance(1000);
  assert.equal(await keeper.recheck("b"), true, "a client that learnt of the rotation first");
  const reads = store.reads;
  assert.equal(await keeper.recheck("wrong"), false);
  assert.equal(await keeper.recheck("wrong"), false);
  assert.equal(store.reads, reads, "wrong tokens do not hammer the store");
  clock.advance(1000);
  await keeper.recheck("wrong");
  assert.equal(store.reads, reads + 1);
  // Within the interval, a new token waits for the next allowed read instead of missing it.
  clock.advance(400);
  store.answer = { current: "c" };
  const pending = keeper.recheck("c");
  await Promise.resolve();
  assert.equal(store.reads, reads + 1, "no read before the interval is over");
  clock.advance(600);
  assert.equal(await pending, true);
  assert.equal(store.reads, reads + 2);
});

Deno.test("fixedTokenAuth() treats no token as none in force", () => {
  assert.equal(fixedTokenAuth("c", () => undefined).status().ok, false);
  assert.equal(fixedTokenAuth("c", () => "").accepts(""), false);
  assert.equal(fixedTokenAuth("c", () => "t").accepts("t"), true);
  assert.equal(fixedTokenAuth("c", () => "t").accepts("u"), false);
});

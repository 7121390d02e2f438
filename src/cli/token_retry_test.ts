import assert from "node:assert/strict";
import { UnauthorizedError, UnavailableError } from "../domain/errors.ts";
import { tokenRetrying } from "./token_retry.ts";

/** A client that only accepts `accepted`. */
const client = (accepted: { token: string }) => (token: string | undefined) => ({
  token,
  call: () =>
    token === accepted.token
      ? Promise.resolve(`ok with ${token}`)
      : Promise.reject(new UnauthorizedError("Wrong cluster token")),
});

Deno.test("tokenRetrying() re-reads the token once on 401 and retries with the new one", async () => {
  const accepted = { token: "new" };
  let reads = 0;
  const run = tokenRetrying({
    token: "old",
    read: () => {
      reads++;
      return Promise.resolve("new");
    },
    client: client(accepted),
  });
  const [a, b] = await Promise.all([run((c) => c.call()), run((c) => c.call())]);
  assert.equal(a, "ok with new");
  assert.equal(b, "ok with new");
  assert.equal(reads, 1, "one re-read for calls that failed together");
  assert.equal(await run((c) => c.call()), "ok with new");
});

Deno.test("tokenRetrying() gives up when the token did not change, and on other errors", async () => {
  const run = tokenRetrying({
    token: "old",
    read: () => Promise.resolve("old"),
    client: client({ token: "other" }),
  });
  await assert.rejects(run((c) => c.call()), UnauthorizedError);
  let calls = 0;
  await assert.rejects(
    run(() => {
      calls++;
      return Promise.reject(new UnavailableError("down"));
    }),
    UnavailableError,
  );
  assert.equal(calls, 1);
});

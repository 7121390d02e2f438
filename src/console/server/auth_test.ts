import assert from "node:assert/strict";
import {
  csrfProblem,
  isLoopbackHost,
  LoginLimiter,
  loopbackHostAllowed,
  parseListen,
  sameSecret,
  sessionCookie,
  sessionIdOf,
  Sessions,
} from "./auth.ts";

Deno.test("isLoopbackHost: loopback names and addresses only", () => {
  for (const h of ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LOCALHOST"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "localhost.evil.com", "127.0.0.1.nip.io", ""]) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

Deno.test("parseListen: HOST:PORT with IPv6 in brackets; anything else is refused", () => {
  assert.deepEqual(parseListen("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseListen("[::1]:0"), { host: "::1", port: 0 });
  assert.deepEqual(parseListen("0.0.0.0:8443"), { host: "0.0.0.0", port: 8443 });
  for (const bad of ["8080", "host:", "host:99999", "::1:80", "a b:80"]) {
    assert.ok("error" in parseListen(bad), bad);
  }
});

Deno.test("loopbackHostAllowed: a rebound name is refused, loopback names with ports pass", () => {
  assert.ok(loopbackHostAllowed("127.0.0.1:8080"));
  assert.ok(loopbackHostAllowed("localhost:8080"));
  assert.ok(loopbackHostAllowed("[::1]:8080"));
  assert.ok(!loopbackHostAllowed("evil.example:8080"));
  assert.ok(!loopbackHostAllowed(undefined));
});

Deno.test("csrfProblem: JSON content type and same origin for writes; reads pass", () => {
  const base = {
    method: "POST",
    contentType: "application/json",
    origin: "https://c:8443",
    secFetchSite: null,
    selfOrigin: "https://c:8443",
  };
  assert.equal(csrfProblem({ ...base, method: "GET", contentType: null, origin: null }), undefined);
  assert.equal(csrfProblem(base), undefined);
  assert.equal(csrfProblem({ ...base, contentType: "application/json; charset=utf-8" }), undefined);
  assert.equal(csrfProblem({ ...base, contentType: "text/plain" })?.status, 415);
  assert.equal(csrfProblem({ ...base, contentType: null })?.status, 415);
  assert.equal(csrfProblem({ ...base, origin: "https://evil" })?.status, 403);
  assert.equal(csrfProblem({ ...base, method: "DELETE", origin: "null" })?.status, 403);
  assert.equal(csrfProblem({ ...base, origin: null })?.status, 403);
  assert.equal(csrfProblem({ ...base, origin: null, secFetchSite: "same-origin" }), undefined);
  assert.equal(csrfProblem({ ...base, origin: null, secFetchSite: "cross-site" })?.status, 403);
});

Deno.test("Sessions: random ids, expiry, bounded count", () => {
  let now = 1_000;
  let n = 0;
  const sessions = new Sessions({
    max: 2,
    now: () => now,
    random: (bytes) => new Uint8Array(bytes).fill(++n),
  });
  const a = sessions.open("token", "t");
  const b = sessions.open("password");
  assert.notEqual(a, b);
  assert.equal(a.length, 43);
  assert.equal(sessions.get(a)?.token, "t");
  assert.equal(sessions.get("nope"), undefined);
  const c = sessions.open("password");
  assert.equal(sessions.size, 2);
  assert.equal(sessions.get(a), undefined, "the oldest went");
  now += 43_200_000;
  assert.equal(sessions.get(b), undefined, "expired");
  assert.equal(sessions.get(c), undefined);
});

Deno.test("LoginLimiter: refuses after max failures in the window, then forgets", () => {
  let now = 0;
  const limiter = new LoginLimiter({ max: 2, windowMs: 1000, now: () => now });
  limiter.failed("a");
  assert.ok(limiter.allowed("a"));
  limiter.failed("a");
  assert.ok(!limiter.allowed("a"));
  assert.ok(limiter.allowed("b"));
  now = 1500;
  assert.ok(limiter.allowed("a"));
});

Deno.test("session cookie: HttpOnly, SameSite=Strict, Secure; read back from a Cookie header", () => {
  const set = sessionCookie("abc");
  for (const part of ["gru_console=abc", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"]) {
    assert.ok(set.includes(part), part);
  }
  assert.ok(sessionCookie(undefined).includes("Max-Age=0"));
  assert.equal(sessionIdOf("x=1; gru_console=abc; y=2"), "abc");
  assert.equal(sessionIdOf("gru_console="), undefined);
  assert.equal(sessionIdOf(null), undefined);
  assert.ok(sameSecret("s3cret", "s3cret"));
  assert.ok(!sameSecret("s3cret", "s3creT"));
  assert.ok(!sameSecret("s3cret", "s3cret2"));
});

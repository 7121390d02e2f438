import assert from "node:assert/strict";
import { PromqlQuerier, readQueryAnswer } from "./promql_source.ts";

const vector = (...values: string[]) => ({
  status: "success",
  data: {
    resultType: "vector",
    result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1700000000.5, v] })),
  },
});

Deno.test("readQueryAnswer: one number or why not", () => {
  assert.deepEqual(readQueryAnswer(vector("12.5")), {
    ok: true,
    value: 12.5,
    sampleTime: 1700000000500,
  });
  assert.deepEqual(
    readQueryAnswer({ status: "success", data: { resultType: "scalar", result: [1, "3"] } }),
    { ok: true, value: 3, sampleTime: 1000 },
  );
  const failure = (body: unknown) => {
    const r = readQueryAnswer(body);
    return r.ok ? "ok" : r.failure;
  };
  assert.equal(failure(vector()), "empty");
  assert.equal(failure(vector("1", "2")), "ambiguous");
  assert.equal(failure(vector("NaN")), "not-finite");
  assert.equal(failure(vector("+Inf")), "not-finite");
  assert.equal(failure({ status: "success", data: { resultType: "matrix", result: [] } }), "error");
  assert.equal(failure({ status: "error", error: "bad" }), "error");
  assert.equal(failure("nonsense"), "error");
});

Deno.test("PromqlQuerier sends auth and headers, and keeps them out of its errors", async () => {
  const seen: { url: string; headers: Headers }[] = [];
  const slow = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push({ url: req.url, headers: new Headers(req.headers) });
    const q = new URL(req.url).searchParams.get("query");
    if (q === "slow") await slow.promise;
    if (q === "bad") {
      return Response.json({ status: "error", error: "parse error at char 3" }, { status: 400 });
    }
    return Response.json(vector("7"));
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const querier = new PromqlQuerier();
  try {
    const secret = { username: "gru", password: "s3cr3t-pw" };
    const headers = { "X-Scope-OrgID": "tenant-secret" };
    const ok = await querier.query({
      url,
      query: 'up{job="x"}',
      headers,
      basicAuth: secret,
      timeoutMs: 2000,
    });
    assert.deepEqual(ok, { ok: true, value: 7, sampleTime: 1700000000500 });
    const req = seen[0]!;
    assert.equal(new URL(req.url).pathname, "/api/v1/query");
    assert.equal(new URL(req.url).searchParams.get("query"), 'up{job="x"}');
    assert.equal(req.headers.get("authorization"), `Basic ${btoa("gru:s3cr3t-pw")}`);
    assert.equal(req.headers.get("x-scope-orgid"), "tenant-secret");

    const bad = await querier.query({
      url,
      query: "bad",
      headers,
      basicAuth: secret,
      timeoutMs: 2000,
    });
    assert.deepEqual(bad, {
      ok: false,
      failure: "error",
      error: "HTTP 400: parse error at char 3",
    });

    const late = await querier.query({
      url,
      query: "slow",
      headers,
      basicAuth: secret,
      timeoutMs: 50,
    });
    assert.equal(late.ok ? "ok" : late.failure, "timeout");
    for (const r of [bad, late]) {
      const text = JSON.stringify(r);
      assert.ok(!text.includes("s3cr3t") && !text.includes("tenant-secret"), text);
    }
  } finally {
    slow.resolve();
    querier.close();
    await server.shutdown();
  }
});

Deno.test("PromqlQuerier: a CA file that cannot be read is an error, not a throw", async () => {
  const querier = new PromqlQuerier(() => Promise.reject(new Error("no such file: /x/ca.pem")));
  const r = await querier.query({
    url: "https://127.0.0.1:1",
    query: "up",
    headers: {},
    caFile: "/x/ca.pem",
    timeoutMs: 1000,
  });
  assert.deepEqual(r, { ok: false, failure: "error", error: "no such file: /x/ca.pem" });
  querier.close();
});

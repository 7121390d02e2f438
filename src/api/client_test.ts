import assert from "node:assert/strict";
import { AgentClient, MAX_RESPONSE_BYTES } from "./client.ts";
import { GruError, UnavailableError } from "../domain/errors.ts";

/** Serves `body(path)` on a free loopback port for the duration of `fn`. */
async function withServer(
  body: (path: string) => BodyInit,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new Response(body(new URL(req.url).pathname), {
        headers: { "content-type": "application/json" },
      }),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("AgentClient reads answers up to 4 MiB and refuses larger ones", async () => {
  const small = JSON.stringify({ x: "a".repeat(1000) });
  const big = JSON.stringify({ x: "a".repeat(MAX_RESPONSE_BYTES) });
  await withServer((p) => p.endsWith("/big") ? big : small, async (base) => {
    const client = new AgentClient();
    assert.equal((await client.get<{ x: string }>(base, "/small")).x.length, 1000);
    await assert.rejects(
      client.get(base, "/big"),
      (err: unknown) =>
        err instanceof GruError && /over the limit of 4194304 bytes/.test(err.message) &&
        err.message.includes("/gru/v1/big"),
    );
  });
});

Deno.test("AgentClient refuses a streamed answer past maxResponseBytes", async () => {
  // No content-length: the limit applies while reading.
  const chunks = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 64; i++) c.enqueue(new Uint8Array(1024).fill(0x61));
        c.close();
      },
    });
  await withServer(() => chunks(), async (base) => {
    const client = new AgentClient({ maxResponseBytes: 10_000 });
    await assert.rejects(client.get(base, "/x"), /over the limit of 10000 bytes/);
  });
});

Deno.test("AgentClient with requireTls refuses plain HTTP except on loopback", async () => {
  const client = new AgentClient({ requireTls: true, timeoutMs: 1000 });
  await assert.rejects(
    client.get("http://192.0.2.1:5000", "/health"),
    (err: unknown) => err instanceof UnavailableError && /Refusing plain HTTP/.test(err.message),
  );
  await withServer(() => "{}", async (base) => {
    assert.deepEqual(await client.get(base, "/health"), {});
  });
});

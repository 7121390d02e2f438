/**
 * The paper experiment's service image (images/paper_service, `gru-paper/service`) on the real
 * engine: every answered request logs a response time and a busy share in Gru's log format, which
 * Gru's log-line parser reads; requests beyond QUEUE_MAX get 503 at once. Built by
 * scripts/build_images.sh.
 */

import assert from "node:assert/strict";
import { parseGruLine } from "../../src/agent/monitor/log_line.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";

async function docker(args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`docker ${args.join(" ")} failed: ${text}`);
  return text;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: await res.text() };
}

Deno.test("paper service: Gru metric lines per request and a bounded queue", async () => {
  const run = testRunId();
  try {
    const id = (await docker([
      "run",
      "-d",
      "--label",
      `${LABEL_TEST_RUN}=${run}`,
      "-e",
      "MEAN_MS=1000",
      "-e",
      "QUEUE_MAX=2",
      "-e",
      "GRU_SERVICE=papertest",
      "-p",
      "127.0.0.1::80",
      "gru-paper/service",
    ])).trim();
    const port = (await docker(["port", id, "80/tcp"])).trim().split(":").pop();
    const url = `http://127.0.0.1:${port}/cgi-bin/req`;
    let first: { status: number; body: string } | undefined;
    for (let i = 0; i < 50 && first === undefined; i++) {
      first = await get(url).catch(() => undefined);
      if (first === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(first?.status, 200, "the service never answered");
    assert(/^ok work \d+ ms response \d+ ms$/m.test(first!.body), first!.body);

    // 16 at once into an instance that holds at most 2 (each about a second of work on
    // average, so the queue cannot drain while they arrive): some are refused at once.
    const burst = await Promise.all(Array.from({ length: 16 }, () => get(url)));
    const statuses = burst.map((r) => r.status);
    assert(statuses.includes(503), `no 503 in ${statuses}`);
    assert(statuses.includes(200), `no 200 in ${statuses}`);
    const answered = 1 + statuses.filter((s) => s === 200).length;

    let lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      lines = (await docker(["logs", id])).split("\n").filter((l) => l.includes("gru:"));
      if (lines.length >= 2 * answered) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const parsed = lines.map(parseGruLine);
    const times = parsed.filter((p) => p && "metric" in p && p.metric === "response_time");
    const busy = parsed.filter((p) => p && "metric" in p && p.metric === "busy");
    assert.deepEqual(parsed.filter((p) => p && "error" in p), [], "every gru: line parses");
    assert.deepEqual(times.length, answered, "one response_time line per answered request");
    assert.deepEqual(busy.length, answered, "one busy line per answered request");
    for (const p of [...times, ...busy]) {
      assert(p && "service" in p && p.service === "papertest");
    }
    for (const p of busy) assert(p && "value" in p && p.value >= 0 && p.value <= 1);
  } finally {
    await removeRunContainers(run);
  }
});

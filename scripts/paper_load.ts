/**
 * An open-loop load generator for the paper experiment (scripts/bench_paper.ts): requests leave
 * at scheduled times, whatever the answers do (a slow or failing service never slows the
 * schedule down, unlike a closed loop of workers). Arrivals are a Poisson process whose rate
 * rises linearly from `rateFrom` to `rateTo` requests per second over `durationS` seconds (the
 * seed author's JMeter ramp, 0.1 → 2 rps over an hour, compressed), drawn by thinning from a
 * seeded generator, so every run of a seed sends the same schedule.
 *
 * Standalone: `deno run -A scripts/paper_load.ts <url> <seconds> <rate from> <rate to> [seed]`
 * prints one line per request (scheduled s, send lag ms, status, latency ms) and a summary.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script that prints figures

import { seededPrng } from "../src/domain/random.ts";

/** One request of the schedule and what became of it. */
export interface LoadRecord {
  /** Scheduled send time, seconds from the start of the load. */
  at: number;
  /** How late it actually left, ms (timer lag on a busy machine). */
  lagMs: number;
  /** HTTP status, or 0 when no answer came (timeout, connection error). */
  status: number;
  /** Send to full answer, ms (to the failure when status is 0). */
  latencyMs: number;
  /** Why no answer came, when status is 0. */
  error?: string;
}

/** The load's shape. */
export interface OpenLoopOptions {
  /** Where to send, or a function asked for each request (e.g. round-robin over instances). */
  url: string | (() => string);
  durationS: number;
  rateFrom: number;
  rateTo: number;
  /** Per-request timeout, ms. @default 30000 */
  timeoutMs?: number;
  /** PRNG seed. @default 1 */
  seed?: number;
  /** Stops sending (requests in flight still finish). */
  signal?: AbortSignal;
}

/** The scheduled rate at `t` seconds, requests per second. */
export function rateAt(o: Pick<OpenLoopOptions, "durationS" | "rateFrom" | "rateTo">, t: number) {
  const f = Math.min(1, Math.max(0, t / o.durationS));
  return o.rateFrom + (o.rateTo - o.rateFrom) * f;
}

/**
 * The arrival times (seconds) of a non-homogeneous Poisson process with the linear rate, by
 * thinning a process at the highest rate.
 */
export function schedule(o: OpenLoopOptions): number[] {
  const rand = seededPrng(o.seed ?? 1);
  const top = Math.max(o.rateFrom, o.rateTo);
  if (!(top > 0) || !(o.durationS > 0)) return [];
  const out: number[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - rand()) / top;
    if (t >= o.durationS) return out;
    if (rand() * top <= rateAt(o, t)) out.push(t);
  }
}

async function one(url: string, timeoutMs: number): Promise<Omit<LoadRecord, "at" | "lagMs">> {
  const sent = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status, latencyMs: performance.now() - sent };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 120) : String(err);
    return { status: 0, latencyMs: performance.now() - sent, error };
  }
}

/**
 * Sends the schedule to `url`; resolves with every request once the last one has been
 * answered or has timed out.
 */
export async function runOpenLoop(o: OpenLoopOptions): Promise<LoadRecord[]> {
  const times = schedule(o);
  const timeoutMs = o.timeoutMs ?? 30_000;
  const start = performance.now();
  const pending: Promise<LoadRecord>[] = [];
  for (const at of times) {
    if (o.signal?.aborted) break;
    const wait = start + at * 1000 - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const lagMs = Math.max(0, performance.now() - (start + at * 1000));
    const url = typeof o.url === "string" ? o.url : o.url();
    pending.push(one(url, timeoutMs).then((r) => ({ at, lagMs, ...r })));
  }
  return await Promise.all(pending);
}

if (import.meta.main) {
  const [url, seconds, from, to, seed] = Deno.args;
  const nums = [seconds, from, to].map(Number);
  if (!url || nums.some((n) => !Number.isFinite(n) || n < 0) || !(nums[0]! > 0)) {
    console.error(
      "usage: deno run -A scripts/paper_load.ts <url> <seconds> <rate from> <rate to> [seed]",
    );
    Deno.exit(2);
  }
  const records = await runOpenLoop({
    url,
    durationS: nums[0]!,
    rateFrom: nums[1]!,
    rateTo: nums[2]!,
    seed: seed === undefined ? 1 : Number(seed),
  });
  for (const r of records) {
    console.log(
      `${r.at.toFixed(3)}\t${r.lagMs.toFixed(1)}\t${r.status}\t${r.latencyMs.toFixed(1)}` +
        (r.error ? `\t${r.error}` : ""),
    );
  }
  const ok = records.filter((r) => r.status === 200).length;
  console.log(`# ${records.length} requests, ${ok} answered 200`);
}

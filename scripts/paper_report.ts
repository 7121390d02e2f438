/**
 * Figures and plots of the paper experiment (scripts/bench_paper.ts): one run's measures from
 * its load records and instance samples, the SVG time series (load, instances, response time),
 * and the table over runs (medians and spread). Pure, except `summarize` reading result files.
 *
 * @module
 */

import type { LoadRecord } from "./paper_load.ts";

/** The running instances at one moment (seconds from the start of the load). */
export interface InstanceSample {
  t: number;
  /** Running container ids, every node. */
  ids: string[];
  /** Servers HAProxy reports UP in the backend. */
  up: number;
}

/** What one run measured, as written to `<variant>-run<k>.json`. */
export interface RunResult {
  variant: string;
  run: number;
  config: string;
  startedAt: string;
  durationS: number;
  rateFrom: number;
  rateTo: number;
  maxRespMs: number;
  /** The host's 1-minute load average when the load started and ended (absent in early runs). */
  hostLoad?: [number, number];
  requests: number;
  ok: number;
  failed: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Share of requests over MAX_RESP_TIME, failed ones included. */
  overMax: number;
  instanceSeconds: number;
  maxInstances: number;
  scaleOuts: number;
  scaleIns: number;
  /** Largest lag of the generator's timer behind the schedule, ms. */
  maxLagMs: number;
  records: LoadRecord[];
  samples: InstanceSample[];
}

/** The p-th percentile (0–100) by the nearest rank; NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** The median of unsorted values; NaN for none. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The run's measures. Percentiles and the mean are over every request, a failed one counting as
 * its time to failure; `overMax` counts failed ones as over. Instance-seconds integrate the
 * running count over the load (`0 … durationS`); scale-outs and scale-ins are containers that
 * appeared and disappeared after the first sample.
 */
export function measure(
  records: readonly LoadRecord[],
  samples: readonly InstanceSample[],
  durationS: number,
  maxRespMs: number,
) {
  const lat = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const failed = records.filter((r) => r.status !== 200).length;
  const over = records.filter((r) => r.status !== 200 || r.latencyMs > maxRespMs).length;
  let instanceSeconds = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const next = Math.min(durationS, samples[i + 1]?.t ?? durationS);
    const from = Math.max(0, s.t);
    if (next > from) instanceSeconds += s.ids.length * (next - from);
  }
  const seen = new Set(samples[0]?.ids ?? []);
  let scaleOuts = 0;
  let scaleIns = 0;
  let prev = new Set(samples[0]?.ids ?? []);
  for (const s of samples.slice(1)) {
    const now = new Set(s.ids);
    for (const id of now) if (!seen.has(id)) (seen.add(id), scaleOuts++);
    for (const id of prev) if (!now.has(id)) scaleIns++;
    prev = now;
  }
  return {
    requests: records.length,
    ok: records.length - failed,
    failed,
    meanMs: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length),
    p50Ms: percentile(lat, 50),
    p95Ms: percentile(lat, 95),
    p99Ms: percentile(lat, 99),
    overMax: records.length ? over / records.length : 0,
    instanceSeconds,
    maxInstances: Math.max(0, ...samples.map((s) => s.ids.length)),
    scaleOuts,
    scaleIns,
    maxLagMs: Math.max(0, ...records.map((r) => r.lagMs)),
  };
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const fmt = (n: number) => (Math.round(n * 100) / 100).toString();

/**
 * An SVG of one run: scheduled and answered load (requests/s, 5 s buckets), running instances
 * (and servers UP in HAProxy), response time p50/p95 per 5 s bucket against MAX_RESP_TIME
 * (failed requests as red ticks at the top).
 */
export function svgOf(r: RunResult): string {
  const W = 760, left = 60, right = 20, panel = 150, gap = 40, top = 40;
  const plotW = W - left - right;
  const H = top + 3 * panel + 2 * gap + 40;
  const T = r.durationS + 10;
  const x = (t: number) => left + (Math.min(T, Math.max(0, t)) / T) * plotW;
  const out: string[] = [];
  const bucket = 5;
  const n = Math.ceil(r.durationS / bucket);
  const by: LoadRecord[][] = Array.from({ length: n }, () => []);
  for (const rec of r.records) by[Math.min(n - 1, Math.floor(rec.at / bucket))]!.push(rec);
  const axes = (y0: number, max: number, label: string, ticks: number[]) => {
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${panel}" fill="none" ` +
        `stroke="#999"/>`,
    );
    out.push(`<text x="${left}" y="${y0 - 6}" font-size="12">${esc(label)}</text>`);
    for (const v of ticks) {
      const y = y0 + panel - (v / max) * panel;
      out.push(`<line x1="${left - 4}" x2="${left}" y1="${y}" y2="${y}" stroke="#999"/>`);
      out.push(`<text x="${left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${v}</text>`);
    }
  };
  const line = (pts: [number, number][], color: string, y0: number, max: number, step = false) => {
    if (pts.length === 0) return;
    const y = (v: number) => y0 + panel - (Math.min(v, max) / max) * panel;
    let d = `M${fmt(x(pts[0]![0]))},${fmt(y(pts[0]![1]))}`;
    for (let i = 1; i < pts.length; i++) {
      if (step) d += ` H${fmt(x(pts[i]![0]))}`;
      d += ` L${fmt(x(pts[i]![0]))},${fmt(y(pts[i]![1]))}`;
    }
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  };
  out.push(
    `<text x="${left}" y="18" font-size="14" font-family="sans-serif">` +
      `${esc(r.variant)}, run ${r.run}: p50 ${Math.round(r.p50Ms)} ms, p95 ${Math.round(r.p95Ms)}` +
      ` ms, ${fmt(r.overMax * 100)} % over MAX, ${Math.round(r.instanceSeconds)} instance-s</text>`,
  );
  // load
  const y1 = top;
  const rmax = Math.ceil(Math.max(r.rateFrom, r.rateTo) * 1.2);
  axes(y1, rmax, "load (requests/s): scheduled (grey), answered 200 (blue)", [0, rmax / 2, rmax]);
  line([[0, r.rateFrom], [r.durationS, r.rateTo]], "#999", y1, rmax);
  line(
    by.map((b, i) => [i * bucket + bucket / 2, b.filter((q) => q.status === 200).length / bucket]),
    "#1f77b4",
    y1,
    rmax,
  );
  // instances
  const y2 = top + panel + gap;
  const imax = Math.max(2, ...r.samples.map((s) => s.ids.length)) + 1;
  axes(y2, imax, "instances: running containers (black), servers UP in HAProxy (green)", [
    0,
    Math.round(imax / 2),
    imax,
  ]);
  line(r.samples.map((s) => [s.t, s.up]), "#2ca02c", y2, imax, true);
  line(r.samples.map((s) => [s.t, s.ids.length]), "#000", y2, imax, true);
  // response time
  const y3 = top + 2 * (panel + gap);
  const tmax = r.maxRespMs * 4;
  axes(y3, tmax, "response time (ms) per 5 s: p50 (blue), p95 (orange), MAX_RESP_TIME (red)", [
    0,
    r.maxRespMs,
    2 * r.maxRespMs,
    tmax,
  ]);
  const pts = (p: number) =>
    by.flatMap((b, i): [number, number][] => {
      const s = b.map((q) => q.latencyMs).sort((a, c) => a - c);
      return s.length ? [[i * bucket + bucket / 2, percentile(s, p)]] : [];
    });
  line(pts(50), "#1f77b4", y3, tmax);
  line(pts(95), "#ff7f0e", y3, tmax);
  line([[0, r.maxRespMs], [T, r.maxRespMs]], "#d62728", y3, tmax);
  for (const q of r.records) {
    if (q.status === 200) continue;
    out.push(
      `<line x1="${fmt(x(q.at))}" x2="${fmt(x(q.at))}" y1="${y3}" y2="${y3 + 6}" ` +
        `stroke="#d62728"/>`,
    );
  }
  const yx = y3 + panel;
  for (let t = 0; t <= T; t += 30) {
    out.push(
      `<text x="${fmt(x(t))}" y="${yx + 14}" font-size="10" text-anchor="middle">` +
        `${t}</text>`,
    );
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${yx + 30}" font-size="11" text-anchor="middle">` +
      `seconds from the start of the load</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
    `font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>\n` +
    out.join("\n") + "\n</svg>\n";
}

const COLUMNS: [keyof RunResult, string, (v: number) => string][] = [
  ["p50Ms", "p50 (ms)", (v) => String(Math.round(v))],
  ["p95Ms", "p95 (ms)", (v) => String(Math.round(v))],
  ["p99Ms", "p99 (ms)", (v) => String(Math.round(v))],
  ["meanMs", "mean (ms)", (v) => String(Math.round(v))],
  ["overMax", "over MAX (%)", (v) => (v * 100).toFixed(1)],
  ["failed", "failed", (v) => String(Math.round(v))],
  ["instanceSeconds", "instance-s", (v) => String(Math.round(v))],
  ["maxInstances", "max inst.", (v) => String(v)],
  ["scaleOuts", "scale-outs", (v) => String(v)],
  ["scaleIns", "scale-ins", (v) => String(v)],
];

/** A markdown table: one row per variant, each cell "median (min–max)" over its runs. */
export function table(results: readonly RunResult[]): string {
  const variants = [...new Set(results.map((r) => r.variant))];
  const head = `| variant | runs | ${COLUMNS.map((c) => c[1]).join(" | ")} |`;
  const sep = `| --- | ---: | ${COLUMNS.map(() => "---:").join(" | ")} |`;
  const rows = variants.map((v) => {
    const runs = results.filter((r) => r.variant === v);
    const cells = COLUMNS.map(([key, , f]) => {
      const vals = runs.map((r) => r[key] as number);
      const lo = Math.min(...vals), hi = Math.max(...vals);
      return runs.length > 1 ? `${f(median(vals))} (${f(lo)}–${f(hi)})` : f(vals[0]!);
    });
    return `| ${v} | ${runs.length} | ${cells.join(" | ")} |`;
  });
  return [head, sep, ...rows].join("\n");
}

/** Reads every `*.json` result in `dir`. */
export async function readResults(dir: string): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".json")) {
      out.push(JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`)) as RunResult);
    }
  }
  return out.sort((a, b) => a.variant.localeCompare(b.variant) || a.run - b.run);
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

/**
 * One SVG over the variants: for each, its run with the median instance-seconds: running
 * instances, and response time p95 per 10 s bucket against MAX_RESP_TIME.
 */
export function overviewSvg(results: readonly RunResult[]): string {
  const variants = [...new Set(results.map((r) => r.variant))];
  const picked = variants.map((v) => {
    const runs = results.filter((r) => r.variant === v)
      .sort((a, b) => a.instanceSeconds - b.instanceSeconds);
    return runs[Math.floor((runs.length - 1) / 2)]!;
  });
  const W = 760, left = 60, right = 130, panel = 170, gap = 45, top = 40;
  const plotW = W - left - right;
  const T = Math.max(...picked.map((r) => r.durationS));
  const maxResp = Math.max(...picked.map((r) => r.maxRespMs));
  const x = (t: number) => left + (Math.min(T, Math.max(0, t)) / T) * plotW;
  const out: string[] = [];
  const frame = (y0: number, max: number, label: string, ticks: number[]) => {
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${panel}" fill="none" ` +
        `stroke="#999"/>`,
    );
    out.push(`<text x="${left}" y="${y0 - 6}" font-size="12">${esc(label)}</text>`);
    for (const v of ticks) {
      const y = y0 + panel - (v / max) * panel;
      out.push(`<text x="${left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${v}</text>`);
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    }
  };
  const path = (pts: [number, number][], y0: number, max: number, color: string, step: boolean) => {
    if (!pts.length) return;
    const y = (v: number) => y0 + panel - (Math.min(v, max) / max) * panel;
    let d = `M${fmt(x(pts[0]![0]))},${fmt(y(pts[0]![1]))}`;
    for (const [t, v] of pts.slice(1)) {
      d += step ? ` H${fmt(x(t))} V${fmt(y(v))}` : ` L${fmt(x(t))},${fmt(y(v))}`;
    }
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
  };
  out.push(
    `<text x="${left}" y="18" font-size="14">Each variant's median run (by ` +
      `instance-seconds); load ${picked[0]?.rateFrom} → ${picked[0]?.rateTo} requests/s</text>`,
  );
  const imax = Math.max(2, ...picked.flatMap((r) => r.samples.map((s) => s.ids.length))) + 1;
  frame(top, imax, "running instances", [0, 2, 4, 6].filter((v) => v <= imax));
  const y2 = top + panel + gap;
  const tmax = maxResp * 4;
  frame(y2, tmax, "response time p95 per 10 s (ms); MAX_RESP_TIME in red", [
    0,
    maxResp,
    2 * maxResp,
    tmax,
  ]);
  out.push(
    `<line x1="${left}" x2="${left + plotW}" y1="${y2 + panel - panel / 4}" ` +
      `y2="${y2 + panel - panel / 4}" stroke="#d62728" stroke-dasharray="4 3"/>`,
  );
  picked.forEach((r, i) => {
    const color = COLORS[i % COLORS.length]!;
    path(r.samples.filter((s) => s.t <= T).map((s) => [s.t, s.ids.length]), top, imax, color, true);
    const n = Math.ceil(r.durationS / 10);
    const pts: [number, number][] = [];
    for (let b = 0; b < n; b++) {
      const s = r.records.filter((q) => q.at >= b * 10 && q.at < b * 10 + 10)
        .map((q) => q.latencyMs).sort((a, c) => a - c);
      if (s.length) pts.push([b * 10 + 5, percentile(s, 95)]);
    }
    path(pts, y2, tmax, color, false);
    out.push(
      `<text x="${left + plotW + 10}" y="${top + 16 + i * 18}" font-size="12" ` +
        `fill="${color}">${esc(r.variant)} (run ${r.run})</text>`,
    );
  });
  for (let t = 0; t <= T; t += 30) {
    out.push(
      `<text x="${fmt(x(t))}" y="${y2 + panel + 14}" font-size="10" ` +
        `text-anchor="middle">${t}</text>`,
    );
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${y2 + panel + 30}" font-size="11" ` +
      `text-anchor="middle">seconds from the start of the load</text>`,
  );
  const H = y2 + panel + 45;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
    `font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>\n` +
    out.join("\n") + "\n</svg>\n";
}

/**
 * What `gru simulate` prints and draws: a table, one JSON object per strategy, and an SVG chart
 * of the load and the instances over time (one panel per strategy, written by hand: no
 * charting library). Pure: strings in, strings out; numbers are formatted with fixed rules so
 * the same run gives byte-identical output.
 *
 * @module
 */

import type { SimRun } from "./simulate.ts";

/** The figures of one strategy as `--json` prints them. */
export interface StrategySummary {
  trace: string;
  seed: number;
  strategy: string;
  instanceSeconds: number;
  sloViolationSeconds: number;
  actions: number;
  maxInstances: number;
}

/** One object per strategy, in the order asked. */
export function summaries(run: SimRun): StrategySummary[] {
  return run.results.map((r) => ({
    trace: run.trace.name,
    seed: run.seed,
    strategy: r.strategy,
    instanceSeconds: r.instanceSeconds,
    sloViolationSeconds: r.sloViolationSeconds,
    actions: r.actions,
    maxInstances: r.maxInstances,
  }));
}

/** The `--json` output: a JSON array of {@link StrategySummary}, two-space indented. */
export function renderJson(run: SimRun): string {
  return JSON.stringify(summaries(run), null, 2);
}

/** The table `gru simulate` prints by default, with a heading naming the trace and settings. */
export function renderTable(run: SimRun): string {
  const s = run.settings;
  const seconds = run.trace.rps.length;
  const heading = [
    `trace ${run.trace.name}: ${seconds} s, seed ${run.seed}, ${s.nodes} node(s) of ` +
    `${s.coresPerNode} cores`,
    `model: exponential service time ${s.serviceTime} s, capacity ${s.capacity} per instance, ` +
    `start-up ${s.startup} s, MAX_RESP_TIME ${s.maxResponseTime} s, ${s.measurement} CPU figures`,
    `agents: loop ${s.interval} s, window ${s.window} s, scale-out above ${s.scaleOutThreshold}, ` +
    `scale-in below ${s.scaleInThreshold}, cooldowns ${s.scaleOutCooldown}/${s.scaleInCooldown} s, ` +
    `stabilization ${s.scaleInStabilization} s; hpa target ${s.targetUtilization}`,
    "",
  ];
  const header = ["strategy", "instance-s", "mean inst.", "SLO-viol. s", "actions", "max inst."];
  const rows = run.results.map((r) => [
    r.strategy,
    String(r.instanceSeconds),
    (r.instanceSeconds / seconds).toFixed(2),
    String(r.sloViolationSeconds),
    String(r.actions),
    String(r.maxInstances),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
      .trimEnd();
  return [...heading, line(header), ...rows.map(line)].join("\n");
}

const PANEL_W = 720;
const PANEL_H = 160;
const LEFT = 50;
const RIGHT = 50;
const TOP = 30;
const GAP = 40;

function fmt(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** The points of a series, at most one per horizontal pixel (the bucket's maximum). */
function path(values: readonly number[], x0: number, y0: number, yMax: number): string {
  const n = values.length;
  const buckets = Math.min(n, PANEL_W);
  const parts: string[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * n / buckets);
    const to = Math.max(from + 1, Math.floor((b + 1) * n / buckets));
    let v = 0;
    for (let i = from; i < to; i++) v = Math.max(v, values[i]!);
    const x = x0 + (b + 0.5) * PANEL_W / buckets;
    const y = y0 + PANEL_H - (yMax > 0 ? v / yMax : 0) * PANEL_H;
    parts.push(`${b === 0 ? "M" : "L"}${fmt(x)} ${fmt(y)}`);
  }
  return parts.join(" ");
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The SVG chart: for each strategy a panel with the load (requests per second, right axis,
 * grey) and the instances (pending or running, left axis, blue) over time.
 */
export function renderSvg(run: SimRun): string {
  const load = run.trace.rps;
  const loadMax = Math.max(1e-9, ...load);
  const instMax = Math.max(1, ...run.results.map((r) => r.maxInstances));
  const minutes = load.length / 60;
  const width = LEFT + PANEL_W + RIGHT;
  const height = TOP + run.results.length * (PANEL_H + GAP);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="18" font-size="13">gru simulate: trace ${
      escapeXml(run.trace.name)
    }, seed ${run.seed} (grey: load, rps; blue: instances)</text>`,
  ];
  run.results.forEach((r, k) => {
    const y0 = TOP + k * (PANEL_H + GAP) + 14;
    const x1 = LEFT + PANEL_W;
    out.push(
      `<text x="${LEFT}" y="${y0 - 4}">${escapeXml(r.strategy)}: ${r.instanceSeconds} ` +
        `instance-s, ${r.sloViolationSeconds} SLO-violation s, ${r.actions} actions</text>`,
      `<rect x="${LEFT}" y="${y0}" width="${PANEL_W}" height="${PANEL_H}" fill="none" ` +
        `stroke="#999"/>`,
      `<text x="${LEFT - 4}" y="${y0 + 10}" text-anchor="end">${instMax}</text>`,
      `<text x="${LEFT - 4}" y="${y0 + PANEL_H}" text-anchor="end">0</text>`,
      `<text x="${x1 + 4}" y="${y0 + 10}">${fmt(loadMax)} rps</text>`,
      `<text x="${x1 + 4}" y="${y0 + PANEL_H}">0</text>`,
      `<text x="${x1}" y="${y0 + PANEL_H + 13}" text-anchor="end">${fmt(minutes)} min</text>`,
      `<path d="${path(load, LEFT, y0, loadMax)}" fill="none" stroke="#888" stroke-width="1"/>`,
      `<path d="${
        path(r.series, LEFT, y0, instMax)
      }" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

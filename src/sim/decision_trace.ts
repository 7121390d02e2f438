/**
 * A load trace from decision records exported from a running agent: the JSON array that
 * `GET /gru/v1/decisions` returns (e.g. `curl -H "Authorization: Bearer $TOKEN"
 * http://node:8080/gru/v1/decisions?limit=1000 > decisions.json`).
 *
 * Each record gives, for the chosen service, the cluster-wide figures the planner saw
 * (`inputs.services.<name>.cluster`, or this node's when the record has no cluster view):
 * `running` instances at `cpu_avg` busy. The work it shows is running × cpu_avg × capacity
 * server-seconds per second, so the arrival rate is that divided by the mean service time.
 * The rate holds from the record's `time` until the next record's (rounded to whole seconds,
 * at least 1); the last record holds as long as the gap before it (1 s for a single record).
 * A record whose figures are unknown (no `cpu_avg` yet) extends the previous rate. Records are
 * taken in `time` order.
 *
 * Pure: the text comes in, the trace comes out.
 *
 * @module
 */

import { excerpt } from "../domain/excerpt.ts";
import { MAX_TRACE_SECONDS, type Trace, TraceError } from "./traces.ts";

interface Figures {
  running: number;
  cpu: number | undefined;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function figuresOf(services: Record<string, unknown>, name: string): Figures | undefined {
  const s = services[name];
  if (!isObject(s)) return undefined;
  const where = isObject(s.cluster) ? s.cluster : s;
  const running = where.running;
  const cpu = where.cpu_avg;
  if (typeof running !== "number") return undefined;
  return { running, cpu: typeof cpu === "number" && Number.isFinite(cpu) ? cpu : undefined };
}

/**
 * Parses exported decision records into a trace.
 *
 * @param text The JSON text (an array of decision records).
 * @param file Its name, for messages and the trace's name.
 * @param model Mean service time and per-instance capacity (to turn busy instances into rps),
 *   and the service to follow (default: the first one of the first record).
 * @returns The trace.
 * @throws {TraceError} Naming the file and the JSON path of the first problem.
 */
export function parseDecisionTrace(
  text: string,
  file: string,
  model: { serviceTime: number; capacity: number; service?: string | undefined },
): Trace {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TraceError(`${file}: not JSON: ${(err as Error).message.slice(0, 80)}`);
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw new TraceError(
      `${file}: expected a non-empty JSON array of decision records (GET /gru/v1/decisions)`,
    );
  }
  const points: { time: number; figures: Figures | undefined }[] = [];
  let service = model.service;
  data.forEach((record, i) => {
    const services = isObject(record) && isObject(record.inputs) ? record.inputs.services : null;
    if (!isObject(record) || typeof record.time !== "number" || !isObject(services)) {
      throw new TraceError(
        `${file}: $[${i}]: expected a decision record with "time" and "inputs.services"`,
      );
    }
    service ??= Object.keys(services)[0];
    if (service === undefined) {
      throw new TraceError(`${file}: $[${i}].inputs.services: no service in the first record`);
    }
    points.push({ time: record.time, figures: figuresOf(services, service) });
  });
  if (points.every((p) => p.figures === undefined)) {
    throw new TraceError(`${file}: no record has figures of service ${excerpt(service)}`);
  }
  points.sort((a, b) => a.time - b.time);
  const rps: number[] = [];
  let rate = 0;
  let lastGap = 1;
  for (let k = 0; k < points.length; k++) {
    const p = points[k]!;
    if (p.figures?.cpu !== undefined) {
      rate = Math.max(0, p.figures.running * p.figures.cpu * model.capacity / model.serviceTime);
    }
    const next = points[k + 1];
    const gap = next === undefined ? lastGap : Math.max(1, Math.round((next.time - p.time) / 1000));
    lastGap = gap;
    if (rps.length + gap > MAX_TRACE_SECONDS) {
      throw new TraceError(`${file}: the records span more than ${MAX_TRACE_SECONDS} seconds`);
    }
    for (let s = 0; s < gap; s++) rps.push(rate);
  }
  return { name: `${file} (${service})`, rps };
}

/**
 * `gru simulate` without its shell: from the command's options (and the trace file's text,
 * which the CLI reads) to the text it prints and the SVG it writes. Pure.
 *
 * @module
 */

import { parseDecisionTrace } from "./decision_trace.ts";
import { renderJson, renderSvg, renderTable } from "./report.ts";
import { DEFAULT_SETTINGS, type SimSettings, simulate } from "./simulate.ts";
import { simStrategies } from "./controllers.ts";
import { builtinTrace, isBuiltinTrace, parseCsvTrace, type Trace, TraceError } from "./traces.ts";

export { TraceError } from "./traces.ts";
export { BUILTIN_TRACES } from "./traces.ts";
export { DEFAULT_SETTINGS, type SimSettings } from "./simulate.ts";

/** The strategies compared when none is named, those of them that exist. */
export const PREFERRED_STRATEGIES: readonly string[] = ["probdelta", "target", "hpa"];

/** The default `--strategies`: {@link PREFERRED_STRATEGIES} that are known. */
export function defaultStrategies(): string[] {
  const known = simStrategies();
  return PREFERRED_STRATEGIES.filter((name) => known.has(name));
}

/** Every strategy name `--strategies` accepts. */
export function knownStrategies(): string[] {
  return [...simStrategies().keys()];
}

/** How `--trace` is read: a built-in name, a CSV file, or exported decision records (.json). */
export function traceKind(spec: string): "builtin" | "csv" | "decisions" {
  if (isBuiltinTrace(spec)) return "builtin";
  return /\.json$/i.test(spec) ? "decisions" : "csv";
}

/** What one `gru simulate` asks for. */
export interface SimulateRequest {
  /** A built-in trace name or a file name. */
  trace: string;
  /** The file's text, when `trace` is a file. */
  text?: string | undefined;
  strategies: readonly string[];
  seed: number;
  /** Settings that differ from {@link DEFAULT_SETTINGS}. */
  settings: Partial<SimSettings>;
  /** The service to follow in exported decision records. */
  service?: string | undefined;
  json: boolean;
  plot: boolean;
}

/** What `gru simulate` prints, and the chart when asked for. */
export interface SimulateOutput {
  text: string;
  svg?: string | undefined;
}

/**
 * Runs a simulation as `gru simulate` does.
 *
 * @throws {TraceError} For a bad trace file (naming file and line or JSON path).
 * @throws {RangeError} For an unknown trace or strategy, or a bad setting.
 */
export function runSimulate(request: SimulateRequest): SimulateOutput {
  const settings: SimSettings = { ...DEFAULT_SETTINGS, ...request.settings };
  const trace = loadTrace(request, settings);
  const run = simulate(trace, request.strategies, settings, request.seed);
  return {
    text: request.json ? renderJson(run) : renderTable(run),
    svg: request.plot ? renderSvg(run) : undefined,
  };
}

function loadTrace(request: SimulateRequest, settings: SimSettings): Trace {
  const kind = traceKind(request.trace);
  if (kind === "builtin") return builtinTrace(request.trace);
  if (request.text === undefined) {
    throw new TraceError(`${request.trace}: no text given for the trace file`);
  }
  if (kind === "decisions") {
    return parseDecisionTrace(request.text, request.trace, {
      serviceTime: settings.serviceTime,
      capacity: settings.capacity,
      service: request.service,
    });
  }
  return parseCsvTrace(request.text, request.trace);
}

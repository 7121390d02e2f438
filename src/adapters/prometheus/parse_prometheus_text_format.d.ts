/**
 * Types of the `parse-prometheus-text-format` npm package (it ships none), used by the tests.
 *
 * @module
 */

/** One sample (or, for histograms and summaries, one series). */
export interface ParsedMetric {
  value?: string;
  labels?: Record<string, string>;
  /** Histograms: cumulative count by `le` bound. */
  buckets?: Record<string, string>;
  /** Summaries: value by quantile. */
  quantiles?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** One metric family. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: ParsedMetric[];
}

/** Parses the Prometheus text format. */
export default function parsePrometheusTextFormat(text: string): ParsedFamily[];

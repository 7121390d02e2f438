/**
 * Checks of single documents that a schema cannot express: values that contradict each other
 * (min above max, a scale-in threshold over the scale-out one) and settings that would be
 * silently ignored (unknown InfluxDB keys, a discovery port no container publishes).
 *
 * @module
 */

import type { AgentConfig, PolicyConfig, ServiceDescriptor } from "../domain/model.ts";
import { describeValue, type PathSegment, type Severity } from "./problem.ts";
import { INFLUX_CONFIGURATION_KEYS } from "./schemas.ts";
import { closest } from "./suggest.ts";

/** A problem found at a canonical path, before the path is spelled as in the document. */
export interface Finding {
  path: PathSegment[];
  expected: string;
  found: string;
  severity: Severity;
  note?: string;
}

export function lintAgentConfig(c: AgentConfig): Finding[] {
  const out: Finding[] = [];
  if (c.metric.metricService !== "influxdb") return out;
  const conf = c.metric.configuration;
  if (conf.Url === undefined) {
    out.push({
      path: ["metric", "configuration"],
      expected: `a "Url" entry when metricService is "influxdb"`,
      found: "none",
      severity: "warning",
      note: "metrics cannot be exported",
    });
  }
  const known: readonly string[] = INFLUX_CONFIGURATION_KEYS;
  for (const key of Object.keys(conf)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    out.push({
      path: ["metric", "configuration", key],
      expected: `one of the keys ${known.join(", ")} (exact case)`,
      found: describeValue(key),
      severity: "warning",
      note: guess ? `ignored; did you mean "${guess}"?` : "ignored",
    });
  }
  return out;
}

export function lintService(s: ServiceDescriptor): Finding[] {
  const out: Finding[] = [];
  if (s.maxInstances > 0 && s.minInstances > s.maxInstances) {
    out.push({
      path: ["maxInstances"],
      expected: `0 (unlimited) or a number >= minInstances (${s.minInstances})`,
      found: String(s.maxInstances),
      severity: "error",
    });
  }
  const guestPorts = Object.keys(s.configuration.ports);
  const port = s.discoveryPort;
  if (port !== "" && !guestPorts.some((g) => g === port || g.replace(/\/tcp$/, "") === port)) {
    out.push({
      path: ["discoveryPort"],
      expected: guestPorts.length === 0
        ? "a guest port listed in configuration.ports (none are)"
        : `a guest port listed in configuration.ports (${guestPorts.join(", ")})`,
      found: describeValue(port),
      severity: "warning",
      note: "no host address can be published for discovery",
    });
  }
  const target = s.scaling?.target;
  if (target && !["cpu_avg", "memory_avg", ...s.analytics].includes(target.metric)) {
    out.push({
      path: ["scaling", "target", "metric"],
      expected: `cpu_avg, memory_avg or one of the service's Analytics (${
        s.analytics.join(", ") || "none"
      })`,
      found: describeValue(target.metric),
      severity: "error",
    });
  }
  return out;
}

export function lintPolicy(p: PolicyConfig): Finding[] {
  const out: Finding[] = [];
  for (const rule of ["scalein", "scaleout", "swap"] as const) {
    const r = p[rule];
    if (r.enable && r.metrics.length === 0 && r.analytics.length === 0) {
      out.push({
        path: [rule],
        expected: "at least one metric or analytic in an enabled policy",
        found: "none",
        severity: "warning",
        note: "the policy would always see a value of 0",
      });
    }
  }
  if (p.scalein.enable && p.scaleout.enable && p.scalein.threshold >= p.scaleout.threshold) {
    out.push({
      path: ["scalein", "threshold"],
      expected: `a threshold below the scaleout threshold (${p.scaleout.threshold})`,
      found: String(p.scalein.threshold),
      severity: "warning",
      note: "services would be scaled out and in again",
    });
  }
  return out;
}

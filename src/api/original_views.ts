/**
 * The original Gru's read documents, built from what the last loop tick measured and analyzed
 * (`LastTick`, kept by the record phase): `GruStats` (`GET /gru/v1/stats…`), `GruAnalytics`
 * (`GET /gru/v1/analytics…`) and the local shared data (`GET /gru/v1/shared`), with the
 * original's JSON field names. Pure.
 *
 * Before the first tick each document is the original's zero value (Go's JSON of an empty
 * struct: maps `null`). Figures this agent does not know are left out of their map rather than
 * written as 0 (docs/compat.md#d15); where the original always wrote `null` (an instance's and
 * the system's user metrics) so does Gru. See docs/compat.md#diff-original-reads.
 *
 * @module
 */

import type { InstanceFigures, LastTick } from "../agent/record/decisions.ts";
import { systemFigures } from "../agent/record/measurements.ts";

/** Figures by name (`cpu_avg`, `memory_avg`, a metric or an analytic). */
export type Figures = Record<string, number>;

/** The original's `MetricData`. */
export interface MetricData {
  basemetrics: Figures | null;
  usermetrics: Figures | null;
}

/** The original's `GruStats`. */
export interface GruStats {
  Metrics: {
    service: Record<string, MetricData> | null;
    instance: Record<string, MetricData> | null;
    system: MetricData;
  };
  Events: { service: Record<string, { start: string[]; stop: string[] }> | null };
}

/** The original's `AnalyticData`. */
export interface AnalyticData {
  BaseAnalytics: Figures | null;
  UserAnalytics: Figures | null;
}

/** The original's `GruAnalytics`. */
export interface GruAnalytics {
  service: Record<string, AnalyticData> | null;
  system: AnalyticData;
}

/** The original's `SharedData`. */
export interface SharedData {
  BaseShared: Figures | null;
  UserShared: Figures | null;
}

/** The original's `Shared` (this node's local shared data). */
export interface Shared {
  service: Record<string, { Data: SharedData; active: boolean }> | null;
  system: { Data: SharedData; activeservices: string[] | null };
}

/** `MetricData` zero value (an unknown name in the original; here: known, not measured yet). */
export const ZERO_METRIC_DATA: Readonly<MetricData> = { basemetrics: null, usermetrics: null };
/** `AnalyticData` zero value. */
export const ZERO_ANALYTIC_DATA: Readonly<AnalyticData> = {
  BaseAnalytics: null,
  UserAnalytics: null,
};

function known(values: Record<string, number | undefined>): Figures {
  const out: Figures = {};
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

function base(x: { cpu_avg: number | undefined; memory_avg: number | undefined }): Figures {
  return known({ cpu_avg: x.cpu_avg, memory_avg: x.memory_avg });
}

function systemBase(last: LastTick): Figures {
  const s = systemFigures(Object.values(last.services), last.node);
  return base({ cpu_avg: s.cpu, memory_avg: s.memory });
}

function instanceData(i: InstanceFigures): MetricData {
  return { basemetrics: base(i), usermetrics: null };
}

/** `GruStats` of the last tick, or the zero value before the first one. */
export function gruStats(last: LastTick | undefined): GruStats {
  if (!last) {
    return {
      Metrics: { service: null, instance: null, system: { ...ZERO_METRIC_DATA } },
      Events: { service: null },
    };
  }
  const service: Record<string, MetricData> = {};
  const events: Record<string, { start: string[]; stop: string[] }> = {};
  for (const [name, s] of Object.entries(last.services)) {
    service[name] = { basemetrics: base(s), usermetrics: known(s.metrics) };
    events[name] = { start: [], stop: [] };
  }
  const instance: Record<string, MetricData> = {};
  for (const [id, i] of Object.entries(last.instances)) instance[id] = instanceData(i);
  return {
    Metrics: {
      service,
      instance,
      system: { basemetrics: systemBase(last), usermetrics: null },
    },
    Events: { service: events },
  };
}

/** `GruAnalytics` of the last tick; the zero value before the first one or with no service. */
export function gruAnalytics(last: LastTick | undefined): GruAnalytics {
  const names = last ? Object.keys(last.services) : [];
  if (!last || names.length === 0) {
    return { service: null, system: { ...ZERO_ANALYTIC_DATA } };
  }
  const service: Record<string, AnalyticData> = {};
  for (const [name, s] of Object.entries(last.services)) {
    service[name] = { BaseAnalytics: base(s), UserAnalytics: known(s.analytics) };
  }
  return { service, system: { BaseAnalytics: systemBase(last), UserAnalytics: null } };
}

/** This node's local shared data of the last tick; the zero value as for analytics. */
export function localShared(last: LastTick | undefined): Shared {
  const analytics = gruAnalytics(last);
  if (analytics.service === null || !last) {
    return {
      service: null,
      system: { Data: { BaseShared: null, UserShared: null }, activeservices: null },
    };
  }
  const service: Shared["service"] = {};
  const active: string[] = [];
  for (const [name, a] of Object.entries(analytics.service)) {
    const s = last.services[name]!;
    const on = s.running + s.pending > 0;
    if (on) active.push(name);
    service[name] = {
      Data: { BaseShared: a.BaseAnalytics, UserShared: a.UserAnalytics },
      active: on,
    };
  }
  return {
    service,
    system: {
      Data: {
        BaseShared: analytics.system.BaseAnalytics,
        UserShared: analytics.system.UserAnalytics,
      },
      activeservices: active,
    },
  };
}

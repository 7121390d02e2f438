/**
 * The original Gru's read routes, kept for its tools (docs/compat.md#diff-original-reads):
 *
 * | Path                                    | Answer                                     |
 * |-----------------------------------------|--------------------------------------------|
 * | GET /gru/v1/stats                       | `GruStats` of the last loop tick           |
 * | GET /gru/v1/stats/services[/{name}]     | service → `MetricData` (or one of them)    |
 * | GET /gru/v1/stats/instances[/{id}]      | container id → `MetricData` (or one)       |
 * | GET /gru/v1/stats/system                | `MetricData` of the node                   |
 * | GET /gru/v1/analytics                   | `GruAnalytics` of the last loop tick       |
 * | GET /gru/v1/analytics/services[/{name}] | service → `AnalyticData` (or one of them)  |
 * | GET /gru/v1/analytics/system            | `AnalyticData` of the node                 |
 * | GET /gru/v1/shared                      | this node's local shared data              |
 *
 * All need the cluster token (they show what runs and how it is loaded: docs/security.md). They
 * answer from memory (what the record phase kept of the last tick), never asking the engine.
 * A name that is neither in the last tick nor in force here (a service in force, an instance
 * this node tracks) is a 404 naming the route and the name; a known one not measured yet reads
 * the original's zero value.
 *
 * @module
 */

import type { Hono, MiddlewareHandler } from "hono";
import { NotFoundError } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";
import type { LastTick } from "../agent/record/decisions.ts";
import {
  gruAnalytics as buildAnalytics,
  gruStats as buildStats,
  localShared as buildShared,
  ZERO_ANALYTIC_DATA,
  ZERO_METRIC_DATA,
} from "./original_views.ts";

/** What these routes read of the agent: all of it in memory. */
export interface OriginalReads {
  /** What the last loop tick measured and analyzed (undefined before the first tick). */
  lastTick(): LastTick | undefined;
  /** Names of the services in force (asked only for a name the last tick lacks). */
  serviceNames(): Promise<string[]>;
  /** Ids of the instances this node tracks now (asked only for an id the last tick lacks). */
  instanceIds(): Promise<string[]>;
}

/** Most names an error lists. */
const LIST_MAX = 10;

function listed(names: string[]): string {
  if (names.length === 0) return "none";
  const shown = names.slice(0, LIST_MAX).join(", ");
  return names.length > LIST_MAX ? `${shown}, … (${names.length} in all)` : shown;
}

function unknownService(route: string, name: string, inForce: string[]): NotFoundError {
  return new NotFoundError(
    `GET ${route}: no service ${excerpt(name)} on this node (services in force: ` +
      `${listed(inForce)})`,
  );
}

/** `map[key]` when `map` has it as its own key (never a prototype member such as `constructor`). */
function own<T>(map: Record<string, T> | null, key: string): T | undefined {
  return map !== null && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** `build` memoized per tick: each document is built once per tick, however often it is read. */
function perTick<T>(build: (last: LastTick | undefined) => T): (last: LastTick | undefined) => T {
  const built = new WeakMap<LastTick, T>();
  return (last) => {
    if (!last) return build(last);
    let value = built.get(last);
    if (value === undefined) built.set(last, value = build(last));
    return value;
  };
}

/** Registers the routes on `api` (mounted at `/gru/v1`) behind `guard` (the token check). */
export function originalRoutes(
  // deno-lint-ignore no-explicit-any
  api: Hono<any>,
  agent: OriginalReads,
  guard: MiddlewareHandler,
): void {
  const gruStats = perTick(buildStats);
  const gruAnalytics = perTick(buildAnalytics);
  const localShared = perTick(buildShared);
  const service = async <T>(
    route: string,
    name: string,
    pick: (l: LastTick) => T | undefined,
    zero: T,
  ): Promise<T> => {
    const last = agent.lastTick();
    const found = last ? pick(last) : undefined;
    if (found !== undefined) return found;
    const inForce = await agent.serviceNames();
    if (inForce.includes(name)) return zero;
    throw unknownService(route, name, inForce);
  };

  api.get("/stats", guard, (c) => c.json(gruStats(agent.lastTick())));
  api.get("/stats/services", guard, (c) => c.json(gruStats(agent.lastTick()).Metrics.service));
  api.get("/stats/services/:name", guard, async (c) => {
    const name = c.req.param("name");
    const route = "/gru/v1/stats/services/{name}";
    return c.json(
      await service(route, name, (l) => own(gruStats(l).Metrics.service, name), {
        ...ZERO_METRIC_DATA,
      }),
    );
  });
  api.get("/stats/instances", guard, (c) => c.json(gruStats(agent.lastTick()).Metrics.instance));
  api.get("/stats/instances/:id", guard, async (c) => {
    const id = c.req.param("id");
    const found = own(gruStats(agent.lastTick()).Metrics.instance, id);
    if (found) return c.json(found);
    if ((await agent.instanceIds()).includes(id)) return c.json({ ...ZERO_METRIC_DATA });
    throw new NotFoundError(
      `GET /gru/v1/stats/instances/{id}: no instance ${excerpt(id)} on this node ` +
        `(expected the full container id of an instance of this node, as GET /gru/v1/node lists)`,
    );
  });
  api.get("/stats/system", guard, (c) => c.json(gruStats(agent.lastTick()).Metrics.system));

  api.get("/analytics", guard, (c) => c.json(gruAnalytics(agent.lastTick())));
  api.get("/analytics/services", guard, (c) => c.json(gruAnalytics(agent.lastTick()).service));
  api.get("/analytics/services/:name", guard, async (c) => {
    const name = c.req.param("name");
    const route = "/gru/v1/analytics/services/{name}";
    return c.json(
      await service(route, name, (l) => own(gruAnalytics(l).service, name), {
        ...ZERO_ANALYTIC_DATA,
      }),
    );
  });
  api.get("/analytics/system", guard, (c) => c.json(gruAnalytics(agent.lastTick()).system));

  api.get("/shared", guard, (c) => c.json(localShared(agent.lastTick())));
}

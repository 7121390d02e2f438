/**
 * The console's JSON API behind the login: the overview and its live event stream, a service's
 * history over the cluster, the configuration manager's documents (read, validate, apply,
 * delete, template) and the operations. Every route names the cluster with `?cluster=` (default:
 * the console's `--cluster`, or the first the caller may see).
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { HistoryView } from "../../agent/record/history.ts";
import { excerpt } from "../../domain/excerpt.ts";
import type { Session } from "./auth.ts";
import {
  type ClusterAccess,
  clusterAgents,
  type ConsoleDeps,
  HttpError,
  pickCluster,
  readJson,
} from "./context.ts";
import { CachedStore } from "./cached_store.ts";
import { checkEdit, parseEdit, readDocuments, serviceTemplate } from "./documents.ts";
import { pretty } from "./doc_text.ts";
import { mergeHistories, type NodeHistory } from "./history.ts";
import { newOverviewMemo, type Overview, type OverviewMemo, overviewOrError } from "./overview.ts";
import { parseOperation, recordedRun, reloadAgents, replActionOf } from "./operations.ts";

/** What the middleware leaves for the routes. */
export type ConsoleEnv = { Variables: { session: Session | "open" | undefined } };

/** Most samples per node in a history answer (the agents thin theirs to this). */
export const MAX_POINTS = 600;

/** How often the event stream sends a comment line, so proxies keep it open. */
export const HEARTBEAT_MS = 15_000;

const RELOAD = {
  config: "agent",
  policy: "policy",
  service: "services",
  analytic: "analytics",
} as const;

/**
 * The API routes (mounted at `/api`).
 *
 * @param deps The store, the agent clients and the clock.
 * @param access Which clusters a caller may see.
 * @returns The sub-app.
 */
export function apiRoutes(deps: ConsoleDeps, access: ClusterAccess): Hono<ConsoleEnv> {
  const api = new Hono<ConsoleEnv>();
  const now = deps.now ?? Date.now;
  // The configuration manager validates and diffs against what is in force: no cache.
  const fresh = deps.store instanceof CachedStore ? deps.store.fresh : deps.store;
  const collect = deps.collect ?? (() => {});

  async function clusterOf(c: Context<ConsoleEnv>, route: string): Promise<string> {
    const session = c.get("session");
    if (session === undefined) throw new HttpError(401, `${route}: expected a login`);
    const visible = await access.visible(session);
    return pickCluster(
      route,
      c.req.query("cluster"),
      visible,
      await access.names(),
      deps.defaultCluster,
    );
  }

  // Overviews and histories are built one at a time: a page with six charts asks for six
  // histories at once while the overview is due, and builds side by side hold every node's
  // answers for all of them together (the console's RSS peaked there, BENCHMARKS.md section 6);
  // one after the other, each build's garbage can go before the next one starts.
  let building: Promise<unknown> = Promise.resolve();
  function oneAtATime<T>(build: () => Promise<T>): Promise<T> {
    const turn = building.then(build, build);
    building = turn.catch(() => {}).finally(collect);
    return turn;
  }

  const intervals = new Map<string, { at: number; ms: Promise<number> }>();
  function loopInterval(cluster: string): Promise<number> {
    const hit = intervals.get(cluster);
    if (hit && now() - hit.at < 5000) return hit.ms;
    const ms = deps.store.getConfig(cluster)
      .then((c) => Math.max(1000, c.autonomic.loopTimeInterval * 1000), () => 5000);
    if (intervals.size > 100) intervals.clear();
    intervals.set(cluster, { at: now(), ms });
    return ms;
  }

  // One overview per cluster and loop interval, shared by every caller and event stream.
  const overviews = new Map<string, { at: number; value: Promise<Overview | { error: string }> }>();
  const memos = new Map<string, OverviewMemo>();
  async function overview(cluster: string): Promise<Overview | { error: string }> {
    const ms = await loopInterval(cluster);
    const hit = overviews.get(cluster);
    if (hit && now() - hit.at < ms - 250) return hit.value;
    let memo = memos.get(cluster);
    if (!memo) {
      if (memos.size > 100) memos.clear();
      memos.set(cluster, memo = newOverviewMemo());
    }
    const built = memo;
    const value = oneAtATime(() => overviewOrError(deps, cluster, built));
    if (overviews.size > 100) overviews.clear();
    overviews.set(cluster, { at: now(), value });
    return value;
  }

  api.get("/overview", async (c) => {
    const route = "GET /api/overview";
    const cluster = await clusterOf(c, route);
    const o = await overview(cluster);
    if ("error" in o) throw new HttpError(503, `${route}: ${o.error}`);
    return c.json(o);
  });

  api.get("/events", async (c) => {
    const cluster = await clusterOf(c, "GET /api/events");
    return streamSSE(c, async (stream) => {
      let lastBeat = now();
      const stopping = () => stream.aborted || stream.closed || deps.signal?.aborted === true;
      while (!stopping()) {
        const o = await overview(cluster);
        if ("error" in o) await stream.writeSSE({ event: "problem", data: JSON.stringify(o) });
        else await stream.writeSSE({ event: "overview", data: JSON.stringify(o) });
        const until = now() + await loopInterval(cluster);
        while (!stopping() && now() < until) {
          await stream.sleep(Math.min(1000, until - now()));
          if (now() - lastBeat >= HEARTBEAT_MS) {
            await stream.write(": hb\n\n");
            lastBeat = now();
          }
        }
      }
    });
  });

  // One merged history per cluster, service and span while it is fresh, shared by every caller.
  const histories = new Map<string, { at: number; ttl: number; value: Promise<unknown> }>();

  async function mergedHistory(cluster: string, service: string, minutes: number) {
    const key = `${cluster}\n${service}\n${minutes}`;
    const hit = histories.get(key);
    if (hit && now() - hit.at < hit.ttl) return hit.value;
    const [nodes, policy, intervalMs] = await Promise.all([
      deps.store.listNodes(cluster),
      deps.store.getPolicy(cluster),
      loopInterval(cluster),
    ]);
    // At most MAX_POINTS samples per node: a chart is a few hundred pixels wide.
    const step = Math.max(intervalMs, Math.ceil(minutes * 60 / MAX_POINTS) * 1000);
    const value = oneAtATime(async () => {
      const run = await clusterAgents(deps, cluster);
      const path = `/history?service=${
        encodeURIComponent(service)
      }&minutes=${minutes}&step=${step}`;
      const answers: NodeHistory[] = await Promise.all(nodes.map(async (n) => {
        try {
          const view = await run((a) => a.get<HistoryView>(n.config.address, path));
          return { node: n.config.name, view };
        } catch (error) {
          return { node: n.config.name, error };
        }
      }));
      const to = now();
      return mergeHistories({
        service,
        nodes: answers,
        intervalMs: step,
        from: to - minutes * 60_000,
        to,
        policy,
      });
    });
    value.catch(() => histories.delete(key));
    if (histories.size > 200) histories.clear();
    histories.set(key, { at: now(), ttl: Math.max(2000, step), value });
    return value;
  }

  api.get("/services/:name/history", async (c) => {
    const route = "GET /api/services/:name/history";
    const cluster = await clusterOf(c, route);
    const service = c.req.param("name");
    const raw = c.req.query("minutes") ?? "60";
    const minutes = Number(raw);
    if (!(Number.isInteger(minutes) && minutes >= 1 && minutes <= 60)) {
      throw new HttpError(
        400,
        `${route}: expected minutes, a whole number in 1..60, found ${excerpt(raw, 20)}`,
      );
    }
    if (!(await deps.store.listServices(cluster)).some((s) => s.name === service)) {
      throw new HttpError(
        404,
        `${route}: expected name to be a service of ${cluster}; no ${excerpt(service, 60)}`,
      );
    }
    return c.json(await mergedHistory(cluster, service, minutes));
  });

  api.get("/documents", async (c) => {
    const cluster = await clusterOf(c, "GET /api/documents");
    return c.json(await readDocuments(fresh, cluster));
  });

  api.post("/documents/validate", async (c) => {
    const route = "POST /api/documents/validate";
    const cluster = await clusterOf(c, route);
    const edit = parseEdit(route, await readJson(c, route));
    const { ok, problems, diff } = await checkEdit(fresh, cluster, edit);
    return c.json({ ok, problems, diff });
  });

  api.put("/documents", async (c) => {
    const route = "PUT /api/documents";
    const cluster = await clusterOf(c, route);
    const edit = parseEdit(route, await readJson(c, route));
    const checked = await checkEdit(fresh, cluster, edit);
    if (!checked.ok || !checked.write) {
      const first = checked.problems.find((p) => p.severity === "error");
      const why = first ? `${first.path}: ${first.message}` : "the document does not parse";
      return c.json({
        ok: false,
        error: `${route}: nothing written; ${why}`.slice(0, 400),
        problems: checked.problems,
      }, 400);
    }
    await deps.store.importDocs(cluster, checked.write, { upsert: true });
    const reload = await reloadAgents(deps, cluster, RELOAD[edit.kind]);
    return c.json({ ok: true, problems: checked.problems, diff: checked.diff, ...reload });
  });

  api.delete("/documents", async (c) => {
    const route = "DELETE /api/documents";
    const cluster = await clusterOf(c, route);
    const edit = parseEdit(route, await readJson(c, route), false);
    if (edit.kind !== "service" && edit.kind !== "analytic") {
      throw new HttpError(
        400,
        `${route}: expected kind service or analytic (config and policy stay)`,
      );
    }
    const checked = await checkEdit(fresh, cluster, edit, true);
    if (!checked.ok) {
      const first = checked.problems.find((p) => p.severity === "error");
      return c.json({
        ok: false,
        error: `${route}: nothing deleted; ${
          first ? `${first.file ?? ""} ${first.path}: ${first.message}` : "refused"
        }`
          .slice(0, 400),
        problems: checked.problems,
      }, 400);
    }
    const remove = edit.kind === "service"
      ? { services: [edit.name!] }
      : { analytics: [edit.name!] };
    await deps.store.importDocs(cluster, {}, { upsert: true, remove });
    const reload = await reloadAgents(deps, cluster, RELOAD[edit.kind]);
    return c.json({ ok: true, problems: checked.problems, diff: checked.diff, ...reload });
  });

  api.get("/templates/service", (c) => {
    const doc = serviceTemplate();
    return c.json({ doc, text: pretty(doc) });
  });

  api.post("/operations", async (c) => {
    const route = "POST /api/operations";
    const cluster = await clusterOf(c, route);
    const op = parseOperation(route, await readJson(c, route));
    const { results } = await recordedRun(deps, cluster, replActionOf(op));
    return c.json({ ok: results.every((r) => r.ok), results });
  });

  return api;
}

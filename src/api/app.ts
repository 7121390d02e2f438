/**
 * The agent HTTP API (hono). Routes are under `/gru/v1`; every error is JSON with a proper
 * status; bodies are limited to 1 MiB and requests time out. Mutating routes require the
 * cluster token as `Authorization: Bearer <token>` (or `x-gru-token`) when the cluster has one.
 *
 * | Method | Path                                   | What                                  |
 * |--------|----------------------------------------|---------------------------------------|
 * | GET    | /gru/v1/health                         | agent and dependency health (503 when degraded) |
 * | GET    | /gru/v1/node                           | node record and its instances         |
 * | GET    | /gru/v1/services                       | services in force with this node's instances |
 * | GET    | /gru/v1/services/{name}                | one service                           |
 * | POST   | /gru/v1/services/{name}/instances      | start one instance (token)            |
 * | DELETE | /gru/v1/services/{name}/instances      | stop the newest instance (token)      |
 * | DELETE | /gru/v1/services/{name}/instances/{id} | stop that instance (token)            |
 * | GET    | /gru/v1/config                         | agent config, policy, analytics in force |
 * | POST   | /gru/v1/commands                       | a command `{Name, Target, Object}` (token)        |
 * | GET    | /gru/v1/decisions?limit=N              | the latest decision records, newest last |
 * | POST   | /gru/v1/stats/user/{service}/{metric}  | record metric values `{"values": [..]}` (token) |
 * | POST   | /gru/v1/gossip                         | push-pull gossip exchange (token)     |
 * | GET    | /gru/v1/gossip                         | this node's gossiped view and counters |
 * | GET    | /gru/v1/policies, /gru/v1/actions      | the original's static lists           |
 * | GET    | /metrics                               | self-metrics, Prometheus text format 0.0.4 |
 *
 * @module
 */

import { Hono } from "hono";
import type { Context, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { timeout } from "hono/timeout";
import { UnauthorizedError, ValidationError } from "../domain/errors.ts";
import type { Agent } from "../agent/agent.ts";
import { errorResponse } from "./errors.ts";
import { parseGossipMessage } from "../agent/gossip/types.ts";
import type { AgentCommand } from "../domain/commands.ts";
import { API_PREFIX, TOKEN_HEADER } from "./protocol.ts";

/** What the API serves: the agent facade, and nothing of its parts. */
export type AgentApi = Pick<
  Agent,
  | "identity"
  | "health"
  | "node"
  | "servicesView"
  | "command"
  | "config"
  | "policy"
  | "analytics"
  | "decisionsList"
  | "pushUserMetric"
  | "gossip"
  | "gossipState"
>;

/** Options of `createApi`. */
export interface ApiOptions {
  /** The cluster token, read per request (it may be loaded after start-up). */
  token: () => string | undefined;
  /** @default 1 MiB */
  maxBodyBytes?: number;
  /** @default 60000 */
  timeoutMs?: number;
  /** The agent's self-metrics in the Prometheus text format, served at `GET /metrics`. */
  metrics?: (() => string) | undefined;
}

/** Content type of `GET /metrics` (Prometheus text exposition format 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Reads a JSON body, turning bad JSON into a `ValidationError`. */
async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`Request body is not JSON: ${(err as Error).message}`);
  }
}

/** Reads a command (docs/compat.md#keep-commands) with keys in any letter case. */
export function toCommand(body: unknown): AgentCommand {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError(
      `Expected a command object {"Name", "Target", "Object"}, found ${JSON.stringify(body)}`,
    );
  }
  const lower = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const name = lower.get("name");
  const target = lower.get("target");
  if (typeof name !== "string" || typeof target !== "string") {
    throw new ValidationError(
      `Expected string "Name" and "Target" in the command, found ${JSON.stringify(body)}`,
    );
  }
  return { name, target, object: lower.get("object") };
}

/** Builds the API app around an agent. */
export function createApi(agent: AgentApi, options: ApiOptions): Hono {
  const app = new Hono();
  const api = new Hono();

  const requireToken = async (c: Context, next: Next) => {
    const token = options.token();
    if (token) {
      const auth = c.req.header("authorization") ?? "";
      const given = auth.toLowerCase().startsWith("bearer ")
        ? auth.slice(7).trim()
        : c.req.header(TOKEN_HEADER) ?? "";
      if (!given || !timingSafeEqual(given, token)) {
        throw new UnauthorizedError(
          "Missing or wrong cluster token: send Authorization: Bearer <token>",
        );
      }
    }
    await next();
  };

  api.use(
    "*",
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: (c) =>
        c.json({ error: { code: "too_large", message: "Request body is over the limit" } }, 413),
    }),
  );
  api.use("*", timeout(options.timeoutMs ?? 60_000));

  api.get("/health", (c) => {
    const h = agent.health();
    return c.json(h, h.status === "ok" ? 200 : 503);
  });

  api.get("/node", async (c) => {
    return c.json(await agent.node());
  });

  api.get("/services", async (c) => c.json(await agent.servicesView()));

  api.get("/services/:name", async (c) => {
    const name = c.req.param("name");
    const s = (await agent.servicesView()).find((x) => x.name === name);
    if (!s) {
      return c.json({ error: { code: "not_found", message: `Unknown service "${name}"` } }, 404);
    }
    return c.json(s);
  });

  api.post("/services/:name/instances", requireToken, async (c) => {
    const r = await agent.command({
      name: "start",
      target: "service",
      object: c.req.param("name"),
    });
    return c.json(r, 201);
  });

  api.delete(
    "/services/:name/instances",
    requireToken,
    async (c) =>
      c.json(await agent.command({ name: "stop", target: "service", object: c.req.param("name") })),
  );

  api.delete("/services/:name/instances/:id", requireToken, async (c) =>
    c.json(
      await agent.command({
        name: "stop",
        target: "service",
        object: { service: c.req.param("name"), id: c.req.param("id") },
      }),
    ));

  api.get("/config", (c) =>
    c.json({
      config: agent.config,
      policy: agent.policy,
      analytics: [...agent.analytics.values()],
    }));

  api.post("/commands", requireToken, async (c) => {
    const cmd = toCommand(await jsonBody(c));
    return c.json(await agent.command(cmd));
  });

  api.get("/decisions", (c) => {
    const raw = c.req.query("limit");
    const limit = raw === undefined ? undefined : Number(raw);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new ValidationError(`Invalid limit "${raw}": expected a whole number > 0`);
    }
    return c.json(agent.decisionsList(limit));
  });

  api.post("/stats/user/:service/:metric", requireToken, async (c) => {
    const body = await jsonBody(c);
    const values = typeof body === "object" && body !== null && !Array.isArray(body)
      ? new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v])).get("values")
      : undefined;
    if (!Array.isArray(values)) {
      throw new ValidationError(
        `Expected {"values": [numbers]}, found ${JSON.stringify(body)?.slice(0, 200)}`,
      );
    }
    const service = c.req.param("service");
    const metric = c.req.param("metric");
    agent.pushUserMetric(service, metric, values);
    return c.json({
      ok: true,
      message: `Recorded ${values.length} values of ${service}/${metric}`,
    });
  });

  api.post("/gossip", requireToken, async (c) => {
    return c.json(agent.gossip(parseGossipMessage(await jsonBody(c))));
  });

  api.get("/gossip", (c) => {
    return c.json(agent.gossipState());
  });

  api.get("/policies", (c) =>
    c.json([
      { name: "scaleout", actions: ["start"] },
      { name: "scalein", actions: ["stop", "remove"] },
      { name: "swap", actions: ["stop", "remove", "start"] },
    ]));
  api.get("/actions", (c) => c.json([0, 1, 2, 3]));

  app.route(API_PREFIX, api);
  // At the root, by Prometheus' convention.
  app.get("/metrics", (c) => {
    if (!options.metrics) {
      return c.json({
        error: { code: "not_found", message: "Metrics are not enabled on this agent" },
      }, 404);
    }
    return c.body(options.metrics(), 200, { "content-type": METRICS_CONTENT_TYPE });
  });
  app.notFound((c) =>
    c.json({
      error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}` },
    }, 404)
  );
  app.onError((err, c) => errorResponse(err, c));
  return app;
}

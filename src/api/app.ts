/**
 * The agent HTTP API (hono). Routes are under `/gru/v1`; every error is JSON with a proper
 * status; bodies are limited to 1 MiB and requests time out.
 *
 * Trust (docs/security.md):
 * - every route marked "token" needs the cluster token as `Authorization: Bearer <token>` (or
 *   `x-gru-token`); without a token in force the agent refuses them with 503 (fail closed);
 * - POST and DELETE need `content-type: application/json`; a request without a body may omit
 *   the header; anything else (`text/plain`, forms) is 415, so a web page cannot forge them;
 * - responses never carry a secret (`./redact.ts`);
 * - every POST and DELETE leaves an audit line (logger `gru.audit`; gossip at debug level).
 *
 * | Method | Path                                   | What                                  |
 * |--------|----------------------------------------|---------------------------------------|
 * | GET    | /gru/v1/health                         | agent, dependency and token health (503 when degraded) |
 * | GET    | /gru/v1/node                           | node record, its instances and desired state (token) |
 * | GET    | /gru/v1/services                       | services in force with this node's instances, redacted (token) |
 * | GET    | /gru/v1/services/{name}                | one service, redacted (token)         |
 * | POST   | /gru/v1/services/{name}/instances      | start one instance (token)            |
 * | DELETE | /gru/v1/services/{name}/instances      | stop the newest instance (token)      |
 * | DELETE | /gru/v1/services/{name}/instances/{id} | stop that instance (token)            |
 * | GET    | /gru/v1/config                         | agent config, policy, analytics in force, redacted (token) |
 * | POST   | /gru/v1/commands                       | a command `{Name, Target, Object}` (token)        |
 * | GET    | /gru/v1/decisions?limit=N              | the latest decision records, newest last (token) |
 * | POST   | /gru/v1/stats/user/{service}/{metric}  | record metric values `{"values": [..]}` (token) |
 * | POST   | /gru/v1/gossip                         | push-pull gossip exchange (token)     |
 * | GET    | /gru/v1/gossip                         | this node's gossiped view and counters (token) |
 * | GET    | /gru/v1/stats[/services[/{name}]], /stats/instances[/{id}], /stats/system | the original's `GruStats` of the last tick, or a part (token; `./original_routes.ts`) |
 * | GET    | /gru/v1/analytics[/services[/{name}]], /analytics/system | the original's `GruAnalytics`, or a part (token) |
 * | GET    | /gru/v1/shared                         | the original's local shared data (token) |
 * | GET    | /gru/v1/policies, /gru/v1/actions      | the original's static lists           |
 * | GET    | /metrics                               | self-metrics, Prometheus text format 0.0.4 |
 *
 * @module
 */

import { Hono } from "hono";
import type { Context, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { timeout } from "hono/timeout";
import { getLogger } from "@logtape/logtape";
import { UnauthorizedError, UnavailableError, ValidationError } from "../domain/errors.ts";
import { escapeControl, excerpt } from "../domain/excerpt.ts";
import type { Agent } from "../agent/agent.ts";
import { errorResponse } from "./errors.ts";
import { parseGossipMessage } from "../agent/gossip/types.ts";
import { API_PREFIX } from "./protocol.ts";
import { redactAgentConfig, redactService, redactUnknown, redactUrl } from "./redact.ts";
import { fixedTokenAuth, type TokenAuth } from "./token_keeper.ts";
import { originalRoutes } from "./original_routes.ts";
import { contentTypeProblem, jsonBody, presentedToken, remoteHost, toCommand } from "./request.ts";

export { contentTypeProblem, toCommand } from "./request.ts";

const audit = getLogger(["gru", "audit"]);

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
  | "lastTick"
  | "history"
  | "pushUserMetric"
  | "gossip"
  | "gossipState"
>;

/** Options of `createApi`. */
export interface ApiOptions {
  /**
   * The cluster token in force: a `TokenAuth` (the agent's `TokenKeeper`), or a function read
   * per request (undefined: no token in force, so every authenticated route answers 503).
   */
  token: TokenAuth | (() => string | undefined);
  /** @default 1 MiB */
  maxBodyBytes?: number;
  /** @default 60000 */
  timeoutMs?: number;
  /** The agent's self-metrics in the Prometheus text format, served at `GET /metrics`. */
  metrics?: (() => string) | undefined;
  /**
   * The verified client-certificate name (CN) of the caller, given hono's `c.env`, when the
   * agent runs with mutual TLS; else undefined. Gossip requires `$.from` to equal it.
   */
  peerName?: ((env: unknown) => string | undefined) | undefined;
}

/** Content type of `GET /metrics` (Prometheus text exposition format 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What the audit line of a request says (set by the middleware and the handlers). */
type Audited = { Variables: { who: string; what: string } };

/** Builds the API app around an agent. */
export function createApi(agent: AgentApi, options: ApiOptions): Hono {
  const app = new Hono();
  const api = new Hono<Audited>();
  const tokens: TokenAuth = typeof options.token === "function"
    ? fixedTokenAuth(agent.identity?.cluster ?? "<cluster>", options.token)
    : options.token;
  const peerOf = (c: Context) => options.peerName?.(c.env);

  const requireToken = async (c: Context<Audited>, next: Next) => {
    const given = presentedToken(c);
    // An unknown token makes the agent read the store again (rate-limited): a client that
    // learnt of a rotation before this agent did is not refused.
    const ok = given !== "" &&
      (tokens.accepts(given) || (await tokens.recheck?.(given) ?? false));
    if (!ok) {
      const state = tokens.status();
      if (!state.ok) {
        throw new UnavailableError(`Refused: ${state.error ?? "no cluster token in force"}`);
      }
      throw new UnauthorizedError(
        given === ""
          ? "Missing cluster token: send Authorization: Bearer <token>"
          : "Wrong cluster token: send the current one (gru token show <cluster>)",
      );
    }
    c.set("who", peerOf(c) ?? "token");
    await next();
  };

  // The audit line of every POST and DELETE, written once the answer is known.
  api.use("*", async (c, next) => {
    const method = c.req.method;
    if (method !== "POST" && method !== "DELETE") return await next();
    c.set("who", peerOf(c) ?? "anonymous");
    await next();
    const status = c.res.status;
    const gossip = c.req.path.endsWith("/gossip");
    const line = {
      who: c.get("who"),
      from: remoteHost(c.env) ?? "-",
      method,
      path: escapeControl(c.req.path).slice(0, 200),
      what: c.get("what") ?? "-",
      status,
    };
    const template = "{who} from {from}: {method} {path} {what} → {status}";
    if (status >= 400) audit.warn(template, line);
    else if (gossip) audit.debug(template, line);
    else audit.info(template, line);
  });

  api.use(
    "*",
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: (c) =>
        c.json({ error: { code: "too_large", message: "Request body is over the limit" } }, 413),
    }),
  );
  api.use("*", timeout(options.timeoutMs ?? 60_000));

  api.use("*", async (c, next) => {
    const problem = contentTypeProblem(c.req.method, c.req.raw.headers);
    if (problem === undefined) return await next();
    return c.json({ error: { code: "unsupported_media_type", message: problem } }, 415);
  });

  api.get("/health", (c) => {
    const h = agent.health();
    const token = tokens.status();
    const ok = h.status === "ok" && token.ok;
    const clean = (e: string | undefined) =>
      e === undefined ? undefined : escapeControl(redactUrl(e)).slice(0, 300);
    // A degraded answer says why in `error.message`, as every other error answer does.
    const refused = h.documents?.problems ?? [];
    const why = [
      h.store.ok ? undefined : `store: ${h.store.error ?? "not ok"}`,
      h.docker.ok ? undefined : `docker: ${h.docker.error ?? "not ok"}`,
      token.ok ? undefined : `token: ${token.error ?? "not ok"}`,
      h.loop?.error === undefined ? undefined : `loop died: ${h.loop.error}`,
      ...refused.map((p) => `document ${p.document} refused (${p.inForce} in force)`),
    ].filter((x) => x !== undefined).join("; ");
    return c.json({
      ...h,
      ...(ok ? {} : { error: { code: "degraded", message: clean(`Degraded: ${why}`) } }),
      status: ok ? "ok" : "degraded",
      store: { ...h.store, error: clean(h.store.error) },
      docker: { ...h.docker, error: clean(h.docker.error) },
      ...(h.loop ? { loop: { ...h.loop, error: clean(h.loop.error) } } : {}),
      documents: {
        ok: refused.length === 0,
        // /health is open: why a document was refused can quote its values (an Env entry),
        // so only a caller with the token gets the reason.
        problems: refused.map(({ error, ...p }) =>
          tokens.accepts(presentedToken(c)) ? { ...p, error: clean(error) } : p
        ),
      },
      token,
    }, ok ? 200 : 503);
  });

  api.get("/node", requireToken, async (c) => {
    const { instances, ...node } = await agent.node();
    // Instances hold only what Gru set or read of its own containers (ids, names, cores,
    // ports, times): nothing to redact, and walking them would cost the most of this read.
    return c.json({ ...(redactUnknown(node) as object), instances });
  });

  api.get(
    "/services",
    requireToken,
    async (c) => c.json((await agent.servicesView()).map(redactService)),
  );

  api.get("/services/:name", requireToken, async (c) => {
    const name = c.req.param("name");
    const s = (await agent.servicesView()).find((x) => x.name === name);
    if (!s) {
      return c.json(
        { error: { code: "not_found", message: `Unknown service ${excerpt(name)}` } },
        404,
      );
    }
    return c.json(redactService(s));
  });

  api.post("/services/:name/instances", requireToken, async (c) => {
    const name = c.req.param("name");
    c.set("what", `start service ${excerpt(name)}`);
    const r = await agent.command({ name: "start", target: "service", object: name });
    return c.json(redactUnknown(r), 201);
  });

  api.delete("/services/:name/instances", requireToken, async (c) => {
    const name = c.req.param("name");
    c.set("what", `stop service ${excerpt(name)}`);
    return c.json(
      redactUnknown(await agent.command({ name: "stop", target: "service", object: name })),
    );
  });

  api.delete("/services/:name/instances/:id", requireToken, async (c) => {
    const name = c.req.param("name");
    const id = c.req.param("id");
    c.set("what", `stop service ${excerpt(name)} instance ${excerpt(id)}`);
    return c.json(
      redactUnknown(
        await agent.command({ name: "stop", target: "service", object: { service: name, id } }),
      ),
    );
  });

  api.get("/config", requireToken, (c) =>
    c.json({
      config: redactAgentConfig(agent.config),
      policy: agent.policy,
      analytics: [...agent.analytics.values()],
    }));

  api.post("/commands", requireToken, async (c) => {
    const cmd = toCommand(await jsonBody(c));
    c.set(
      "what",
      `command ${excerpt(cmd.name, 20)} ${excerpt(cmd.target, 30)}` +
        (cmd.object === undefined ? "" : ` ${excerpt(cmd.object, 60)}`),
    );
    return c.json(redactUnknown(await agent.command(cmd)));
  });

  // The bounded history of the console's charts: ?service=<name>&minutes=<0..60> (0: the
  // newest tick only, e.g. for whether InfluxDB writes work)&step=<ms> (one sample per step).
  api.get("/history", requireToken, (c) => {
    const raw = c.req.query("minutes");
    const minutes = raw === undefined ? undefined : Number(raw);
    if (minutes !== undefined && !(Number.isFinite(minutes) && minutes >= 0 && minutes <= 60)) {
      throw new ValidationError(`Invalid minutes ${excerpt(raw)}: expected a number in [0, 60]`);
    }
    const step = c.req.query("step");
    const stepMs = step === undefined ? undefined : Number(step);
    if (stepMs !== undefined && !(Number.isInteger(stepMs) && stepMs >= 0)) {
      throw new ValidationError(`Invalid step ${excerpt(step)}: expected milliseconds >= 0`);
    }
    const view = agent.history({ service: c.req.query("service"), minutes, stepMs });
    if (!view) {
      return c.json({ error: { code: "not_found", message: "No history on this agent" } }, 404);
    }
    return c.json({ node: agent.identity.name, ...view });
  });

  api.get("/decisions", requireToken, (c) => {
    const raw = c.req.query("limit");
    const limit = raw === undefined ? undefined : Number(raw);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new ValidationError(`Invalid limit ${excerpt(raw)}: expected a whole number > 0`);
    }
    return c.json(agent.decisionsList(limit));
  });

  api.post("/stats/user/:service/:metric", requireToken, async (c) => {
    const service = c.req.param("service");
    const metric = c.req.param("metric");
    c.set("what", `metric ${excerpt(service, 40)}/${excerpt(metric, 40)}`);
    const body = await jsonBody(c);
    const values = typeof body === "object" && body !== null && !Array.isArray(body)
      ? new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v])).get("values")
      : undefined;
    if (!Array.isArray(values)) {
      throw new ValidationError(`Expected {"values": [numbers]}, found ${excerpt(body)}`);
    }
    agent.pushUserMetric(service, metric, values);
    return c.json({
      ok: true,
      message: `Recorded ${values.length} values of ${service}/${metric}`,
    });
  });

  api.post("/gossip", requireToken, async (c) => {
    const message = parseGossipMessage(await jsonBody(c));
    c.set("what", `gossip from ${excerpt(message.from)} (${message.entries.length} entries)`);
    return c.json(await agent.gossip(message, options.peerName?.(c.env)));
  });

  api.get("/gossip", requireToken, (c) => {
    return c.json(agent.gossipState());
  });

  // The original's reads (GruStats, GruAnalytics, local shared data), from memory.
  originalRoutes(api, {
    lastTick: () => agent.lastTick(),
    serviceNames: async () => (await agent.servicesView()).map((s) => s.name),
    instanceIds: async () => (await agent.node()).instances.map((i) => i.id),
  }, requireToken);

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
      error: { code: "not_found", message: `No route ${c.req.method} ${excerpt(c.req.path)}` },
    }, 404)
  );
  app.onError((err, c) => errorResponse(err, c));
  return app;
}

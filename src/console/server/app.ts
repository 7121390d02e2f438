/**
 * The console's HTTP app (hono): security headers on every answer, the Host check of a loopback
 * console, the login and the session cookie, the CSRF check of state-changing requests, and the
 * JSON API of the overview, the live events, the service history, the configuration manager and
 * the operations; then the assets (`serveAssets`). The routes are in `routes.ts`.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "@logtape/logtape";
import { redactUrl } from "../../api/redact.ts";
import { remoteHost } from "../../api/request.ts";
import {
  ConflictError,
  errorMessage,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from "../../domain/errors.ts";
import { escapeControl } from "../../domain/excerpt.ts";
import {
  csrfProblem,
  LoginLimiter,
  loopbackHostAllowed,
  sameSecret,
  type Session,
  sessionCookie,
  sessionIdOf,
  Sessions,
} from "./auth.ts";
import { CachedStore } from "./cached_store.ts";
import {
  ClusterAccess,
  type ConsoleDeps,
  defaultClusterOf,
  HttpError,
  readJson,
} from "./context.ts";
import { serveAssets } from "./assets.ts";
import { apiRoutes, type ConsoleEnv } from "./routes.ts";

const log = getLogger(["gru", "console"]);

/** Largest request body, in bytes. */
export const MAX_BODY_BYTES = 512 * 1024;

/** The headers of every answer: the page runs only its own scripts and is never framed. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; script-src 'self'; " +
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** The JSON answer of an error: `{error}` naming the route, never a secret. */
export function errorAnswer(route: string, err: unknown): { status: number; error: string } {
  const clean = (m: string) => escapeControl(redactUrl(m)).slice(0, 400);
  if (err instanceof HttpError) return { status: err.status, error: clean(err.message) };
  const status = err instanceof ValidationError
    ? 400
    : err instanceof NotFoundError
    ? 404
    : err instanceof ConflictError
    ? 409
    : err instanceof UnauthorizedError || err instanceof UnavailableError
    ? 503
    : 500;
  if (status === 500) {
    log.error("{route} failed: {error}", { route, error: errorMessage(err) });
    return { status, error: `${route}: internal error (see the console's log)` };
  }
  return { status, error: clean(`${route}: ${errorMessage(err)}`) };
}

/**
 * Builds the console app.
 *
 * @param deps The store, agent clients and login settings.
 * @returns The hono app (`app.fetch` serves it).
 */
export function createConsoleApp(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const now = deps.now ?? Date.now;
  const store = deps.store instanceof CachedStore
    ? deps.store
    : new CachedStore(deps.store, { now });
  deps = { ...deps, store };
  const random = deps.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const sessions = new Sessions({ now, random });
  const limiter = new LoginLimiter({ now });
  const access = new ClusterAccess(deps.store, now);
  const loginMode = deps.loopback ? "none" : "required";

  app.use("*", async (c, next) => {
    // HTTP/2 has no Host header: the request URL holds its :authority.
    if (deps.loopback && !loopbackHostAllowed(c.req.header("host") ?? new URL(c.req.url).host)) {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
      return c.json({ error: "console: expected a loopback Host (localhost or 127.0.0.1)" }, 403);
    }
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });

  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: `${c.req.method} ${c.req.path}: body over the limit` }, 413),
    }),
  );

  app.use("/api/*", async (c: Context<ConsoleEnv>, next: Next) => {
    c.header("cache-control", "no-store");
    const route = `${c.req.method} ${escapeControl(c.req.path).slice(0, 80)}`;
    const csrf = csrfProblem({
      method: c.req.method,
      contentType: c.req.header("content-type") ?? null,
      origin: c.req.header("origin") ?? null,
      secFetchSite: c.req.header("sec-fetch-site") ?? null,
      selfOrigin: `${deps.https ? "https" : "http"}://${
        c.req.header("host") ?? new URL(c.req.url).host
      }`,
    });
    if (csrf) return c.json({ error: `${route}: ${csrf.error}` }, csrf.status);
    const open = c.req.path === "/api/session" || c.req.path === "/api/login";
    let session: Session | "open" | undefined = deps.loopback ? "open" : undefined;
    if (!deps.loopback) {
      const s = sessions.get(sessionIdOf(c.req.header("cookie")));
      if (s && (await access.visible(s)).length > 0) session = s;
      else if (s) sessions.close(sessionIdOf(c.req.header("cookie")));
    }
    if (session === undefined && !open) {
      return c.json(
        { error: "console: expected a login (POST /api/login)", login: "required" },
        401,
      );
    }
    c.set("session", session);
    await next();
  });

  app.get("/api/session", async (c) => {
    const session = c.get("session");
    const clusters = session === undefined ? [] : await access.visible(session);
    const cluster = defaultClusterOf(clusters, deps.defaultCluster);
    let loopIntervalMs = 5000;
    if (cluster !== null) {
      const config = await deps.store.getConfig(cluster).catch(() => undefined);
      loopIntervalMs = Math.max(1000, (config?.autonomic.loopTimeInterval ?? 5) * 1000);
    }
    return c.json({
      cluster,
      clusters,
      login: loginMode,
      ...(session !== undefined && session !== "open" ? { user: session.user } : {}),
      loggedIn: session !== undefined,
      loopIntervalMs,
    });
  });

  app.post("/api/login", async (c) => {
    const route = "POST /api/login";
    if (deps.loopback) return c.json({ ok: true, user: "none", clusters: await access.names() });
    const from = remoteHost(c.env) ?? "unknown";
    if (!limiter.allowed(from)) {
      return c.json({ error: `${route}: too many failed logins; wait a minute` }, 429);
    }
    const body = await readJson(c, route);
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    let session: Session | undefined;
    if (typeof b.password === "string" && deps.password !== undefined) {
      if (sameSecret(b.password, deps.password)) session = { user: "password", expires: 0 };
    } else if (typeof b.token === "string" && b.token !== "") {
      const s: Session = { user: "token", token: b.token, expires: 0 };
      if ((await access.visible(s)).length > 0) session = s;
    } else {
      const what = deps.password !== undefined ? "{token} or {password}" : "{token}";
      return c.json({ error: `${route}: expected ${what}` }, 400);
    }
    if (!session) {
      limiter.failed(from);
      log.warn("Failed console login from {from}", { from });
      return c.json({ error: `${route}: wrong token or password` }, 401);
    }
    const id = sessions.open(session.user, session.token);
    c.header("set-cookie", sessionCookie(id));
    log.info("Console login ({user}) from {from}", { user: session.user, from });
    return c.json({ ok: true, user: session.user, clusters: await access.visible(session) });
  });

  app.post("/api/logout", (c) => {
    sessions.close(sessionIdOf(c.req.header("cookie")));
    c.header("set-cookie", sessionCookie(undefined));
    return c.json({ ok: true });
  });

  app.route("/api", apiRoutes({ ...deps, store }, access));

  app.all(
    "/api/*",
    (c) => c.json({ error: `${c.req.method} ${c.req.path.slice(0, 80)}: no such route` }, 404),
  );

  app.onError((err, c) => {
    const route = `${c.req.method} ${c.req.routePath}`;
    const { status, error } = errorAnswer(route, err);
    return c.json({ error }, status as 400);
  });

  serveAssets(app as unknown as Hono);
  return app;
}

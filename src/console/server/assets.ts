/**
 * The console's static files, served from the binary: the single-page app of
 * `src/console/assets/` (read relative to this module, so `deno compile --include
 * src/console/assets` carries them) and uPlot from its npm package's dist files (imported as text,
 * so the compiled binary holds them too). Nothing comes from a CDN; the console works offline.
 *
 * Routes: `GET /` (the app), `GET /assets/<file>` (its modules and style sheet),
 * `GET /assets/vendor/uplot.js` and `/assets/vendor/uplot.css`.
 *
 * @module
 */

import type { Context, Env, Hono } from "hono";
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

/** The folder of the app's files, next to the server's. */
const ASSETS_DIR = new URL("../assets/", import.meta.url);

/** Content types by file extension; any other extension is not served. */
const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

/** A served file name: one path segment, no dot files, a known extension. */
const FILE_NAME = /^[a-z0-9][a-z0-9_-]*\.([a-z]+)$/;

const VENDOR: Readonly<Record<string, { body: string; type: string }>> = {
  "uplot.js": { body: uplotJs, type: TYPES.js! },
  "uplot.css": { body: uplotCss, type: TYPES.css! },
};

/** Read once, kept: the app is a few tens of kilobytes. */
const cache = new Map<string, Uint8Array<ArrayBuffer>>();

async function readAsset(name: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const hit = cache.get(name);
  if (hit) return hit;
  try {
    const bytes = await Deno.readFile(new URL(name, ASSETS_DIR));
    cache.set(name, bytes);
    return bytes;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * The file's own headers. The console's app adds the security headers (content security policy:
 * same origin only, no inline script) to every answer, these included.
 */
function headers(type: string): Record<string, string> {
  return { "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff" };
}

async function serveFile<E extends Env>(c: Context<E>, name: string): Promise<Response> {
  const m = FILE_NAME.exec(name);
  const type = m ? TYPES[m[1]!] : undefined;
  const body = type ? await readAsset(name) : undefined;
  if (!type || !body) {
    return c.json({ error: `GET /assets/${name.slice(0, 80)}: no such console file` }, 404);
  }
  return new Response(body, { headers: headers(type) });
}

/**
 * Adds the console's static routes to `app`: `/` answers the app's page, `/assets/*` its files
 * and the vendored uPlot. Register them before any catch-all route.
 *
 * @param app The console's hono app.
 * @example Serving the console's files
 * ```ts
 * import { Hono } from "hono";
 * const app = new Hono();
 * serveAssets(app);
 * ```
 */
export function serveAssets<E extends Env>(app: Hono<E>): void {
  app.get("/", (c) => serveFile(c, "index.html"));
  app.get("/index.html", (c) => serveFile(c, "index.html"));
  app.get("/assets/vendor/:file", (c) => {
    const v = VENDOR[c.req.param("file")];
    if (!v) return c.json({ error: "GET /assets/vendor: expected uplot.js or uplot.css" }, 404);
    return new Response(v.body, { headers: headers(v.type) });
  });
  app.get("/assets/:file", (c) => serveFile(c, c.req.param("file")));
}

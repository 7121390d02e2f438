import assert from "node:assert/strict";
import { Hono } from "hono";
import { serveAssets } from "./assets.ts";

function app(): Hono {
  const a = new Hono();
  serveAssets(a);
  return a;
}

Deno.test("serveAssets() answers the app's page, its modules and the vendored uPlot", async () => {
  const a = app();
  const page = await a.request("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/assets\/app.js">/);
  // Every file the page names is served.
  for (const [, path] of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
    const res = await a.request(path!);
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
  const js = await a.request("/assets/vendor/uplot.js");
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(await js.text(), /uPlot/);
  // The modules app.js imports are served too.
  const appJs = await (await a.request("/assets/app.js")).text();
  for (const [, file] of appJs.matchAll(/from "\.\/([a-z_]+\.js)"/g)) {
    const res = await a.request(`/assets/${file}`);
    assert.equal(res.status, 200, file);
    await res.body?.cancel();
  }
});

Deno.test("serveAssets() serves nothing outside its folder and no unknown type", async () => {
  const a = app();
  for (
    const path of [
      "/assets/..%2Fserver%2Fassets.ts",
      "/assets/assets.ts",
      "/assets/.hidden.js",
      "/assets/nope.js",
      "/assets/vendor/other.js",
    ]
  ) {
    const res = await a.request(path);
    assert.equal(res.status, 404, path);
    const body = await res.json();
    assert.match(body.error, /^GET \/assets/, path);
  }
});

/**
 * The Gru Console's entry point: reads the session, keeps the cluster picker and the live
 * connection (server-sent events of `/api/events`), and routes `#/…` addresses to the pages.
 *
 * Pages: `#/overview`, `#/service/<name>`, `#/config[/<kind>[/<name>]]`, `#/operations`,
 * `#/login`.
 */

import { get, message, send, state } from "./api.js";
import { empty, h, replace } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderService } from "./service.js";
import { renderConfig } from "./config.js";
import { renderOperations } from "./operations.js";
import { renderLogin } from "./login.js";

const main = document.getElementById("main");
const picker = document.getElementById("cluster-picker");
const live = document.getElementById("live-state");

/** Listeners of overview updates, set by the page in view. */
const listeners = new Set();
/** The latest overview the events stream sent. */
export let latest = null;
let events = null;
let page = null;

/** Calls `fn(overview)` on every live update until the page changes; returns the latest. */
export function onOverview(fn) {
  listeners.add(fn);
  return latest;
}

function connect() {
  events?.close();
  events = null;
  latest = null;
  if (!state.cluster) return;
  const es = new EventSource(`/api/events?cluster=${encodeURIComponent(state.cluster)}`);
  events = es;
  live.textContent = "connecting…";
  live.className = "live";
  es.addEventListener("overview", (ev) => {
    try {
      latest = JSON.parse(ev.data);
    } catch {
      return;
    }
    live.textContent = `live · ${new Date().toLocaleTimeString([], { hour12: false })}`;
    live.className = "live live-ok";
    for (const fn of listeners) fn(latest);
  });
  es.addEventListener("problem", (ev) => {
    let text = "";
    try {
      text = JSON.parse(ev.data).error ?? "";
    } catch {
      text = ev.data;
    }
    live.textContent = "update failed";
    live.title = text;
    live.className = "live live-down";
  });
  es.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "live live-down";
  };
}

async function loadSession() {
  const s = await get("/api/session");
  state.login = s.login ?? "none";
  state.clusters = Array.isArray(s.clusters) ? s.clusters : [];
  const saved = sessionStorage.getItem("gru.cluster");
  state.cluster = saved && state.clusters.includes(saved) ? saved : s.cluster ?? state.clusters[0];
  replace(
    picker,
    (state.clusters.length ? state.clusters : [state.cluster]).filter(Boolean).map((c) =>
      h("option", { value: c, selected: c === state.cluster }, c)
    ),
  );
  state.user = s.user;
  document.getElementById("logout").hidden = !(state.login === "required" && s.loggedIn);
  if (state.login === "required" && !s.loggedIn) {
    location.hash = "#/login";
    return;
  }
  connect();
}

function route() {
  const parts = (location.hash.replace(/^#\/?/, "") || "overview").split("/")
    .map(decodeURIComponent);
  return { name: parts[0], args: parts.slice(1) };
}

async function show() {
  listeners.clear();
  page?.leave?.();
  page = null;
  const r = route();
  document.body.classList.toggle("signed-out", r.name === "login");
  for (const a of document.querySelectorAll("nav a[data-page]")) {
    const current = a.dataset.page === r.name ||
      (r.name === "service" && a.dataset.page === "overview");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const ctx = { main, onOverview, confirm: confirmDialog };
  try {
    if (r.name === "login") page = await renderLogin(ctx, afterLogin);
    else if (!state.cluster && state.login !== "required") {
      replace(main, empty("No cluster yet. Create one with `gru create <name>`, then reload."));
    } else if (r.name === "service") page = await renderService(ctx, r.args[0] ?? "");
    else if (r.name === "config") page = await renderConfig(ctx, r.args[0], r.args[1]);
    else if (r.name === "operations") page = await renderOperations(ctx);
    else page = await renderOverview(ctx);
  } catch (e) {
    if (location.hash === "#/login") return;
    replace(main, h("h1", {}, "Something went wrong"), h("p", { role: "alert" }, message(e)));
  }
  const title = document.getElementById("page-title");
  if (title && document.activeElement !== title && !main.contains(document.activeElement)) {
    title.focus({ preventScroll: true });
  }
}

/** Asks a yes/no question in a modal dialog; resolves true on Confirm. */
export function confirmDialog(title, text, okLabel = "Confirm") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-ok").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

async function afterLogin() {
  await loadSession();
  location.hash = "#/overview";
}

picker.addEventListener("change", () => {
  state.cluster = picker.value;
  sessionStorage.setItem("gru.cluster", state.cluster);
  connect();
  show();
});
document.getElementById("logout").addEventListener("click", async () => {
  try {
    await send("POST", "/api/logout", {});
  } catch {
    // signed out either way: the page below asks to sign in again
  }
  events?.close();
  location.hash = "#/login";
});
addEventListener("hashchange", show);

try {
  await loadSession();
} catch (e) {
  if (location.hash !== "#/login") {
    replace(main, h("h1", {}, "Cannot reach the console's API"), h("p", {}, message(e)));
  }
}
show();

/**
 * Small DOM helpers shared by the console's pages: an element builder, formatting of sizes,
 * times and counts, and the live region that announces results to screen readers.
 */

/**
 * Builds an element: `h("a", { href: "#/x", class: "link" }, "text", child)`. Attributes whose
 * value is `false`, `null` or `undefined` are left out; `on*` functions become listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A paragraph that says a list is empty and what to do next. */
export function empty(text, ...more) {
  return h("p", { class: "empty" }, text, ...more);
}

/** `1536` → `"1.5 KiB"`. */
export function bytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** A time (ms since the epoch or an ISO string) as the local clock time. */
export function clock(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? "–" : d.toLocaleTimeString([], { hour12: false });
}

/** A time as an ISO string for `<time datetime>`, or "" when it is not one. */
export function iso(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** A number with at most `digits` decimals, or "–". */
export function num(v, digits = 2) {
  return typeof v === "number" && Number.isFinite(v) ? String(+v.toFixed(digits)) : "–";
}

/** Announces `text` to screen readers (and shows it in the status line). */
export function announce(text) {
  const el = document.getElementById("announce");
  if (el) el.textContent = text;
}

/** A badge: `badge("ok")` → a span with class `badge badge-ok`. */
export function badge(text, kind = text) {
  return h("span", { class: `badge badge-${kind}` }, text);
}

/** A page heading that takes the focus, so keyboard and screen reader users land on it. */
export function heading(text) {
  return h("h1", { tabindex: "-1", id: "page-title" }, text);
}

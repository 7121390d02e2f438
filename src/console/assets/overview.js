/**
 * The overview page: the cluster's nodes (health, loop, free cores and memory, base services,
 * dependency health), its services with their instances per node, and the latest decisions with
 * their reasons. Live: redrawn on every `overview` event.
 */

import { get, state } from "./api.js";
import { badge, bytes, clock, empty, h, heading, iso, replace } from "./dom.js";

const POLICY_NAMES = { scaleout: "scale-out", scalein: "scale-in", noaction: "no action" };
const OUTCOME_STYLE = {
  executed: "ok",
  "dry-run": "warn",
  blocked: "warn",
  failed: "unreachable",
  "scale-out": "scale-out",
  "scale-in": "scale-in",
};
const DEPS = [["etcd", "etcd"], ["docker", "Docker"], ["influx", "InfluxDB"]];

function nodesTable(nodes, cluster) {
  if (nodes.length === 0) {
    return empty(
      `No agent has joined cluster "${cluster}" yet. On each machine run `,
      h("code", {}, `gru join ${cluster} --name <node>`),
      " (it becomes the node's agent): the nodes appear here within one loop.",
    );
  }
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { id: "nodes-table" },
      h("caption", { class: "visually-hidden" }, "Nodes of the cluster"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Node", "Address", "Health", "Autonomic loop", "Cores free", "Memory free"]
            .map((t) => h("th", { scope: "col" }, t)),
          h("th", { scope: "col" }, "Base services"),
          h("th", { scope: "col" }, "Dependencies"),
        ),
      ),
      h("tbody", {}, nodes.map(nodeRow)),
    ),
  );
}

function nodeRow(n) {
  const deps = DEPS.map(([k, label]) => {
    const v = n.deps?.[k] ?? "off";
    return h("li", {}, badge(`${label} ${v}`, v));
  });
  return h(
    "tr",
    { "data-node": n.name },
    h("th", { scope: "row" }, n.name),
    h("td", {}, h("code", {}, n.address ?? "–")),
    h("td", {}, badge(n.health, n.health), n.error ? h("div", { class: "error" }, n.error) : null),
    h("td", {}, n.active ? badge("running", "ok") : badge("stopped", "off")),
    h("td", {}, n.cpusTotal !== undefined ? `${n.cpusFree ?? "–"} of ${n.cpusTotal}` : "–"),
    h(
      "td",
      {},
      n.memoryTotal !== undefined ? `${bytes(n.memoryFree)} of ${bytes(n.memoryTotal)}` : "–",
    ),
    h(
      "td",
      {},
      n.baseServices?.length ? n.baseServices.join(", ") : h("span", { class: "muted" }, "none"),
    ),
    h("td", {}, h("ul", { class: "inline" }, deps)),
  );
}

function perNode(map) {
  const entries = Object.entries(map ?? {}).filter(([, c]) => c > 0);
  if (entries.length === 0) return h("span", { class: "muted" }, "none");
  return h("ul", { class: "inline" }, entries.map(([node, c]) => h("li", {}, `${node}: ${c}`)));
}

function total(map) {
  return Object.values(map ?? {}).reduce((a, b) => a + b, 0);
}

function servicesTable(services) {
  if (services.length === 0) {
    return empty(
      "No services yet. Create one from the template in ",
      h("a", { href: "#/config/new" }, "Configuration → New service"),
      ".",
    );
  }
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { id: "services-table" },
      h("caption", { class: "visually-hidden" }, "Services and their instances"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Service", "Min–max", "Running", "Running per node", "Starting per node"]
            .map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        services.map((s) =>
          h(
            "tr",
            { "data-service": s.name },
            h(
              "th",
              { scope: "row" },
              h("a", {
                href: `#/service/${encodeURIComponent(s.name)}`,
                "aria-label": `${s.name}: charts over time`,
              }, s.name),
            ),
            h("td", {}, `${s.min ?? 0}–${s.max ?? "∞"}`),
            h("td", {}, String(s.total ?? total(s.instances))),
            h("td", {}, perNode(s.instances)),
            h("td", {}, perNode(s.pending)),
          )
        ),
      ),
    ),
  );
}

/** One decision as a list item: when, where, what and why. */
export function decisionItem(d) {
  const policy = POLICY_NAMES[d.policy] ?? d.policy ?? "decision";
  const outcome = d.outcome ?? (d.dryRun ? "dry-run" : d.blocked ? "blocked" : undefined);
  const flags = [
    outcome && outcome !== "none" ? [" ", badge(outcome, OUTCOME_STYLE[outcome] ?? "off")] : null,
    d.action ? [" ", h("span", { class: "muted small" }, `actions: ${d.action}`)] : null,
  ];
  return h(
    "li",
    { class: "decision", "data-node": d.node, "data-seq": d.seq },
    h(
      "div",
      { class: "decision-head" },
      h("time", { datetime: iso(d.time) }, clock(d.time)),
      " ",
      h("strong", {}, d.node),
      d.seq !== undefined && d.seq !== "" ? ` #${d.seq}` : "",
      " ",
      badge(policy, policy),
      d.service && d.service !== "noservice" && d.policy !== "noaction"
        ? [" ", h("a", { href: `#/service/${encodeURIComponent(d.service)}` }, d.service)]
        : null,
      flags,
    ),
    d.reasons?.length
      ? h("ul", { class: "reasons" }, d.reasons.map((r) => h("li", {}, r)))
      : h("p", { class: "muted" }, "No reason recorded."),
  );
}

function decisionsList(decisions, nodes) {
  const running = nodes.filter((n) => n.active).map((n) => n.name);
  if (decisions.length === 0 && running.length > 0) {
    return empty(
      `Nothing decided recently: the loops running on ${running.join(", ")} found nothing to ` +
        "do. Decisions show here as they are taken; each service's page charts them over time.",
    );
  }
  if (decisions.length === 0) {
    return empty(
      "No decisions yet. Start the autonomic loop of a node in ",
      h("a", { href: "#/operations" }, "Operations"),
      " (Start agent): each loop then records what it decided and why.",
    );
  }
  const sorted = [...decisions].sort((a, b) => Number(b.time) - Number(a.time) || 0);
  return h(
    "ol",
    { class: "decisions", id: "decisions-list" },
    sorted.slice(0, 30).map(decisionItem),
  );
}

/** Redraws unless nothing but the time changed; the focused link or button keeps the focus. */
function draw(body, o) {
  const key = JSON.stringify({ ...o, time: 0 });
  if (body.dataset.key === key) {
    const asOf = body.querySelector(".as-of");
    if (asOf) asOf.textContent = `As of ${clock(o.time)}.`;
    return;
  }
  body.dataset.key = key;
  const focused = body.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  replace(
    body,
    h(
      "section",
      { "aria-labelledby": "nodes-h" },
      h("h2", { id: "nodes-h" }, `Nodes (${o.nodes?.length ?? 0})`),
      nodesTable(o.nodes ?? [], o.cluster),
    ),
    h(
      "div",
      { class: "two-col" },
      h(
        "section",
        { "aria-labelledby": "services-h" },
        h("h2", { id: "services-h" }, `Services (${o.services?.length ?? 0})`),
        servicesTable(o.services ?? []),
      ),
      h(
        "section",
        { "aria-labelledby": "decisions-h" },
        h("h2", { id: "decisions-h" }, "Latest decisions"),
        decisionsList(o.decisions ?? [], o.nodes ?? []),
      ),
    ),
    h("p", { class: "muted small as-of" }, `As of ${clock(o.time)}.`),
    refusedList(o.refused ?? []),
  );
  if (focused) body.querySelector(focused)?.focus();
}

function focusKey(el) {
  const href = el.getAttribute("href");
  return href ? `a[href="${CSS.escape(href)}"]` : el.id ? `#${CSS.escape(el.id)}` : null;
}

function refusedList(refused) {
  if (refused.length === 0) return null;
  return h(
    "section",
    { "aria-labelledby": "refused-h", class: "warn-box" },
    h("h2", { id: "refused-h" }, "Stored documents that do not validate (ignored by the agents)"),
    h(
      "ul",
      {},
      refused.map((r) => h("li", {}, h("code", {}, r.key ?? r.name ?? ""), ": ", r.error ?? "")),
    ),
    h("p", {}, "Fix them in ", h("a", { href: "#/config" }, "Configuration"), "."),
  );
}

/** Renders the overview into `ctx.main` and keeps it live. */
export async function renderOverview(ctx) {
  const body = h("div", { id: "overview" });
  replace(ctx.main, heading(`Overview of cluster ${state.cluster}`), body);
  const first = ctx.onOverview((o) => draw(body, o)) ?? await get("/api/overview");
  draw(body, first);
  return {};
}

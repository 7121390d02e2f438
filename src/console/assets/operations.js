/**
 * Operations, with parity to the REPL: start/stop the autonomic loop of agents, start/stop a
 * service on nodes, set base services, deploy and undeploy. Each asks for confirmation and shows
 * one result per node.
 */

import { get, message, send, state } from "./api.js";
import { announce, badge, empty, h, heading, replace } from "./dom.js";

const OPS = [
  { op: "start-agent", label: "Start agent", help: "Start the autonomic loop on the nodes." },
  { op: "stop-agent", label: "Stop agent", help: "Stop the autonomic loop (containers stay)." },
  {
    op: "start-service",
    label: "Start service",
    help: "Start one instance of a service on each node.",
    service: true,
  },
  {
    op: "stop-service",
    label: "Stop service",
    help: "Stop one instance of a service on each node.",
    service: true,
  },
  {
    op: "set-base-services",
    label: "Set base services",
    help: "The services each node always keeps running (replaces the list).",
    services: true,
  },
  {
    op: "deploy",
    label: "Deploy",
    help: "Pair services and live nodes by name, one base service per node.",
    all: true,
  },
  {
    op: "undeploy",
    label: "Undeploy",
    help: "Clear every node's base services and stop what it runs.",
    all: true,
  },
];

/** One row per node: ok or failed, and what the node said. */
export function resultsTable(results) {
  if (results.length === 0) return empty("No node answered: no agent is live in this cluster.");
  return h(
    "table",
    { class: "results" },
    h("caption", { class: "visually-hidden" }, "Result per node"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Node"),
        h("th", { scope: "col" }, "Result"),
        h("th", { scope: "col" }, "Message"),
      ),
    ),
    h(
      "tbody",
      {},
      results.map((r) =>
        h(
          "tr",
          { "data-node": r.node, "data-ok": String(!!r.ok) },
          h("th", { scope: "row" }, r.node),
          h("td", {}, r.ok ? badge("ok", "ok") : badge("failed", "unreachable")),
          h("td", {}, r.message ?? ""),
        )
      ),
    ),
  );
}

function fieldset(legend, ...children) {
  return h("fieldset", {}, h("legend", {}, legend), ...children);
}

/** Renders the operations page. */
export async function renderOperations(ctx) {
  const [overview, docs] = await Promise.all([get("/api/overview"), get("/api/documents")]);
  const nodes = (overview.nodes ?? []).map((n) => n.name);
  const services = Object.keys(docs.services ?? {}).sort();

  const opRadios = OPS.map((o, i) =>
    h(
      "div",
      { class: "radio" },
      h("input", { type: "radio", name: "op", id: `op-${o.op}`, value: o.op, checked: i === 0 }),
      h("label", { for: `op-${o.op}` }, h("strong", {}, o.label), " — ", o.help),
    )
  );
  const nodeBoxes = nodes.map((n) =>
    h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", name: "node", id: `node-${n}`, value: n }),
      h("label", { for: `node-${n}` }, n),
    )
  );
  const allNodes = h("input", { type: "checkbox", id: "node-all", value: "all" });
  const serviceSel = h(
    "select",
    { id: "op-service" },
    services.map((s) => h("option", { value: s }, s)),
  );
  const baseBoxes = services.map((s) =>
    h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", name: "base", id: `base-${s}`, value: s }),
      h("label", { for: `base-${s}` }, s),
    )
  );
  const nodesSet = fieldset(
    "On which nodes",
    nodes.length
      ? [
        h("div", { class: "check" }, allNodes, h("label", { for: "node-all" }, "All live nodes")),
        nodeBoxes,
      ]
      : empty("No agent is live in this cluster: start one with `gru agent`."),
  );
  const serviceSet = fieldset(
    "Which service",
    services.length
      ? [h("label", { for: "op-service", class: "visually-hidden" }, "Service"), serviceSel]
      : empty("No services yet: create one in Configuration → New service."),
  );
  const baseSet = fieldset(
    "Base services (none checked: clear the list)",
    services.length ? baseBoxes : empty("No services yet."),
  );
  const run = h("button", { type: "submit", class: "primary", id: "run-op" }, "Run…");
  const error = h("p", { id: "op-error", class: "error", role: "alert" });
  const result = h("section", {
    id: "op-result",
    "aria-live": "polite",
    "aria-labelledby": "op-result-h",
  });
  const form = h(
    "form",
    { id: "op-form", class: "ops" },
    fieldset("Operation", opRadios),
    nodesSet,
    serviceSet,
    baseSet,
    error,
    h("div", { class: "buttons" }, run),
  );
  replace(
    result,
    h("h2", { id: "op-result-h" }, "Result per node"),
    empty(
      "Pick an operation and its nodes, then Run…: you confirm it first, then each node's " +
        "answer shows here.",
    ),
  );
  replace(ctx.main, heading("Operations"), h("div", { class: "ops-layout" }, form, result));

  const selected = () =>
    OPS.find((o) => o.op === form.querySelector("input[name=op]:checked")?.value);
  const sync = () => {
    const o = selected();
    nodesSet.hidden = !!o?.all;
    serviceSet.hidden = !o?.service;
    baseSet.hidden = !o?.services;
    for (const b of form.querySelectorAll("input[name=node]")) b.disabled = allNodes.checked;
  };
  form.addEventListener("change", sync);
  sync();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const o = selected();
    if (!o) return;
    const picked = [...form.querySelectorAll("input[name=node]:checked")].map((b) => b.value);
    const target = o.all || allNodes.checked ? "all" : picked;
    if (target !== "all" && target.length === 0) {
      error.textContent = "Pick at least one node (or All live nodes).";
      return;
    }
    if (o.service && !serviceSel.value) {
      error.textContent = "Pick a service: create one in Configuration first.";
      return;
    }
    const base = [...form.querySelectorAll("input[name=base]:checked")].map((b) => b.value);
    const where = target === "all" ? "all live nodes" : target.join(", ");
    const detail = o.service
      ? ` ${serviceSel.value}`
      : o.services
      ? ` to [${base.join(", ") || "none"}]`
      : "";
    const ok = await ctx.confirm(
      `${o.label}${detail}?`,
      `${o.label}${detail} on ${where} of cluster "${state.cluster}". ${o.help}`,
      o.label,
    );
    if (!ok) return;
    run.disabled = true;
    replace(result, h("p", {}, `${o.label}: waiting for the nodes…`));
    try {
      const body = { op: o.op, nodes: target };
      if (o.service) body.service = serviceSel.value;
      if (o.services) body.services = base;
      const r = await send("POST", "/api/operations", body);
      replace(
        result,
        h("h2", { id: "op-result-h" }, `${o.label}${detail}: result per node`),
        resultsTable(r.results ?? []),
      );
      const failed = (r.results ?? []).filter((x) => !x.ok).length;
      announce(`${o.label} done: ${failed ? `${failed} failed` : "all ok"}`);
    } catch (e) {
      replace(
        result,
        h("p", { role: "alert", class: "error" }, `${o.label} failed: ${message(e)}`),
      );
    } finally {
      run.disabled = false;
    }
  });
  return {};
}

/**
 * The configuration manager: every document of the cluster (config, policy, services,
 * analytics) in an editor that validates as you type (the CLI's validator, through
 * `POST /api/documents/validate`), lists each problem at its JSON path, shows the diff against
 * what is in force, and applies through `PUT /api/documents` (one transaction, then the agents
 * reload). A rejected edit writes nothing. New services start from the server's template.
 */

import { get, message, send, state } from "./api.js";
import { announce, empty, h, heading, replace } from "./dom.js";
import { resultsTable } from "./operations.js";

const KINDS = {
  config: "Agent configuration",
  policy: "Scaling policy",
  service: "Service",
  analytic: "Analytic",
};

/** What the last apply of a new document said, shown once its own page has opened. */
let flash = null;

function done(text, results) {
  return [h("p", { class: "good" }, `${text}. Agents asked to reload:`), resultsTable(results)];
}

function docList(docs, current) {
  const link = (kind, name, label) => {
    const href = `#/config/${kind}${name ? `/${encodeURIComponent(name)}` : ""}`;
    const here = current.kind === kind && (current.name ?? "") === (name ?? "");
    return h("li", {}, h("a", { href, "aria-current": here ? "page" : false }, label));
  };
  const group = (title, kind, map, none) => {
    const names = Object.keys(map ?? {}).sort();
    return [
      h("h3", {}, title),
      names.length
        ? h("ul", {}, names.map((n) => link(kind, n, n)))
        : h("p", { class: "muted small" }, none),
    ];
  };
  return h(
    "nav",
    { class: "doc-list", "aria-label": "Documents" },
    h("h2", { class: "visually-hidden" }, "Documents"),
    h(
      "ul",
      {},
      link("config", undefined, "config.json (agents)"),
      link("policy", undefined, "policy.json"),
    ),
    group("Services", "service", docs.services, "None yet."),
    h(
      "p",
      {},
      h("a", {
        href: "#/config/new",
        class: "button",
        id: "new-service",
        "aria-current": current.kind === "new" ? "page" : false,
      }, "+ New service"),
    ),
    group("Analytics", "analytic", docs.analytics, "None yet."),
    (docs.refused ?? []).length
      ? [
        h("h3", {}, "Stored but invalid"),
        h(
          "ul",
          { class: "problems" },
          docs.refused.map((r) => h("li", {}, `${r.kind} ${r.name ?? ""}: ${r.error}`)),
        ),
      ]
      : null,
  );
}

function pretty(doc) {
  return doc === undefined ? "" : JSON.stringify(doc, null, 2);
}

function diffView(diff, valid) {
  if (!valid && !(diff ?? "").trim()) {
    return empty("The diff shows once the text is a valid document.");
  }
  if (!diff || !diff.trim()) return empty("No change against what is in force.");
  return h(
    "pre",
    { class: "diff", "aria-label": "Changes against what is in force" },
    diff.split("\n").map((line) => {
      const cls = /^(\+\+\+|---) /.test(line)
        ? "hdr"
        : line.startsWith("+")
        ? "add"
        : line.startsWith("-")
        ? "del"
        : "ctx";
      return h("span", { class: cls }, line, "\n");
    }),
  );
}

/**
 * Puts the cursor on a problem: at its line and column when the validator gave them, else on the
 * last key of its path (`$.scaleout.threshold` → `"threshold"`, any case) when the text has it.
 */
function selectPath(area, p) {
  area.focus();
  if (p.line) {
    const lines = area.value.split("\n");
    let at = 0;
    for (let i = 0; i < p.line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    at += Math.max(0, (p.column ?? 1) - 1);
    area.setSelectionRange(at, at + 1);
    return;
  }
  const last = String(p.path ?? "").split(/[.[\]$]/).filter(Boolean).pop();
  if (!last) return;
  const i = area.value.toLowerCase().indexOf(`"${last.toLowerCase()}"`);
  if (i >= 0) area.setSelectionRange(i, i + last.length + 2);
}

/** Renders the configuration manager for document `kind`/`name` (`new`: a new service). */
export async function renderConfig(ctx, kindArg, nameArg) {
  const docs = await get("/api/documents");
  const isNew = kindArg === "new";
  const kind = isNew ? "service" : KINDS[kindArg] ? kindArg : "config";
  const name = isNew ? undefined : nameArg;
  let original;
  if (isNew) original = "";
  else if (kind === "config" || kind === "policy") original = pretty(docs[kind]);
  else original = pretty((kind === "service" ? docs.services : docs.analytics)?.[name ?? ""]);
  if (!isNew && (kind === "service" || kind === "analytic") && original === "") {
    replace(
      ctx.main,
      heading("Configuration"),
      h(
        "div",
        { class: "config" },
        docList(docs, { kind, name }),
        h(
          "div",
          {},
          empty(
            `There is no ${kind} named "${name}" in cluster "${state.cluster}". Pick a document ` +
              "on the left or create a new service.",
          ),
        ),
      ),
    );
    return {};
  }
  let initial = original;
  if (isNew) {
    const t = await get("/api/templates/service");
    initial = t.text ?? pretty(t.doc);
  }
  const title = isNew ? "New service" : `${KINDS[kind]}${name ? ` ${name}` : ""}`;

  const area = h("textarea", {
    id: "doc-text",
    spellcheck: "false",
    autocomplete: "off",
    rows: "24",
    "aria-describedby": "doc-status doc-help",
  });
  area.value = initial;
  const status = h("p", { id: "doc-status", role: "status", "aria-live": "polite" });
  const problems = h("ul", { id: "doc-problems", class: "problems", "aria-label": "Problems" });
  const diff = h("div", { id: "doc-diff" });
  const result = h("div", { id: "doc-result", "aria-live": "polite" });
  const apply = h("button", { type: "button", class: "primary", id: "apply" }, "Apply to cluster");
  const revert = h("button", { type: "button", id: "revert" }, isNew ? "Reset" : "Revert");
  const del = (kind === "service" || kind === "analytic") && !isNew
    ? h("button", { type: "button", class: "danger", id: "delete" }, `Delete ${kind}`)
    : null;

  replace(
    ctx.main,
    heading("Configuration"),
    h(
      "div",
      { class: "config" },
      docList(docs, isNew ? { kind: "new" } : { kind, name }),
      h(
        "section",
        { class: "editor", "aria-labelledby": "doc-title" },
        h("h2", { id: "doc-title" }, title),
        (docs.defaults ?? []).includes(kind)
          ? h("p", { class: "muted" }, `No ${kind} is stored: these are the defaults in force.`)
          : null,
        h("label", { for: "doc-text" }, `JSON of the ${title.toLowerCase()}`),
        h(
          "p",
          { id: "doc-help", class: "muted small" },
          "Checked as you type with the same validator as `gru config validate`. " +
            "Ctrl+Enter applies. Env values show as <redacted>: leave them so to keep them.",
        ),
        area,
        status,
        problems,
        h("div", { class: "buttons" }, apply, revert, del),
        result,
        h("h3", {}, "Diff against what is in force"),
        diff,
      ),
    ),
  );

  const nameOf = () => {
    if (!(kind === "service" || kind === "analytic")) return undefined;
    try {
      const doc = JSON.parse(area.value);
      return doc?.name ?? doc?.Name ?? name;
    } catch {
      return name;
    }
  };
  let seq = 0;
  let timer = 0;
  const showProblems = (list) => {
    replace(
      problems,
      list.map((p) =>
        h(
          "li",
          { "data-path": p.path, class: p.severity === "warning" ? "warning" : "" },
          p.severity === "warning" ? "warning " : "",
          h("button", {
            type: "button",
            class: "link path",
            onclick: () => selectPath(area, p),
            "aria-label": `Go to ${p.path || "the document"}`,
          }, p.path || "(document)"),
          ": ",
          p.message,
        )
      ),
    );
  };
  const validate = async () => {
    const mine = ++seq;
    let r;
    try {
      r = await send("POST", "/api/documents/validate", { kind, name: nameOf(), text: area.value });
    } catch (e) {
      if (mine === seq) status.textContent = `Cannot validate: ${message(e)}`;
      return;
    }
    if (mine !== seq) return;
    const list = r.problems ?? [];
    const errors = list.filter((p) => p.severity !== "warning").length;
    status.className = errors ? "bad" : "good";
    status.textContent = errors
      ? `${errors} problem${errors > 1 ? "s" : ""}: fix ${
        errors > 1 ? "them" : "it"
      } before applying.`
      : area.value === original
      ? "Valid. Unchanged: this is what is in force."
      : "Valid. Apply to put it in force.";
    showProblems(list);
    replace(diff, diffView(r.diff, errors === 0));
  };
  area.addEventListener("input", () => {
    clearTimeout(timer);
    status.className = "";
    status.textContent = "Checking…";
    timer = setTimeout(validate, 300);
  });
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      apply.click();
    }
  });
  revert.addEventListener("click", () => {
    area.value = initial;
    replace(result);
    validate();
  });
  apply.addEventListener("click", async () => {
    const n = nameOf();
    const what = n ? `${kind} ${n}` : kind;
    const ok = await ctx.confirm(
      `Apply ${what}?`,
      `This writes the ${what} to cluster "${state.cluster}" in one transaction and asks every ` +
        "live agent to reload it.",
      "Apply",
    );
    if (!ok) return;
    replace(result, h("p", {}, "Applying…"));
    try {
      const r = await send("PUT", "/api/documents", { kind, name: n, text: area.value });
      if (!r.ok) {
        showProblems(r.problems ?? []);
        status.className = "bad";
        status.textContent = "Rejected: nothing was written. Fix the problems listed here.";
        replace(
          result,
          h("p", { role: "alert", class: "error" }, "Not applied: nothing was written."),
        );
        announce("Edit rejected: nothing was written");
        return;
      }
      announce(`Applied ${what}`);
      if ((isNew || n !== name) && n) {
        // A new document (or a renamed copy): open its own page, which shows this result.
        flash = { text: `Applied ${what}`, results: r.results ?? [] };
        location.hash = `#/config/${kind}/${encodeURIComponent(n)}`;
        return;
      }
      original = area.value;
      replace(result, done(`Applied ${what}`, r.results ?? []));
      validate();
    } catch (e) {
      replace(result, h("p", { role: "alert", class: "error" }, `Not applied: ${message(e)}`));
    }
  });
  del?.addEventListener("click", async () => {
    const ok = await ctx.confirm(
      `Delete ${kind} ${name}?`,
      `This removes the ${kind} "${name}" from cluster "${state.cluster}" and asks the agents to ` +
        "reload.",
      "Delete",
    );
    if (!ok) return;
    try {
      const r = await send("DELETE", "/api/documents", { kind, name });
      if (r.ok === false) {
        showProblems(r.problems ?? []);
        replace(
          result,
          h("p", { role: "alert", class: "error" }, "Not deleted: nothing was changed."),
        );
        return;
      }
      announce(`Deleted ${kind} ${name}`);
      flash = { text: `Deleted ${kind} ${name}`, results: r.results ?? [] };
      location.hash = "#/config";
    } catch (e) {
      replace(result, h("p", { role: "alert", class: "error" }, `Not deleted: ${message(e)}`));
    }
  });
  if (flash) {
    replace(result, done(flash.text, flash.results));
    flash = null;
  }
  validate();
  return { leave: () => clearTimeout(timer) };
}

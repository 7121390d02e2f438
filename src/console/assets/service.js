/**
 * The service page: charts over time of one service (uPlot) from the agents' bounded history:
 * running and pending instances, `cpu_avg`, `memory_avg` and each analytic, the policy's
 * thresholds as dashed lines, and every decision as a marker whose tooltip shows its reasons.
 * Each marker is a button, so the keyboard reaches it too; a list under the charts repeats them.
 */

import { get, message } from "./api.js";
import { clock, empty, h, heading, num, replace } from "./dom.js";
import { decisionItem } from "./overview.js";

const COLORS = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d"];
const MARKER_COLORS = {
  "scale-out": "#16a34a",
  "scale-in": "#2563eb",
  "blocked": "#dc2626",
  "dry-run": "#9333ea",
  "swap": "#0891b2",
  "failed": "#b45309",
};
const REFRESH_MS = 5000;

/** `[1,1,2,2,1]` → `"1 → 2 → 1"` (the last few changes). */
function changes(values) {
  const out = [];
  for (const v of values) if (v !== null && v !== out[out.length - 1]) out.push(v);
  return out.slice(-8).join(" → ");
}

/** Draws decision markers as vertical lines and positions their buttons over the plot. */
function markersPlugin(getMarkers, layer) {
  return {
    hooks: {
      draw: [(u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.lineWidth = 2 * devicePixelRatio;
        for (const m of getMarkers()) {
          const x = u.valToPos(m.t / 1000, "x", true);
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          ctx.strokeStyle = MARKER_COLORS[m.kind] ?? "#555";
          ctx.setLineDash(m.kind === "scale-out" || m.kind === "scale-in" ? [] : [4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
        }
        ctx.restore();
        for (const el of layer.children) {
          const left = u.valToPos(Number(el.dataset.t) / 1000, "x");
          el.hidden = !(left >= 0 && left <= u.over.clientWidth);
          el.style.left = `${left}px`;
        }
      }],
      init: [(u) => u.over.append(layer)],
    },
  };
}

function markerButtons(layer, markers, chartName) {
  replace(
    layer,
    markers.map((m, i) => {
      const id = `${chartName}-tip-${i}`;
      const label = `${m.kind} on ${m.node} at ${clock(m.t)}`;
      return h(
        "div",
        { class: `marker marker-${m.kind}`, "data-t": m.t, "data-kind": m.kind },
        h("button", { type: "button", "aria-label": label, "aria-describedby": id }),
        h(
          "div",
          { role: "tooltip", id, class: "tip" },
          h("strong", {}, label),
          h(
            "ul",
            {},
            (m.reasons?.length ? m.reasons : ["no reason recorded"]).map((r) => h("li", {}, r)),
          ),
        ),
      );
    }),
  );
}

function chart(el, name, title, series, data, markers) {
  const layer = h("div", { class: "marker-layer" });
  markerButtons(layer, markers, name);
  const opts = {
    title,
    width: Math.max(320, el.clientWidth - 8),
    height: 220,
    series: [{ label: "time" }, ...series],
    axes: [{}, { size: 56 }],
    scales: { x: { time: true } },
    legend: { live: true },
    plugins: [markersPlugin(() => markers, layer)],
  };
  const u = new globalThis.uPlot(opts, data, el);
  return {
    u,
    update(newData, newMarkers) {
      if (JSON.stringify(newMarkers) !== JSON.stringify(markers)) {
        markers = newMarkers;
        markerButtons(layer, markers, name);
      }
      u.setData(newData);
    },
  };
}

function datasets(hist) {
  const s = hist.samples ?? [];
  const xs = s.map((p) => p.t / 1000);
  const names = [...new Set(s.flatMap((p) => Object.keys(p.analytics ?? {})))].sort();
  const stepped = globalThis.uPlot.paths?.stepped?.({ align: 1 });
  const inst = {
    series: [
      { label: "running", stroke: COLORS[0], width: 2, paths: stepped },
      { label: "pending", stroke: COLORS[1], width: 2, dash: [6, 4], paths: stepped },
    ],
    data: [xs, s.map((p) => p.running ?? null), s.map((p) => p.pending ?? null)],
  };
  const thresholds = hist.thresholds ?? [];
  const load = {
    series: [
      { label: "cpu_avg", stroke: COLORS[1], width: 2 },
      { label: "memory_avg", stroke: COLORS[3], width: 2 },
      ...names.map((n, i) => ({ label: n, stroke: COLORS[(4 + i) % COLORS.length], width: 2 })),
      ...thresholds.map((t) => ({
        label: `${t.kind} threshold ${num(t.value)}${
          [...(t.metrics ?? []), ...(t.analytics ?? [])].length
            ? ` (${[...(t.metrics ?? []), ...(t.analytics ?? [])].join(", ")})`
            : ""
        }`,
        stroke: MARKER_COLORS[t.kind] ?? "#555",
        width: 1,
        dash: [8, 6],
        points: { show: false },
      })),
    ],
    data: [
      xs,
      s.map((p) => p.cpuAvg ?? null),
      s.map((p) => p.memoryAvg ?? null),
      ...names.map((n) => s.map((p) => p.analytics?.[n] ?? null)),
      ...thresholds.map((t) => xs.map(() => t.value)),
    ],
  };
  return { inst, load, key: JSON.stringify([names, thresholds]) };
}

/** Renders the page of service `name`; refreshes every few seconds while shown. */
export async function renderService(ctx, name) {
  const windowSel = h(
    "select",
    { id: "window" },
    h("option", { value: "15" }, "last 15 minutes"),
    h("option", { value: "60", selected: true }, "last hour"),
  );
  const body = h("div", { id: "service-body", "aria-live": "off" });
  const facts = h("p", { id: "service-facts", class: "muted" });
  replace(
    ctx.main,
    h("p", { class: "crumbs" }, h("a", { href: "#/overview" }, "Overview"), " › ", name),
    heading(`Service ${name}`),
    facts,
    h("div", { class: "toolbar" }, h("label", { for: "window" }, "Window "), windowSel),
    body,
  );
  const showFacts = (o) => {
    const s = o?.services?.find((x) => x.name === name);
    if (!s) return;
    const per = Object.entries(s.instances ?? {}).map(([n, c]) => `${n}: ${c}`).join(", ");
    facts.textContent = `Min ${s.min ?? 0}, max ${s.max ?? "∞"} instances. Running now: ${
      per || "none"
    }.`;
  };
  showFacts(ctx.onOverview(showFacts));

  let charts = null;
  let key = "";
  let timer = 0;
  let stopped = false;
  const refresh = async () => {
    let hist;
    try {
      hist = await get(
        `/api/services/${encodeURIComponent(name)}/history?minutes=${windowSel.value}`,
      );
    } catch (e) {
      charts = null;
      replace(body, h("p", { role: "alert", class: "error" }, message(e)));
      return;
    }
    if (stopped) return;
    const d = datasets(hist);
    const markers = (hist.markers ?? []).slice(-200);
    const summary = `Running instances in this window: ${
      changes(d.inst.data[1]) || "none"
    }. Decisions marked: ${markers.length}.`;
    if (!(hist.samples?.length)) {
      charts = null;
      replace(
        body,
        empty(
          `No history yet for ${name}. Agents record one sample per loop while their autonomic ` +
            "loop runs: start it in ",
          h("a", { href: "#/operations" }, "Operations"),
          " (Start agent).",
        ),
      );
      return;
    }
    if (charts && key === d.key) {
      charts.inst.update(d.inst.data, markers);
      charts.load.update(d.load.data, markers);
      charts.summary.textContent = summary;
      replace(charts.list, markerList(markers));
      return;
    }
    key = d.key;
    const instEl = h("figure", {
      class: "chart",
      id: "chart-instances",
      "aria-label": "Chart: running and pending instances over time; each decision is a button",
      "aria-describedby": "instances-summary",
    });
    const loadEl = h("figure", {
      class: "chart",
      id: "chart-load",
      "aria-label": "Chart: cpu_avg, memory_avg and analytics over time, thresholds dashed",
    });
    const summaryEl = h("p", { id: "instances-summary" }, summary);
    const list = h("div", { id: "markers-list" }, markerList(markers));
    replace(
      body,
      instEl,
      summaryEl,
      loadEl,
      h("h2", {}, "Decisions on these charts"),
      list,
    );
    charts = {
      inst: chart(instEl, "inst", "Instances", d.inst.series, d.inst.data, markers),
      load: chart(
        loadEl,
        "load",
        "Load and analytics (thresholds dashed)",
        d.load.series,
        d.load.data,
        markers,
      ),
      summary: summaryEl,
      list,
    };
  };
  const tick = async () => {
    if (stopped) return;
    if (document.visibilityState === "visible") await refresh();
    timer = setTimeout(tick, REFRESH_MS);
  };
  windowSel.addEventListener("change", () => {
    key = "";
    refresh();
  });
  const onResize = () => {
    if (!charts) return;
    for (const c of [charts.inst, charts.load]) {
      const w = Math.max(320, c.u.root.parentElement.clientWidth - 8);
      c.u.setSize({ width: w, height: 220 });
    }
  };
  addEventListener("resize", onResize);
  await refresh();
  timer = setTimeout(tick, REFRESH_MS);
  return {
    leave() {
      stopped = true;
      clearTimeout(timer);
      removeEventListener("resize", onResize);
    },
  };
}

function markerList(markers) {
  if (markers.length === 0) {
    return empty("No scaling decision in this window yet.");
  }
  return h(
    "ol",
    { class: "decisions" },
    [...markers].reverse().slice(0, 20).map((m) =>
      decisionItem({
        node: m.node,
        time: m.t,
        policy: m.policy ?? m.kind,
        outcome: m.outcome ?? m.kind,
        reasons: m.reasons,
      })
    ),
  );
}

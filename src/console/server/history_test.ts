import assert from "node:assert/strict";
import { defaultPolicyConfig } from "../../config/documents.ts";
import { configFromFiles } from "../../config/config_files.ts";
import type { HistoryView, SeriesView } from "../../agent/record/history.ts";
import { mergeHistories, thresholdsOf } from "./history.ts";
import { serviceTemplate } from "./documents.ts";

function series(rows: [number, number, number | null, number | null][], load?: (number | null)[]) {
  const s: SeriesView = {
    t: rows.map((r) => r[0]),
    running: rows.map((r) => r[1]),
    pending: rows.map(() => 0),
    cpuAvg: rows.map((r) => r[2]),
    memoryAvg: rows.map((r) => r[3]),
    analytics: load ? { load } : {},
  };
  return s;
}

function view(web: SeriesView, markers: HistoryView["markers"] = []): HistoryView {
  return { now: 0, windowMs: 3_600_000, influx: "off", services: { web }, markers };
}

Deno.test("mergeHistories: sums instances, weights averages by running, averages analytics", () => {
  const policy = defaultPolicyConfig();
  const merged = mergeHistories({
    service: "web",
    intervalMs: 5000,
    from: 0,
    to: 20_000,
    policy,
    nodes: [
      {
        node: "n1",
        view: view(series([[5_100, 1, 0.9, 0.5], [10_100, 2, 0.8, null]], [0.9, null]), [{
          t: 10_100,
          service: "web",
          kind: "scale-out",
          policy: "scaleout",
          outcome: "executed",
          reasons: ["cpu_avg 0.9 > 0.7"],
        }]),
      },
      { node: "n2", view: view(series([[6_000, 1, 0.3, null], [9_000, 3, 0.2, 0.1]], [0.5, 0.4])) },
      { node: "n3", error: new Error("Cannot reach agent") },
    ],
  });
  // n2's two samples share the bucket [5000, 10000): its last one counts.
  assert.deepEqual(merged.samples, [
    { t: 5000, running: 4, pending: 0, cpuAvg: 0.375, memoryAvg: 0.2, analytics: { load: 0.65 } },
    { t: 10_000, running: 2, pending: 0, cpuAvg: 0.8, memoryAvg: null, analytics: { load: null } },
  ]);
  assert.deepEqual(merged.markers.map((m) => [m.node, m.kind, m.reasons[0]]), [
    ["n1", "scale-out", "cpu_avg 0.9 > 0.7"],
  ]);
  assert.deepEqual(merged.nodes.map((n) => [n.name, n.ok]), [["n1", true], ["n2", true], [
    "n3",
    false,
  ]]);
  assert.deepEqual(
    merged.thresholds.map((t) => [t.kind, t.value]),
    thresholdsOf(policy).map((t) => [t.kind, t.value]),
  );
});

Deno.test("serviceTemplate is a valid service document", async () => {
  const { problems, docs } = await configFromFiles({
    dir: "t",
    kind: "directory",
    entries: new Map([
      ["services", { kind: "directory" }],
      ["services/new-service.json", { kind: "file", text: JSON.stringify(serviceTemplate()) }],
    ]),
  });
  assert.deepEqual(problems.filter((p) => p.severity === "error"), []);
  assert.equal(docs.services?.[0]?.name, "new-service");
});

import assert from "node:assert/strict";
import type { StatusSnapshot } from "./collect.ts";
import { clockTime, renderStatus, truncate } from "./render.ts";

const GiB = 1024 ** 3;

const SNAPSHOT: StatusSnapshot = {
  cluster: "c1",
  time: "2025-01-02T03:04:05.678Z",
  nodes: [
    {
      name: "n1",
      address: "http://10.0.0.1:5000",
      active: true,
      health: "ok",
      resources: { totalCpus: 4, totalMemory: 8 * GiB },
      instances: [
        {
          id: "a",
          name: "web-1",
          service: "web",
          status: "running",
          cpus: [0, 1],
          memory: 512 * 1024 ** 2,
          ports: [{ guest: "80", host: 29080 }],
          startedAt: 1,
        },
        {
          id: "b",
          name: "web-2",
          service: "web",
          status: "pending",
          cpus: [2],
          memory: 0,
          ports: [],
          startedAt: 2,
        },
      ],
      decisions: [
        {
          seq: 1,
          time: Date.UTC(2025, 0, 2, 3, 4, 1),
          policy: "noaction",
          targets: [],
          outcome: "none",
          why: "nothing to do",
          actions: [],
        },
        {
          seq: 2,
          time: Date.UTC(2025, 0, 2, 3, 4, 3),
          policy: "scaleout",
          targets: ["web"],
          outcome: "executed",
          why: "cpu_avg 0.93 is over the threshold 0.8 for web on every one of the last samples",
          actions: [{ service: "web", action: "start", ok: true, instance: "web-2" }],
        },
      ],
    },
    {
      name: "n2",
      address: "http://10.0.0.2:5000",
      active: false,
      health: "unreachable",
      resources: { totalCpus: 2, totalMemory: 4 * GiB },
      instances: [],
      decisions: [],
      error: "Cannot reach agent at http://10.0.0.2:5000: connection refused",
    },
  ],
  services: [
    { name: "db", image: "postgres", instances: { total: 0, byNode: {} } },
    { name: "web", image: "gru-demo/web", instances: { total: 2, byNode: { n1: 2 } } },
  ],
};

Deno.test("renderStatus draws header, nodes, services and decisions", () => {
  const text = renderStatus(SNAPSHOT, { whyWidth: 30 });
  assert.equal(
    text,
    [
      "Cluster c1: 2 nodes, 2 services  (2025-01-02 03:04:05Z)",
      "",
      "NODES",
      "NAME  ADDRESS               ACTIVE  HEALTH       CORES  MEMORY             INSTANCES",
      "n1    http://10.0.0.1:5000  yes     ok           3/4    512.0 MiB/8.0 GiB  1/2",
      "n2    http://10.0.0.2:5000  no      unreachable  2      4.0 GiB            ?",
      "  n2: Cannot reach agent at http://10.0.0.2:5000: connection refused",
      "",
      "SERVICES",
      "NAME  IMAGE         INSTANCES  N1  N2",
      "db    postgres      0          0   0",
      "web   gru-demo/web  2          2   0",
      "",
      "DECISIONS n1",
      "TIME      POLICY    TARGETS  OUTCOME   WHY",
      "03:04:03  scaleout  web      executed  cpu_avg 0.93 is over the thre…",
      "03:04:01  noaction  -        none      nothing to do",
      "",
      "DECISIONS n2",
      "unreachable",
    ].join("\n"),
  );
});

Deno.test("renderStatus: empty cluster, footer, degraded problems", () => {
  const text = renderStatus({
    cluster: "c2",
    time: "2025-01-02T03:04:05Z",
    nodes: [],
    services: [],
  }, {
    footer: "Every 2s, Ctrl-C to quit",
  });
  assert.equal(
    text,
    [
      "Cluster c2: 0 nodes, 0 services  (2025-01-02 03:04:05Z)",
      "Every 2s, Ctrl-C to quit",
      "",
      "NODES",
      "No live nodes: start agents with `gru agent`",
      "",
      "SERVICES",
      "No services: import some with `gru config import`",
    ].join("\n"),
  );
  const n = SNAPSHOT.nodes[0]!;
  const degraded = renderStatus({
    ...SNAPSHOT,
    nodes: [{ ...n, health: "degraded", problems: ["docker: engine down"], decisions: [] }],
  });
  assert.match(degraded, /^n1 .* degraded /m);
  assert.match(degraded, /^ {2}n1: docker: engine down$/m);
  assert.match(degraded, /^DECISIONS n1\nnone yet$/m);
});

Deno.test("truncate and clockTime", () => {
  assert.equal(truncate("short", 10), "short");
  assert.equal(truncate("a  b\nc", 10), "a b c");
  assert.equal(truncate("abcdefghijk", 5), "abcd…");
  assert.equal(clockTime(Date.UTC(2025, 0, 1, 23, 59, 58)), "23:59:58");
});

import assert from "node:assert/strict";
import { UnavailableError } from "../../domain/errors.ts";
import { runReplLine } from "./commands.ts";
import { newSession } from "./session.ts";
import {
  fakeAgents,
  fakeDeps,
  type Fixture,
  FIXTURE_TOKEN,
  type FixtureNode,
  makeFixture,
} from "./_testing.ts";

const NODES: FixtureNode[] = [
  { name: "n1", address: "http://10.0.0.1:5000", active: true, baseServices: ["web"] },
  { name: "n2", address: "http://10.0.0.2:5000", cpus: 2, memory: 2 * 1024 ** 3 },
  { name: "n3", address: "http://10.0.0.3:5000", active: true },
];
const SERVICES = [
  { name: "web", image: "gru-test/web:1", ports: { "80": "50000-50004" }, memory: "256m" },
  { name: "db", image: "gru-test/db:1", cpuNumber: 1 },
];

function nodeOf(address: string): string {
  return NODES.find((n) => n.address === address)?.name ?? address;
}

interface Case {
  name: string;
  /** Cluster at start (default c1; null for none). */
  cluster?: string | null;
  lines: string[];
  /** Exact stdout (blocks joined with newlines); default: nothing. */
  out?: string;
  /** Lines that stdout must contain (instead of `out`). */
  outHas?: string[];
  /** One pattern per stderr entry; default: no errors. */
  err?: RegExp[];
  /** Commands sent, per node, as `name target object`; default: none. */
  sent?: Record<string, string[]>;
  /** Nodes whose agent fails. */
  failing?: string[];
  /** GET answers: node → body of /services. */
  services?: Record<string, unknown>;
  /** Other GET answers: node → path → body. */
  answers?: Record<string, Record<string, unknown>>;
  /** Cluster after the lines. */
  after?: string | null;
  exit?: boolean;
}

const USE_USAGE = /Usage: use <cluster>/;

const CASES: Case[] = [
  // use
  {
    name: "use selects an existing cluster",
    cluster: null,
    lines: ["use c2"],
    out: "Using cluster c2",
    after: "c2",
  },
  {
    name: "use refuses a missing cluster and keeps the current one",
    lines: ["use nope"],
    err: [/^Error: Cluster "nope" does not exist/],
    after: "c1",
  },
  {
    name: "use without a name is a usage error",
    cluster: null,
    lines: ["use"],
    err: [USE_USAGE],
    after: null,
  },
  { name: "use with two names is a usage error", lines: ["use c1 c2"], err: [USE_USAGE] },
  // list
  {
    name: "list clusters needs no cluster",
    cluster: null,
    lines: ["list clusters"],
    out: "NAME  UUID\nc1    uuid-c1\nc2    uuid-c2\nTOTAL: 2",
  },
  {
    name: "list nodes shows every live node with totals",
    lines: ["list nodes"],
    out: [
      "NAME  ADDRESS               ACTIVE  CORES  MEMORY   BASE-SERVICES",
      "n1    http://10.0.0.1:5000  yes     4      8.0 GiB  web",
      "n2    http://10.0.0.2:5000  no      2      2.0 GiB  -",
      "n3    http://10.0.0.3:5000  yes     4      8.0 GiB  -",
      "TOTAL: 3",
      "ACTIVE: 2",
    ].join("\n"),
  },
  {
    name: "list services shows image, cpus, memory and ports",
    lines: ["LIST Services;"],
    out: [
      "NAME  IMAGE           CPUS  MEMORY  PORTS",
      "db    gru-test/db:1   1     -       -",
      "web   gru-test/web:1  0     256m    50000-50004:80",
      "TOTAL: 2",
    ].join("\n"),
  },
  {
    name: "list alone is a usage error",
    lines: ["list"],
    err: [/Missing what to list\. Usage: list clusters\|nodes\|services/],
  },
  {
    name: "list of an unknown kind is a usage error",
    lines: ["list pods"],
    err: [/Unknown list "pods"/],
  },
  {
    name: "list nodes without a cluster",
    cluster: null,
    lines: ["list nodes"],
    err: [/^Error: Cluster not set: use <cluster> first$/],
  },
  // show
  {
    name: "show node config",
    lines: ["show node n2 config"],
    answers: {
      n2: {
        "/node": {
          desired: {
            sources: {
              baseServices: "default",
              cpuMin: "default",
              cpuMax: "default",
              active: "etcd",
            },
            pending: [],
          },
        },
      },
    },
    out: [
      "NAME  UUID     ADDRESS               CLUSTER  REMOTE            ACTIVE  SOURCE",
      "n2    uuid-n2  http://10.0.0.2:5000  c1       /gru/c1/nodes/n2  no      active=etcd",
    ].join("\n"),
  },
  {
    name: "show node all constraints",
    lines: ["show node all constraints"],
    answers: {
      n1: {
        "/node": {
          desired: {
            sources: { baseServices: "etcd", cpuMin: "default", cpuMax: "cache", active: "etcd" },
            pending: ["cpuMax"],
          },
        },
      },
      n2: {
        "/node": {
          desired: {
            sources: { baseServices: "cache", cpuMin: "cache", cpuMax: "cache", active: "cache" },
            pending: [],
          },
        },
      },
    },
    out: [
      "NAME  BASE-SERVICES  CPU-MIN  CPU-MAX  SOURCE",
      "n1    web            0.20     0.80     base-services=etcd cpu-min=default cpu-max=local-cache(pending)",
      "n2    -              0.20     0.80     base-services=local-cache cpu-min=local-cache cpu-max=local-cache",
      "n3    -              0.20     0.80     base-services=unknown cpu-min=unknown cpu-max=unknown",
    ].join("\n"),
  },
  {
    name: "show node resources",
    lines: ["show node n1 resources"],
    out: "NAME  CORES  MEMORY\nn1    4      8.0 GiB",
  },
  {
    name: "show alone is a usage error",
    lines: ["show"],
    err: [/Missing what to show\. Usage:\n {2}show node/],
  },
  {
    name: "show node x is a usage error",
    lines: ["show node x"],
    err: [/Not enough arguments to "show node"/],
  },
  {
    name: "show node of an unknown node",
    lines: ["show node x config"],
    err: [/^Error: Unknown node "x" in cluster "c1"$/],
  },
  {
    name: "show node of an unknown property",
    lines: ["show node n1 disks"],
    err: [/Unknown node property "disks"/],
  },
  {
    name: "show of an unknown subject",
    lines: ["show cluster c1"],
    err: [/Unknown "show" subject "cluster"/],
  },
  {
    name: "show decisions of one node prints its latest decisions",
    lines: ["show decisions n1"],
    answers: {
      n1: {
        "/decisions?limit=10": [{
          time: Date.UTC(2026, 0, 1, 12, 0, 1, 500),
          chosen: { policy: "scaleout", targets: ["web"], weight: 0.8 },
          outcome: "executed",
          why: "scaleout web (weight 0.80)",
        }, {
          time: Date.UTC(2026, 0, 1, 12, 0, 2),
          chosen: { policy: "noaction", targets: ["noservice"], weight: 0.9 },
          outcome: "none",
          why: "no action: the best other weight is 0.10",
        }],
      },
    },
    out: [
      "NODE  TIME          POLICY    TARGETS  WEIGHT  OUTCOME   WHY",
      "n1    12:00:01.500  scaleout  web      0.80    executed  scaleout web (weight 0.80)",
      "n1    12:00:02.000  noaction  -        0.90    none      no action: the best other weight is 0.10",
    ].join("\n"),
  },
  {
    name: "show decisions reports an unreachable node and goes on",
    lines: ["show decisions n1"],
    out: "NODE  TIME  POLICY  TARGETS  WEIGHT  OUTCOME  WHY",
    err: [/^Error: n1: no answer for/],
  },
  // set
  {
    name: "set node is a usage error",
    lines: ["set node"],
    err: [/Not enough arguments to "set node"\. Usage:\n {2}set node <node\|all> base-services/],
  },
  { name: "set alone is a usage error", lines: ["set"], err: [/Missing what to set/] },
  {
    name: "set service is not supported",
    lines: ["set service web x"],
    err: [/Unknown "set" subject "service"/],
  },
  {
    name: "set node n1 base-services without services clears them",
    lines: ["set node n1 base-services"],
    out: "NODE  STATUS\nn1    done",
    sent: { n1: ["update node-base-services []"] },
  },
  {
    name: "set node n1 without a property",
    lines: ["set node n1"],
    err: [/Not enough arguments/],
  },
  {
    name: "set node n1 cpumin without a value",
    lines: ["set node n1 cpumin"],
    err: [/Not enough arguments/],
  },
  {
    name: "set base-services on one node",
    lines: ["set node n1 base-services web db web"],
    out: "NODE  STATUS\nn1    done",
    sent: { n1: ['update node-base-services ["web","db"]'] },
  },
  {
    name: "set base-services none clears them",
    lines: ["set node n2 base-services none"],
    out: "NODE  STATUS\nn2    done",
    sent: { n2: ["update node-base-services []"] },
  },
  {
    name: "set base-services on all nodes",
    lines: ["set node all base-services db"],
    out: "NODE  STATUS\nn1    done\nn2    done\nn3    done",
    sent: {
      n1: ['update node-base-services ["db"]'],
      n2: ['update node-base-services ["db"]'],
      n3: ['update node-base-services ["db"]'],
    },
  },
  {
    name: "set base-services with unknown services sends nothing",
    lines: ["set node n1 base-services web nope nada"],
    err: [/^Error: Unknown services "nope", "nada" in cluster "c1"$/],
  },
  {
    name: "set cpumin sends a number",
    lines: ["set node n3 cpumin 0.25"],
    out: "NODE  STATUS\nn3    done",
    sent: { n3: ["update node-cpumin 0.25"] },
  },
  {
    name: "set cpumax 1 on all",
    lines: ["set node all CPUMAX 1"],
    outHas: ["n1    done"],
    sent: {
      n1: ["update node-cpumax 1"],
      n2: ["update node-cpumax 1"],
      n3: ["update node-cpumax 1"],
    },
  },
  {
    name: "set cpumax above 1",
    lines: ["set node n1 cpumax 1.5"],
    err: [/CPU value not valid: "1\.5"/],
  },
  {
    name: "set cpumin not a number",
    lines: ["set node n1 cpumin abc"],
    err: [/CPU value not valid/],
  },
  { name: "set cpumin negative", lines: ["set node n1 cpumin -0.1"], err: [/CPU value not valid/] },
  {
    name: "set cpumin with two values",
    lines: ["set node n1 cpumin 0.1 0.2"],
    err: [/Too many arguments/],
  },
  {
    name: "set of an unknown node property",
    lines: ["set node n1 memory 3"],
    err: [/Unknown node property "memory"/],
  },
  { name: "set on an unknown node", lines: ["set node n9 cpumin 0.3"], err: [/Unknown node "n9"/] },
  {
    name: "set without a cluster",
    cluster: null,
    lines: ["set node n1 cpumin 0.3"],
    err: [/Cluster not set/],
  },
  // start / stop
  {
    name: "start alone is a usage error",
    lines: ["start"],
    err: [/Missing what to start\. Usage:\n {2}start agent/],
  },
  {
    name: "start service alone is a usage error",
    lines: ["start service"],
    err: [/Missing service in "start service"/],
  },
  {
    name: "start service without nodes is a usage error",
    lines: ["start service web"],
    err: [/Missing nodes/],
  },
  {
    name: "start service svc node without nodes is a usage error",
    lines: ["start service web node"],
    err: [/Missing nodes/],
  },
  {
    name: "start service of an unknown service sends nothing",
    lines: ["start service nope node n1"],
    err: [/^Error: Unknown service "nope" in cluster "c1"$/],
  },
  {
    name: "start service, README form with the word node",
    lines: ["start service web node n1"],
    out: "NODE  STATUS\nn1    done",
    sent: { n1: ['start service "web"'] },
  },
  {
    name: "start service on several nodes, duplicates dropped",
    lines: ["start service web n1 n3 n1"],
    out: "NODE  STATUS\nn1    done\nn3    done",
    sent: { n1: ['start service "web"'], n3: ['start service "web"'] },
  },
  {
    name: "start service on all",
    lines: ["start service db all"],
    sent: { n1: ['start service "db"'], n2: ['start service "db"'], n3: ['start service "db"'] },
    outHas: ["n2    done"],
  },
  {
    name: "start service on an unknown node sends nothing",
    lines: ["start service web node n1 nope"],
    err: [/^Error: Unknown node "nope" in cluster "c1"$/],
  },
  {
    name: "all cannot be mixed with nodes",
    lines: ["start agent n1 all"],
    err: [/"all" cannot be combined/],
  },
  {
    name: "start agent alone is a usage error",
    lines: ["start agent"],
    err: [/Missing nodes in "start agent"/],
  },
  {
    name: "start agent all",
    lines: ["start agent all"],
    out: "NODE  STATUS\nn1    done\nn2    done\nn3    done",
    sent: { n1: ["start agent null"], n2: ["start agent null"], n3: ["start agent null"] },
  },
  {
    name: "stop agent on one node",
    lines: ["stop agent n2"],
    sent: { n2: ["stop agent null"] },
    out: "NODE  STATUS\nn2    done",
  },
  {
    name: "stop service",
    lines: ["stop service db node n2"],
    sent: { n2: ['stop service "db"'] },
    out: "NODE  STATUS\nn2    done",
  },
  {
    name: "stop of an unknown target",
    lines: ["stop everything"],
    err: [/Unknown "stop" target "everything"\. Usage:\n {2}stop agent/],
  },
  {
    name: "start without a cluster",
    cluster: null,
    lines: ["start agent all"],
    err: [/Cluster not set/],
  },
  {
    name: "a failing node is reported and the others go on",
    lines: ["start agent all"],
    failing: ["n2"],
    out:
      "NODE  STATUS\nn1    done\nn2    error: Cannot reach agent at http://10.0.0.2:5000: refused\nn3    done",
    err: [/^Error: 1 of 3 nodes failed: n2$/],
    sent: { n1: ["start agent null"], n2: ["start agent null"], n3: ["start agent null"] },
  },
  // update
  {
    name: "update alone is a usage error",
    lines: ["update"],
    err: [/Missing what to update\. Usage:\n {2}update all/],
  },
  {
    name: "update of an unknown target",
    lines: ["update everything"],
    err: [/Unknown "update" target/],
  },
  {
    name: "update policy sends the cluster name to every node",
    lines: ["update policy"],
    out: "NODE  STATUS\nn1    done\nn2    done\nn3    done",
    sent: { n1: ['update policy "c1"'], n2: ['update policy "c1"'], n3: ['update policy "c1"'] },
  },
  {
    name: "update analytics",
    lines: ["update analytics"],
    outHas: ["n3    done"],
    sent: {
      n1: ['update analytics "c1"'],
      n2: ['update analytics "c1"'],
      n3: ['update analytics "c1"'],
    },
  },
  {
    name: "update service-constraints sends the service name",
    lines: ["update service-constraints web"],
    outHas: ["n1    done"],
    sent: {
      n1: ['update service-constraints "web"'],
      n2: ['update service-constraints "web"'],
      n3: ['update service-constraints "web"'],
    },
  },
  {
    name: "update service-constraints of an unknown service",
    lines: ["update service-constraints x"],
    err: [/Unknown service "x"/],
  },
  {
    name: "update service-constraints without a service",
    lines: ["update service-constraints"],
    err: [/takes one service/],
  },
  // deploy / undeploy
  {
    name: "deploy pairs sorted services with sorted nodes",
    lines: ["deploy"],
    out: "NODE  SERVICE  STATUS\nn1    db       done\nn2    web      done",
    sent: {
      n1: ['update node-base-services ["db"]', 'start service "db"'],
      n2: ['update node-base-services ["web"]', 'start service "web"'],
    },
  },
  {
    name: "deploy reports a failing node",
    lines: ["deploy"],
    failing: ["n1"],
    out:
      "NODE  SERVICE  STATUS\nn1    db       error: Cannot reach agent at http://10.0.0.1:5000: refused\nn2    web      done",
    err: [/^Error: 1 of 2 nodes failed: n1$/],
    sent: {
      n1: ['update node-base-services ["db"]'],
      n2: ['update node-base-services ["web"]', 'start service "web"'],
    },
  },
  {
    name: "deploy takes no arguments",
    lines: ["deploy now"],
    err: [/"deploy" takes no arguments/],
  },
  {
    name: "undeploy stops what each node runs",
    lines: ["undeploy"],
    services: {
      n1: [{ name: "web", instances: [{ id: "a1" }, { id: "a2" }] }, { name: "db", instances: [] }],
      n2: { services: [{ Name: "db", Instances: 1 }] },
    },
    out: [
      "NODE  STATUS",
      "n1    done: stopped web",
      "n2    done: stopped db",
      "n3    done: stopped db, web",
    ].join("\n"),
    sent: {
      n1: [
        "update node-base-services []",
        'stop service {"service":"web","id":"a1"}',
        'stop service {"service":"web","id":"a2"}',
      ],
      n2: ["update node-base-services []", 'stop service "db"'],
      n3: ["update node-base-services []", 'stop service "db"', 'stop service "web"'],
    },
  },
  {
    name: "undeploy on a node that runs nothing",
    lines: ["undeploy"],
    services: { n1: [], n2: [], n3: [{ name: "web" }] },
    out:
      "NODE  STATUS\nn1    done: nothing to stop\nn2    done: nothing to stop\nn3    done: nothing to stop",
    sent: {
      n1: ["update node-base-services []"],
      n2: ["update node-base-services []"],
      n3: ["update node-base-services []"],
    },
  },
  {
    name: "undeploy reports an unreachable node",
    lines: ["undeploy"],
    failing: ["n3"],
    services: { n1: [], n2: [] },
    outHas: ["n3    error: Cannot reach agent at http://10.0.0.3:5000: refused"],
    err: [/^Error: 1 of 3 nodes failed: n3$/],
    sent: {
      n1: ["update node-base-services []"],
      n2: ["update node-base-services []"],
      n3: ["update node-base-services []"],
    },
  },
  // help, exit, misc
  {
    name: "help on one command",
    lines: ["help set"],
    out: [
      "set node <node|all> base-services [<service>...|none]  set the services a node always keeps running (none: clear them)",
      "set node <node|all> cpumin|cpumax <0..1>               set a node's CPU bounds",
    ].join("\n"),
  },
  { name: "help on an unknown command", lines: ["help fly"], err: [/Unknown command "fly"/] },
  { name: "exit", lines: ["exit"], exit: true },
  { name: "quit;", lines: ["QUIT;"], exit: true },
  {
    name: "exit with arguments is a usage error",
    lines: ["exit now"],
    err: [/takes no arguments/],
  },
  {
    name: "unknown command",
    lines: ["fly away"],
    err: [/^Error: Unknown command "fly": type "help" for the list of commands$/],
  },
  { name: "blank lines and comments do nothing", lines: ["", "   ", "# use c2", ";"] },
  {
    name: "the session goes on after errors",
    cluster: null,
    lines: ["use", "list nodes", "use c1", "start", "start service", "list clusters", "set node"],
    outHas: ["Using cluster c1", "TOTAL: 2"],
    err: [
      USE_USAGE,
      /Cluster not set/,
      /Missing what to start/,
      /Missing service/,
      /Not enough arguments to "set node"/,
    ],
    after: "c1",
  },
];

function render(o: unknown): string {
  return o === undefined ? "null" : JSON.stringify(o);
}

Deno.test("runReplLine() runs commands against the store and the agents", async (t) => {
  let fixture: Fixture | undefined;
  try {
    fixture = await makeFixture({ nodes: NODES, services: SERVICES });
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const fake = fakeAgents();
        for (const n of c.failing ?? []) {
          const address = NODES.find((x) => x.name === n)!.address;
          fake.failures.set(
            address,
            new UnavailableError(`Cannot reach agent at ${address}: refused`),
          );
        }
        for (const [n, body] of Object.entries(c.services ?? {})) {
          fake.answers.set(`${NODES.find((x) => x.name === n)!.address}/services`, body);
        }
        for (const [n, paths] of Object.entries(c.answers ?? {})) {
          for (const [path, body] of Object.entries(paths)) {
            fake.answers.set(`${NODES.find((x) => x.name === n)!.address}${path}`, body);
          }
        }
        const { deps, output } = fakeDeps(fixture!, fake);
        const session = newSession(c.cluster === null ? undefined : c.cluster ?? "c1");
        for (const line of c.lines) await runReplLine(line, session, deps);

        const stdout = output.stdout.join("\n");
        if (c.outHas) {
          for (const line of c.outHas) {
            assert.ok(stdout.split("\n").includes(line), `missing "${line}" in:\n${stdout}`);
          }
        } else {
          assert.equal(stdout, c.out ?? "");
        }
        const patterns = c.err ?? [];
        assert.equal(output.stderr.length, patterns.length, `stderr: ${output.stderr.join("\n")}`);
        patterns.forEach((p, i) => assert.match(output.stderr[i]!, p));
        for (const e of output.stderr) assert.match(e, /^Error: /);

        const byNode: Record<string, string[]> = {};
        for (const s of fake.sent) {
          (byNode[nodeOf(s.address)] ??= []).push(`${s.name} ${s.target} ${render(s.object)}`);
        }
        assert.deepEqual(byNode, c.sent ?? {});
        for (const s of fake.sent) assert.equal(s.token, FIXTURE_TOKEN);
        if (c.after !== undefined) assert.equal(session.cluster, c.after ?? undefined);
        assert.equal(session.exit, c.exit ?? false);
      });
    }
  } finally {
    await fixture?.close();
  }
});

Deno.test("runReplLine() returns false on errors and true otherwise", async () => {
  const fixture = await makeFixture({ nodes: [], services: [] });
  try {
    const { deps } = fakeDeps(fixture, fakeAgents());
    const session = newSession();
    assert.equal(await runReplLine("", session, deps), true);
    assert.equal(await runReplLine("use c1", session, deps), true);
    assert.equal(await runReplLine("start agent all", session, deps), false);
    assert.equal(await runReplLine("help", session, deps), true);
  } finally {
    await fixture.close();
  }
});

Deno.test("runReplLine() deploy needs at least as many nodes as services", async () => {
  const fixture = await makeFixture({
    nodes: [{ name: "only", address: "http://10.0.0.9:5000" }],
    services: SERVICES,
  });
  try {
    const fake = fakeAgents();
    const { deps, output } = fakeDeps(fixture, fake);
    await runReplLine("deploy", newSession("c1"), deps);
    assert.deepEqual(output.stderr, [
      'Error: Cannot deploy: not enough nodes (2 services, 1 live node): start an agent ("gru ' +
      'join c1") on 1 more node',
    ]);
    assert.deepEqual(fake.sent, []);
    await runReplLine("deploy", newSession("c2"), deps);
    assert.deepEqual(output.stdout, ['Nothing to deploy: cluster "c2" has no services']);
    await runReplLine("start agent all", newSession("c2"), deps);
    assert.equal(
      output.stderr[1],
      'Error: No live agent in cluster "c2": start one with "gru join c2" (or "gru agent") on ' +
        "each node",
    );
  } finally {
    await fixture.close();
  }
});

Deno.test("runReplLine() help lists every command with its usage", async () => {
  const fixture = await makeFixture({ nodes: [], services: [] });
  try {
    const { deps, output } = fakeDeps(fixture, fakeAgents());
    await runReplLine("help", newSession(), deps);
    const help = output.stdout.join("\n");
    for (
      const usage of [
        "use <cluster>",
        "list clusters|nodes|services",
        "show node <node|all> config|constraints|resources",
        "show decisions [node]",
        "set node <node|all> base-services [<service>...|none]",
        "set node <node|all> cpumin|cpumax <0..1>",
        "start agent <node>...|all",
        "start service <service> [node] <node>...|all",
        "stop agent <node>...|all",
        "stop service <service> [node] <node>...|all",
        "update all|agent|services|policy|analytics",
        "update service-constraints <service>",
        "deploy",
        "undeploy",
        "help [command]",
        "exit|quit",
      ]
    ) {
      assert.ok(help.split("\n").some((l) => l.startsWith(`${usage}  `)), `help lacks ${usage}`);
    }
  } finally {
    await fixture.close();
  }
});

Deno.test("runReplLine() use and list refresh the completion names", async () => {
  const fixture = await makeFixture({ nodes: NODES, services: SERVICES });
  try {
    const { deps } = fakeDeps(fixture, fakeAgents());
    const session = newSession();
    await runReplLine("use c1", session, deps);
    assert.deepEqual(session.names, {
      clusters: ["c1", "c2"],
      nodes: ["n1", "n2", "n3"],
      services: ["db", "web"],
    });
    session.names.nodes = [];
    await runReplLine("list nodes", session, deps);
    assert.deepEqual(session.names.nodes, ["n1", "n2", "n3"]);
  } finally {
    await fixture.close();
  }
});

Deno.test("show node constraints falls back on etcd's desired state when the agent is away", async () => {
  const fixture = await makeFixture({ nodes: NODES, services: SERVICES });
  try {
    await fixture.store.putNodeDesired("c1", "n3", { baseServices: [], cpuMax: 0.8 });
    const { deps, output } = fakeDeps(fixture, fakeAgents());
    await runReplLine("show node n3 constraints", newSession("c1"), deps);
    assert.equal(
      output.stdout.join("\n"),
      [
        "NAME  BASE-SERVICES  CPU-MIN  CPU-MAX  SOURCE",
        "n3    -              0.20     0.80     base-services=etcd cpu-min=default cpu-max=etcd",
      ].join("\n"),
    );
  } finally {
    await fixture.close();
  }
});

Deno.test("runReplLine() says plainly when no agent is alive", async () => {
  const fixture = await makeFixture({ nodes: [], services: SERVICES });
  try {
    const fake = fakeAgents();
    const { deps, output } = fakeDeps(fixture, fake);
    const hint = 'No live agent in cluster "c1": start one with "gru join c1" (or "gru agent") ' +
      "on each node";
    assert.equal(await runReplLine("list nodes", newSession("c1"), deps), true);
    assert.deepEqual(output.stdout, [
      "NAME  ADDRESS  ACTIVE  CORES  MEMORY  BASE-SERVICES",
      "TOTAL: 0",
      "ACTIVE: 0",
      hint,
    ]);
    assert.equal(await runReplLine("deploy", newSession("c1"), deps), false);
    assert.deepEqual(output.stderr, [`Error: Cannot deploy: ${hint}`]);
    assert.equal(await runReplLine("start service web node n1", newSession("c1"), deps), false);
    assert.equal(output.stderr[1], `Error: Unknown node "n1" in cluster "c1". ${hint}`);
    assert.deepEqual(fake.sent, []);
  } finally {
    await fixture.close();
  }
});

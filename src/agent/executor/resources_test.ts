import assert from "node:assert/strict";
import { ResourceLedger } from "./resources.ts";
import { parseCpuset } from "../../domain/cpuset.ts";
import type { ServiceDescriptor } from "../../domain/model.ts";
import { ConflictError } from "../../domain/errors.ts";

function svc(
  name: string,
  cfg: Partial<ServiceDescriptor["configuration"]> = {},
): ServiceDescriptor {
  return {
    name,
    type: "",
    image: "img",
    remote: "",
    discoveryPort: "",
    analytics: [],
    constraints: {},
    minInstances: 0,
    maxInstances: 0,
    configuration: {
      env: {},
      volumes: {},
      entrypoint: [],
      memory: "",
      cpuNumber: 0,
      cpuShares: 0,
      cpusetCpus: "",
      links: [],
      ports: {},
      cmd: [],
      stopTimeout: 0,
      ...cfg,
    },
  };
}

Deno.test("parseCpuset() reads lists and ranges", () => {
  assert.deepEqual(parseCpuset(""), []);
  assert.deepEqual(parseCpuset("0,2"), [0, 2]);
  assert.deepEqual(parseCpuset("0-3,6"), [0, 1, 2, 3, 6]);
  assert.throws(() => parseCpuset("3-1"), /descends/);
  assert.throws(() => parseCpuset("a"), /Invalid cpuset "a"/);
});

Deno.test("ResourceLedger.reserve() gives two quick starts different cores and ports", () => {
  const l = new ResourceLedger({ cpus: 4, memory: 1 << 30 });
  const web = svc("web", { cpuNumber: 1, ports: { "80": "8000-8001" }, memory: "64m" });
  const a = l.reserve(web, "a");
  const b = l.reserve(web, "b");
  assert.deepEqual(a.cpus, [0]);
  assert.deepEqual(b.cpus, [1]);
  assert.deepEqual([a.ports["80"], b.ports["80"]], [8000, 8001]);
  assert.equal(l.view().usedMemory, 128 * 1024 * 1024);
  assert.throws(() => l.reserve(web, "c"), (err: Error) => {
    assert.ok(err instanceof ConflictError);
    assert.match(err.message, /no free host port in 8000-8001 for guest port 80/);
    return true;
  });
  l.release("a");
  assert.deepEqual(l.reserve(web, "c").ports, { "80": 8000 });
});

Deno.test("ResourceLedger.reserve() refuses what the node does not have", () => {
  const l = new ResourceLedger({ cpus: 2, memory: 100 * 1024 * 1024 });
  const cases = [
    { s: svc("big", { cpuNumber: 3 }), re: /needs 3 free cores, 2 of 2 free/ },
    { s: svc("fat", { memory: "200m" }), re: /needs 209715200 bytes of memory/ },
    { s: svc("pin", { cpusetCpus: "5" }), re: /names cores 5 but the node has 2/ },
  ];
  for (const c of cases) assert.throws(() => l.reserve(c.s, "x"), c.re);
  l.reserve(svc("p", { cpusetCpus: "1" }), "p");
  assert.throws(() => l.reserve(svc("q", { cpusetCpus: "0,1" }), "q"), /cores 1 .* are taken/);
});

Deno.test("ResourceLedger skips host ports used by other containers", () => {
  const l = new ResourceLedger({ cpus: 1, memory: 0 });
  l.setForeignPorts([9000, 9001]);
  assert.deepEqual(l.reserve(svc("w", { ports: { "80": "9000-9002" } }), "w").ports, {
    "80": 9002,
  });
});

Deno.test("ResourceLedger.adopt() and rekey() keep an existing container's holdings", () => {
  const l = new ResourceLedger({ cpus: 2, memory: 0 });
  l.adopt({ key: "old", service: "w", cpus: [0], memory: 0, ports: { "80": 7000 } });
  const r = l.reserve(svc("w", { cpuNumber: 1, ports: { "80": "7000-7001" } }), "tmp");
  assert.deepEqual(r.cpus, [1]);
  assert.deepEqual(r.ports, { "80": 7001 });
  l.rekey("tmp", "id1");
  assert.equal(l.get("tmp"), undefined);
  assert.equal(l.get("id1")?.key, "id1");
  assert.equal(l.canHost(svc("w", { cpuNumber: 1 })).ok, false);
});

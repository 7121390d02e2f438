import assert from "node:assert/strict";
import type { ServiceDescriptor } from "../../domain/model.ts";
import { buildContainerSpec, inheritsFromAgent } from "./container_spec.ts";
import type { Reservation } from "./resources.ts";

Deno.test("inheritsFromAgent() refuses Gru's own settings and credential-looking names", () => {
  const refused = [
    "ETCD_PASSWORD",
    "ETCD_USER",
    "ETCD_USERNAME",
    "ETCD_CA",
    "ETCDCTL_PASSWORD",
    "etcd_password",
    "GRU_TLS_KEY",
    "GRU_TLS_CERT",
    "GRU_TLS_CA",
    "GRU_TOKEN",
    "GRU_STORE",
    "gru_state",
    "DB_PASSWORD",
    "DB_PASS",
    "MYSQL_ROOT_PASSWD",
    "GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "API_KEY",
    "api-key",
    "SSH_KEYS",
    "CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "KEY",
    "TOKEN",
    "SECRET",
    "app.password",
  ];
  for (const name of refused) assert.equal(inheritsFromAgent(name), false, name);
  const allowed = [
    "PATH",
    "TZ",
    "HOME",
    "http_proxy",
    "ETCD_ADDR",
    "HostIP",
    "KEYBOARD",
    "MONKEY",
    "PASSAGE",
  ];
  for (const name of allowed) assert.equal(inheritsFromAgent(name), true, name);
});

function service(env: Record<string, string>): ServiceDescriptor {
  return {
    name: "web",
    type: "webserver",
    image: "gru-test/busybox",
    configuration: {
      cmd: [],
      entrypoint: [],
      env,
      cpuShares: 0,
      volumes: {},
      links: [],
      stopTimeout: 10,
    },
  } as unknown as ServiceDescriptor;
}

Deno.test("buildContainerSpec() copies empty Env entries from the agent, never its credentials", () => {
  const agentEnv: Record<string, string> = {
    TZ: "Europe/Rome",
    ETCD_PASSWORD: "etcd-secret",
    ETCD_USER: "root",
    GRU_TLS_KEY: "/etc/gru/node.key",
    DB_PASSWORD: "db-secret",
    ETCD_ADDR: "http://10.0.0.1:2379",
  };
  const asked: string[] = [];
  const spec = buildContainerSpec(
    service({
      TZ: "",
      ETCD_PASSWORD: "",
      ETCD_USER: "",
      GRU_TLS_KEY: "",
      DB_PASSWORD: "",
      APP_MODE: "prod",
      MISSING: "",
      ETCD_ADDR: "",
    }),
    { cpus: [0], memory: 0, ports: {} } as unknown as Reservation,
    {
      cluster: "c",
      node: "n",
      hostIp: "10.0.0.2",
      etcdAddr: "http://127.0.0.1:2379",
      env: (name) => {
        asked.push(name);
        return agentEnv[name];
      },
      suffix: "x",
    },
  );
  assert.deepEqual(spec.env.sort(), [
    "APP_MODE=prod",
    "DB_PASSWORD=",
    "ETCD_ADDR=http://10.0.0.1:2379",
    "ETCD_PASSWORD=",
    "ETCD_USER=",
    "GRU_TLS_KEY=",
    "HostIP=10.0.0.2",
    "MISSING=",
    "TZ=Europe/Rome",
  ]);
  for (const secret of ["etcd-secret", "db-secret", "root", "/etc/gru/node.key"]) {
    assert.ok(!spec.env.some((e) => e.includes(secret)), secret);
  }
  assert.deepEqual(asked.sort(), ["ETCD_ADDR", "MISSING", "TZ"], "credentials are never even read");
  // an explicit value is the descriptor's own: kept as written
  const explicit = buildContainerSpec(
    service({ DB_PASSWORD: "given" }),
    { cpus: [0], memory: 0, ports: {} } as unknown as Reservation,
    { cluster: "c", node: "n", hostIp: "h", etcdAddr: "e", env: () => "agent", suffix: "y" },
  );
  assert.ok(explicit.env.includes("DB_PASSWORD=given"));
});

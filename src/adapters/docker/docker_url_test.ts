import assert from "node:assert/strict";
import { resolveDockerUrl } from "./docker_url.ts";

const cases = [
  { name: "default", url: "default", want: { kind: "socket", socketPath: "/var/run/docker.sock" } },
  { name: "empty", url: "", want: { kind: "socket", socketPath: "/var/run/docker.sock" } },
  { name: "unix", url: "unix:///run/d.sock", want: { kind: "socket", socketPath: "/run/d.sock" } },
  {
    name: "local:<port> uses the node IP",
    url: "local:2375",
    want: { kind: "tcp", protocol: "http", host: "10.0.0.5", port: 2375 },
  },
  {
    name: "host:port",
    url: "127.0.0.1:2375",
    want: { kind: "tcp", protocol: "http", host: "127.0.0.1", port: 2375 },
  },
  {
    name: "tcp://",
    url: "tcp://docker.example:2376",
    want: { kind: "tcp", protocol: "http", host: "docker.example", port: 2376 },
  },
  {
    name: "https://",
    url: "https://h:2376",
    want: { kind: "tcp", protocol: "https", host: "h", port: 2376 },
  },
] as const;

for (const c of cases) {
  Deno.test(`resolveDockerUrl() ${c.name}`, () => {
    assert.deepEqual(resolveDockerUrl(c.url, { nodeIp: "10.0.0.5" }), c.want);
  });
}

Deno.test("resolveDockerUrl() tcp:// becomes https with TLS", () => {
  assert.deepEqual(resolveDockerUrl("tcp://h:2376", { nodeIp: "x", tls: true }), {
    kind: "tcp",
    protocol: "https",
    host: "h",
    port: 2376,
  });
});

for (const bad of ["nocolon", "unix://relative", "h:99999", "ftp://h:1"]) {
  Deno.test(`resolveDockerUrl() rejects "${bad}" naming it`, () => {
    assert.throws(() => resolveDockerUrl(bad, { nodeIp: "x" }), (err: Error) => {
      assert.match(err.message, new RegExp(`Invalid Docker URL "${bad.replace(/[/.]/g, "\\$&")}"`));
      return true;
    });
  });
}

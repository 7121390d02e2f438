import assert from "node:assert/strict";
import { Command } from "@commander-js/extra-typings";
import { type CliDeps, ExitError, memoryOutput } from "../context.ts";
import type { CaCreateOptions, CertCreateOptions, TlsFiles } from "../../ports/tls.ts";
import { tlsCommand } from "./tls.ts";

function setup() {
  const calls: (CaCreateOptions | CertCreateOptions)[] = [];
  const written = { cert: "c.pem", key: "c-key.pem", fingerprint: "AA", notAfter: "2030" };
  const files: TlsFiles = {
    createCa: (o) => (calls.push(o), Promise.resolve(written)),
    createCert: (o) => (calls.push(o), Promise.resolve(written)),
  };
  const output = memoryOutput();
  const notUsed = () => Promise.reject(new Error("not used"));
  const deps = {
    output,
    tls: () => Promise.resolve(files),
    openStore: notUsed,
    env: () => undefined,
    configureLogging: () => Promise.resolve(),
    runAgent: notUsed,
    readIdentity: notUsed,
    writeIdentity: notUsed,
    detectHostIp: () => undefined,
    loadConfigDir: notUsed,
    writeConfigDir: notUsed,
  } as CliDeps;
  const run = (...args: string[]) =>
    new Command("gru").exitOverride().addCommand(tlsCommand(deps)).parseAsync(["tls", ...args], {
      from: "user",
    });
  return { calls, output, run };
}

Deno.test("gru tls ca create passes name, days and key type; defaults to the current dir", async () => {
  const { calls, output, run } = setup();
  await run("ca", "create", "--name", "My CA", "--days", "30", "--key-type", "ed25519");
  assert.deepEqual(calls, [{ dir: ".", name: "My CA", days: 30, keyType: "ed25519" }]);
  assert.match(output.stdout.join("\n"), /CA "My CA" created/);
});

Deno.test("gru tls cert create --node: node name, IPs and loopback names as SANs", async () => {
  const { calls, run } = setup();
  await run("cert", "create", "--node", "gn1", "--ip", "10.0.0.1", "--loopback", "--dir", "d/");
  assert.deepEqual(calls, [{
    dir: "d/",
    caCert: "d/gru-ca.pem",
    caKey: "d/gru-ca-key.pem",
    kind: "node",
    name: "gn1",
    dnsNames: ["gn1", "localhost"],
    ips: ["10.0.0.1", "127.0.0.1", "::1"],
    days: 365,
    keyType: "ecdsa",
    stem: "gn1",
  }]);
});

Deno.test("gru tls cert create --cli: a client certificate named cli, no SAN", async () => {
  const { calls, run } = setup();
  await run("cert", "create", "--cli", "--ca", "x/ca.pem", "--ca-key", "x/ca-key.pem");
  const c = calls[0] as CertCreateOptions;
  assert.equal(c.kind, "cli");
  assert.equal(c.name, "cli");
  assert.equal(c.caCert, "x/ca.pem");
  assert.deepEqual([c.dnsNames, c.ips], [[], []]);
});

Deno.test("gru tls cert create: bad input is exit 2 and nothing is created", async () => {
  const cases: [string[], RegExp][] = [
    [["--node", "a", "--cli"], /exactly one of --node/],
    [[], /exactly one of --node/],
    [["--node", "bad name"], /Invalid node name "bad name"/],
    [["--node", "a", "--ip", "10.0.0"], /Invalid --ip "10\.0\.0"/],
    [["--node", "a", "--dns", "-x"], /Invalid --dns "-x"/],
    [["--node", "a", "--days", "0"], /Invalid --days "0"/],
  ];
  for (const [args, message] of cases) {
    const { calls, run } = setup();
    await assert.rejects(
      run("cert", "create", ...args),
      (err: unknown) => err instanceof ExitError && err.exitCode === 2 && message.test(err.message),
      args.join(" "),
    );
    assert.deepEqual(calls, []);
  }
});

import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createCa, createLeaf } from "./certificates.ts";
import { localTlsFiles } from "./tls_files.ts";
import { ConflictError, ValidationError } from "../../domain/errors.ts";

const NOW = new Date("2026-06-01T12:00:00Z");

Deno.test("createCa() makes a self-signed CA that signs leaves only", async () => {
  const ca = await createCa({ name: "Test CA", days: 10, now: NOW });
  const cert = new x509.X509Certificate(ca.cert);
  assert.equal(cert.subject, "CN=Test CA");
  assert.equal(cert.issuer, "CN=Test CA");
  assert.ok(await cert.isSelfSigned());
  const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
  assert.equal(bc.ca, true);
  assert.equal(bc.pathLength, 0);
  assert.equal(bc.critical, true);
  const ku = cert.getExtension(x509.KeyUsagesExtension)!;
  assert.ok(ku.usages & x509.KeyUsageFlags.keyCertSign);
  assert.equal(cert.notBefore.getTime(), NOW.getTime() - 60_000);
  assert.equal(cert.notAfter.getTime(), NOW.getTime() + 10 * 86_400_000);
  assert.equal(cert.publicKey.algorithm.name, "ECDSA");
  assert.match(ca.key, /^-----BEGIN PRIVATE KEY-----/);
});

Deno.test("createLeaf() node: CN, SANs, serverAuth + clientAuth, signed by the CA", async () => {
  const ca = await createCa({ name: "Test CA", days: 10, now: NOW });
  const leaf = await createLeaf({
    ca,
    kind: "node",
    name: "gn1",
    dnsNames: ["gn1", "localhost"],
    ips: ["10.231.0.11", "127.0.0.1", "::1"],
    days: 5,
    now: NOW,
  });
  const cert = new x509.X509Certificate(leaf.cert);
  const caCert = new x509.X509Certificate(ca.cert);
  assert.equal(cert.subject, "CN=gn1");
  assert.equal(cert.issuer, caCert.subject);
  assert.ok(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }));
  const other = await createCa({ name: "Other CA", days: 10, now: NOW });
  assert.equal(
    await cert.verify({
      publicKey: new x509.X509Certificate(other.cert).publicKey,
      signatureOnly: true,
    }),
    false,
  );
  const chain = await new x509.X509ChainBuilder({ certificates: [caCert] }).build(cert);
  assert.equal(chain.length, 2);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
  assert.deepEqual(san.names.toJSON(), [
    { type: "dns", value: "gn1" },
    { type: "dns", value: "localhost" },
    { type: "ip", value: "10.231.0.11" },
    { type: "ip", value: "127.0.0.1" },
    { type: "ip", value: "::1" },
  ]);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!;
  assert.deepEqual([...eku.usages], [
    x509.ExtendedKeyUsage.serverAuth,
    x509.ExtendedKeyUsage.clientAuth,
  ]);
  assert.equal(cert.getExtension(x509.BasicConstraintsExtension)!.ca, false);
  assert.equal(cert.notAfter.getTime(), NOW.getTime() + 5 * 86_400_000);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)!;
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension)!;
  assert.equal(aki.keyId, ski.keyId);
});

Deno.test("createLeaf() cli: clientAuth only, no SAN when none asked", async () => {
  const ca = await createCa({ name: "Test CA", days: 10 });
  const leaf = await createLeaf({ ca, kind: "cli", name: "cli", dnsNames: [], ips: [], days: 1 });
  const cert = new x509.X509Certificate(leaf.cert);
  assert.deepEqual([...cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [
    x509.ExtendedKeyUsage.clientAuth,
  ]);
  assert.equal(cert.getExtension(x509.SubjectAlternativeNameExtension), null);
});

Deno.test("createLeaf() with Ed25519 keys under an Ed25519 CA", async () => {
  const ca = await createCa({ name: "Ed CA", days: 10, keyType: "ed25519" });
  const leaf = await createLeaf({
    ca,
    kind: "node",
    name: "n1",
    dnsNames: ["n1"],
    ips: ["127.0.0.1"],
    days: 1,
    keyType: "ed25519",
  });
  const cert = new x509.X509Certificate(leaf.cert);
  assert.equal(cert.publicKey.algorithm.name, "Ed25519");
  const caCert = new x509.X509Certificate(ca.cert);
  assert.ok(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }));
});

Deno.test("createLeaf() refuses a CA key that does not belong to the CA certificate", async () => {
  const ca = await createCa({ name: "A", days: 10 });
  const other = await createCa({ name: "B", days: 10 });
  await assert.rejects(
    createLeaf({
      ca: { cert: ca.cert, key: other.key },
      kind: "cli",
      name: "cli",
      dnsNames: [],
      ips: [],
      days: 1,
    }),
    ValidationError,
  );
});

Deno.test("localTlsFiles writes keys 0600, certificates 0644, never overwrites", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gru-tls-" });
  try {
    const ca = await localTlsFiles.createCa({ dir, name: "T", days: 10, keyType: "ecdsa" });
    assert.equal(ca.cert, `${dir}/gru-ca.pem`);
    assert.equal(ca.key, `${dir}/gru-ca-key.pem`);
    assert.match(ca.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const node = await localTlsFiles.createCert({
      dir: `${dir}/nodes`,
      caCert: ca.cert,
      caKey: ca.key,
      kind: "node",
      name: "gn1",
      dnsNames: ["gn1"],
      ips: ["10.0.0.1"],
      days: 1,
      keyType: "ecdsa",
      stem: "gn1",
    });
    for (const f of [ca.key, node.key]) assert.equal((await Deno.stat(f)).mode! & 0o777, 0o600);
    for (const f of [ca.cert, node.cert]) assert.equal((await Deno.stat(f)).mode! & 0o777, 0o644);
    const before = await Deno.readTextFile(ca.key);
    await assert.rejects(
      localTlsFiles.createCa({ dir, name: "T", days: 10, keyType: "ecdsa" }),
      ConflictError,
    );
    assert.equal(await Deno.readTextFile(ca.key), before);
    await assert.rejects(
      localTlsFiles.createCert({
        dir,
        caCert: `${dir}/missing.pem`,
        caKey: ca.key,
        kind: "cli",
        name: "cli",
        dnsNames: [],
        ips: [],
        days: 1,
        keyType: "ecdsa",
        stem: "cli",
      }),
      /Cannot read the CA certificate .*missing\.pem: no such file/,
    );
    await assert.rejects(
      localTlsFiles.createCert({
        dir,
        caCert: node.cert,
        caKey: node.key,
        kind: "cli",
        name: "cli",
        dnsNames: [],
        ips: [],
        days: 1,
        keyType: "ecdsa",
        stem: "cli",
      }),
      /is not a CA/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

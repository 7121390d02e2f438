import assert from "node:assert/strict";
import { pickHostIp, readIdentity, writeIdentity } from "./identity.ts";
import { generateSigningKey } from "../agent/gossip/signing.ts";

Deno.test("the identity file keeps the signing key, mode 0600; a bad key is named, not quoted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/sub/node.json`;
    const signingKey = await generateSigningKey();
    const identity = { cluster: "c", name: "n", uuid: "u", address: "10.0.0.1", port: 5000 };
    await writeIdentity(path, { ...identity, signingKey });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual((await readIdentity(path))?.signingKey, signingKey);

    // An identity from before signed gossip has no key and still reads.
    await Deno.writeTextFile(path, JSON.stringify(identity));
    assert.equal((await readIdentity(path))?.signingKey, undefined);

    const secret = "not a key: s3cr3t!";
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        ...identity,
        signingKey: { publicKey: signingKey.publicKey, privateKey: secret },
      }),
    );
    await assert.rejects(
      () => readIdentity(path),
      (err: Error) =>
        /\$\.signingKey\.privateKey: expected 43 base64url characters/.test(err.message) &&
        !err.message.includes(secret),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pickHostIp() skips loopback and prefers a real interface to a container bridge", () => {
  const v4 = (name: string, address: string) => ({ name, family: "IPv4", address });
  assert.equal(
    pickHostIp([v4("lo", "127.0.0.1"), v4("docker0", "172.17.0.1"), v4("eth0", "10.0.0.5")]),
    "10.0.0.5",
  );
  assert.equal(
    pickHostIp([v4("br-1a2b", "172.18.0.1"), v4("gn1-n", "10.231.0.11")]),
    "10.231.0.11",
  );
  assert.equal(pickHostIp([v4("lo", "127.0.0.1"), v4("docker0", "172.17.0.1")]), "172.17.0.1");
  assert.equal(
    pickHostIp([{ name: "eth0", family: "IPv6", address: "fe80::1" }, v4("lo", "127.0.0.1")]),
    undefined,
  );
});

import assert from "node:assert/strict";
import { readIdentity, writeIdentity } from "./identity.ts";
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

/**
 * The node identity file written by `gru join` and read by `gru agent`. It holds the node's
 * gossip signing key (`signingKey`), so it is written with mode 0600.
 *
 * @module
 */

import type { NodeIdentity } from "../ports/cli_deps.ts";
import { ValidationError } from "../domain/errors.ts";

const BASE64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** Reads the identity file; `undefined` when it does not exist. */
export async function readIdentity(path: string): Promise<NodeIdentity | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  let v: Partial<NodeIdentity>;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`Identity file ${path} is not JSON`, { cause: err });
  }
  for (const k of ["cluster", "name", "uuid", "address"] as const) {
    if (typeof v[k] !== "string" || v[k] === "") {
      throw new ValidationError(
        `Identity file ${path}: $.${k}: expected a string, found ${JSON.stringify(v[k])}`,
      );
    }
  }
  if (typeof v.port !== "number") {
    throw new ValidationError(
      `Identity file ${path}: $.port: expected a number, found ${JSON.stringify(v.port)}`,
    );
  }
  if (v.signingKey !== undefined) {
    // Never quote the key: it is a secret.
    const k = v.signingKey as Record<string, unknown> | null;
    if (typeof k !== "object" || k === null || Array.isArray(k)) {
      throw new ValidationError(`Identity file ${path}: $.signingKey: expected an object`);
    }
    for (const part of ["publicKey", "privateKey"] as const) {
      if (typeof k[part] !== "string" || !BASE64URL_32.test(k[part] as string)) {
        throw new ValidationError(
          `Identity file ${path}: $.signingKey.${part}: expected 43 base64url characters ` +
            `(an Ed25519 key)`,
        );
      }
    }
  }
  if (v.tls !== undefined) {
    const t = v.tls as Record<string, unknown> | null;
    if (typeof t !== "object" || t === null || Array.isArray(t)) {
      throw new ValidationError(`Identity file ${path}: $.tls: expected an object`);
    }
    for (const part of ["ca", "cert", "key"] as const) {
      if (t[part] !== undefined && (typeof t[part] !== "string" || t[part] === "")) {
        throw new ValidationError(
          `Identity file ${path}: $.tls.${part}: expected a file path, found ` +
            `${JSON.stringify(t[part]).slice(0, 80)}`,
        );
      }
    }
  }
  return v as NodeIdentity;
}

/** Writes the identity file atomically, creating its directory. */
export async function writeIdentity(path: string, identity: NodeIdentity): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(identity, null, 2) + "\n", { mode: 0o600 });
  // A leftover temporary file keeps its old mode: the identity holds a private key.
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
}

/**
 * Interfaces that container engines and overlays create on a host: their addresses are not
 * where peers reach the node (a node whose Docker made `docker0` first would advertise
 * 172.17.0.1).
 */
const VIRTUAL_INTERFACE =
  /^(docker|br-|veth|virbr|cni|flannel|cali|cilium|weave|vxlan|lxc|podman|kube)/;

/**
 * The host's address for peers: the first non-loopback IPv4 address, preferring interfaces
 * that are not container bridges or overlays (any non-loopback one if there is nothing else).
 */
export function pickHostIp(
  interfaces: readonly { name: string; family: string; address: string }[],
): string | undefined {
  const candidates = interfaces.filter((i) => i.family === "IPv4" && !i.address.startsWith("127."));
  return (candidates.find((i) => !VIRTUAL_INTERFACE.test(i.name)) ?? candidates[0])?.address;
}

/**
 * This host's address for peers ({@linkcode pickHostIp}). A missing `--allow-sys` permission is
 * thrown, not taken for "no address": the error must name the permission.
 */
export function detectHostIp(): string | undefined {
  try {
    return pickHostIp(Deno.networkInterfaces());
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) throw err;
    return undefined;
  }
}

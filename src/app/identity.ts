/**
 * The node identity file written by `gru join` and read by `gru agent`.
 *
 * @module
 */

import type { NodeIdentity } from "../ports/cli_deps.ts";
import { ValidationError } from "../domain/errors.ts";

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
  return v as NodeIdentity;
}

/** Writes the identity file atomically, creating its directory. */
export async function writeIdentity(path: string, identity: NodeIdentity): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(identity, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, path);
}

/** The first non-loopback IPv4 address of this host. */
export function detectHostIp(): string | undefined {
  try {
    return Deno.networkInterfaces().find((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    )?.address;
  } catch {
    return undefined;
  }
}

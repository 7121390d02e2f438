/**
 * The local cache of a node's desired state (`src/agent/node_state.ts`): a JSON file beside the
 * identity file, `<identity without .json>.node-state.json`, written atomically with mode 0600.
 *
 * @module
 */

import type { NodeStateCacheFile } from "../agent/node_state.ts";

/** Where the cache of the node whose identity file is `identityPath` lives. */
export function nodeStateCachePath(identityPath: string): string {
  return `${identityPath.replace(/\.json$/, "")}.node-state.json`;
}

/** The cache file beside `identityPath`. */
export function nodeStateFile(identityPath: string): NodeStateCacheFile {
  const path = nodeStateCachePath(identityPath);
  return {
    path,
    async read() {
      try {
        return await Deno.readTextFile(path);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      }
    },
    async write(text: string) {
      const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
      if (dir) await Deno.mkdir(dir, { recursive: true });
      const tmp = `${path}.tmp-${Deno.pid}`;
      await Deno.writeTextFile(tmp, text, { mode: 0o600 });
      await Deno.chmod(tmp, 0o600);
      await Deno.rename(tmp, path);
    },
  };
}

/**
 * The file behind the embedded key-value store in file mode: the state it persists, the exclusive
 * lock on `<file>.lock`, the reload when another process changed the file, and the atomic write
 * back (temporary file + rename).
 *
 * The file holds the cluster token, so it is private to its owner: the store file (including
 * when a write replaces an existing file of wider mode), its temporary files and its lock file
 * are all mode 0600.
 *
 * @module
 */

import { ValidationError } from "../../domain/errors.ts";

/** One stored key's value and the lease it lives on. */
export interface Entry {
  value: string;
  lease?: string | undefined;
}

/** One lease as stored: its TTL in seconds and when it expires (ms since epoch). */
export interface LeaseState {
  ttl: number;
  expiresAt: number;
}

/** The whole store: what the file holds, as JSON. */
export interface State {
  entries: Record<string, Entry>;
  leases: Record<string, LeaseState>;
  nextLease: number;
}

/** A store with no keys and no leases. */
export function emptyState(): State {
  return { entries: {}, leases: {}, nextLease: 1 };
}

/** Mode of the store file, its temporary files and its lock file: owner read/write only. */
const FILE_MODE = 0o600;

/** The JSON file of a store shared by several processes. */
export class MemoryKvFile {
  readonly path: string;
  /** What the file was when last read or written: mtime, size and inode. */
  #stamp = "";
  /** Whether the lock and store files were set to 0600 (once per store). */
  #modeSet = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Runs `fn` holding the exclusive lock on `<file>.lock`, released whatever `fn` does. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = `${this.path}.lock`;
    const lock = await Deno.open(lockPath, { create: true, write: true, mode: FILE_MODE });
    try {
      if (!this.#modeSet) {
        // existing files keep their mode on open: narrow them once (a store file written
        // before files were private, e.g. 0644, stops being world-readable at once)
        await restrict(lockPath);
        await restrict(this.path).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
        this.#modeSet = true;
      }
      await lock.lock(true);
      return await fn();
    } finally {
      await lock.unlock().catch(() => {});
      lock.close();
    }
  }

  /**
   * The file's state when it changed since it was last read or written; `undefined` when it did
   * not, or does not exist. Throws `ValidationError` when it is not JSON.
   */
  async load(): Promise<State | undefined> {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
    const stamp = stampOf(stat);
    if (stamp === this.#stamp) return undefined;
    const text = await Deno.readTextFile(this.path);
    let state: State;
    try {
      state = text.trim() ? JSON.parse(text) as State : emptyState();
    } catch (err) {
      throw new ValidationError(`Cannot read store file ${this.path}: not JSON`, { cause: err });
    }
    this.#stamp = stamp;
    return state;
  }

  /** Writes `state` to the file atomically, as a fresh 0600 file. */
  async save(state: State): Promise<void> {
    const tmp = `${this.path}.tmp-${Deno.pid}`;
    // a leftover temporary file would keep its mode: start from a fresh one
    await Deno.remove(tmp).catch(() => {});
    await Deno.writeTextFile(tmp, JSON.stringify(state), { mode: FILE_MODE });
    await restrict(tmp);
    // the rename replaces the old file (whatever its mode) with this 0600 one
    await Deno.rename(tmp, this.path);
    this.#stamp = stampOf(await Deno.stat(this.path));
  }
}

function stampOf(stat: Deno.FileInfo): string {
  return `${stat.mtime?.getTime()}:${stat.size}:${stat.ino}`;
}

/** Sets a file to {@link FILE_MODE} (the create mode is subject to the umask, an open file keeps its mode). */
async function restrict(path: string): Promise<void> {
  try {
    await Deno.chmod(path, FILE_MODE);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotSupported)) throw err;
  }
}

/**
 * Test fixtures for the command tests: CLI deps whose every factory throws unless the test gives
 * it, a store over a shared one whose `close` leaves that one open, and a runner of one command
 * under a bare `gru` program.
 *
 * @module
 */

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import type { KvStore } from "../../ports/kv_store.ts";
import { type CliDeps, ExitError, type Output } from "../context.ts";

/** A dependency the command under test must not touch: calling it throws. */
export function notUsed(what: string): () => never {
  return () => {
    throw new Error(`Not used by ${what}`);
  };
}

/**
 * CLI deps writing to `output`, with no environment and logging a no-op; every other factory
 * throws `Not used by <what>` unless `given` supplies it.
 */
export function cliDeps(what: string, output: Output, given: Partial<CliDeps> = {}): CliDeps {
  const no = notUsed(what);
  return {
    output,
    env: () => undefined,
    openStore: no,
    configureLogging: () => Promise.resolve(),
    runAgent: no,
    tls: no,
    readIdentity: no,
    writeIdentity: no,
    detectHostIp: no,
    loadConfigDir: no,
    writeConfigDir: no,
    ...given,
  };
}

/**
 * A cluster store over `kv` for one command: its `close` leaves `kv` open (the test and the next
 * command still use it) and calls `onClose`.
 */
export function sharedStore(kv: KvStore, onClose: () => void = () => {}): ClusterStore {
  const shared: KvStore = {
    get: (k) => kv.get(k),
    getPrefix: (p) => kv.getPrefix(p),
    put: (k, v, o) => kv.put(k, v, o),
    delete: (k) => kv.delete(k),
    deletePrefix: (p) => kv.deletePrefix(p),
    txn: (c, o) => kv.txn(c, o),
    grantLease: (t) => kv.grantLease(t),
    watchPrefix: (p, w) => kv.watchPrefix(p, w),
    close: () => {
      onClose();
      return Promise.resolve();
    },
  };
  return new ClusterStore(shared);
}

/** Runs `gru <args>` with `command` the program's only command (the program's exits throw). */
export async function runCommand(command: CommandUnknownOpts, args: string[]): Promise<void> {
  const program = new Command("gru").exitOverride().addCommand(command);
  await program.parseAsync(args, { from: "user" });
}

/** The `ExitError` a command fails with; throws if it succeeds or fails otherwise. */
export async function failure(promise: Promise<void>): Promise<ExitError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ExitError) return err;
    throw err;
  }
  throw new Error("expected the command to fail");
}

/**
 * `gru token rotate <cluster> [--grace S]` and `gru token show <cluster> [--reveal]`: the
 * cluster's API token (`/gru/<cluster>/token`).
 *
 * `rotate` writes a new random token in one transaction and keeps the old one accepted for
 * `--grace` seconds (default 60) through `/gru/<cluster>/token-previous`
 * (`{"token", "until"}`), so agents, which re-read the token every few seconds, and clients
 * never see a gap. It also gives a token to a cluster that has none (one the original Gru
 * made), which ends the agents' fail-closed state. It never prints the token.
 *
 * `show` prints the token to a terminal only, or anywhere with `--reveal` (for scripts: keep it
 * out of logs).
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { type CliDeps, ExitError, storeOptionsOf } from "../context.ts";
import { assertName, clusterKeys } from "../../cluster/keys.ts";
import { newClusterToken } from "../../cluster/tokens.ts";

/** Default seconds the previous token stays accepted after `rotate`. */
export const DEFAULT_GRACE_SECONDS = 60;
/** Longest grace period `rotate` accepts: one week. */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

function parseGrace(raw: string): number {
  const s = Number(raw);
  if (!(Number.isInteger(s) && s >= 0 && s <= MAX_GRACE_SECONDS)) {
    throw new ExitError(
      `Invalid --grace ${JSON.stringify(raw.slice(0, 20))}: expected whole seconds from 0 to ` +
        `${MAX_GRACE_SECONDS}`,
      2,
    );
  }
  return s;
}

/**
 * The `token` command and its subcommands.
 *
 * @param deps Output, store factory and environment.
 * @returns The commander command.
 *
 * @example Adding it to the tree
 * ```ts ignore
 * program.addCommand(tokenCommand(deps));
 * ```
 */
export function tokenCommand(deps: CliDeps) {
  const token = new Command("token").description("the cluster's API token");
  token.addCommand(
    new Command("rotate")
      .description(
        "write a new random token; the old one stays accepted for --grace seconds",
      )
      .argument("<cluster>", "cluster name")
      .addOption(
        new Option("--grace <seconds>", "seconds the previous token stays accepted")
          .default(String(DEFAULT_GRACE_SECONDS)),
      )
      .action(async (cluster, opts, cmd) => {
        assertName("cluster", cluster);
        const graceSeconds = parseGrace(opts.grace);
        const store = await deps.openStore(storeOptionsOf(cmd));
        try {
          const { previousUntil } = await store.rotateToken(cluster, {
            token: newClusterToken(),
            graceSeconds,
            now: Date.now(),
          });
          deps.output.out(
            previousUntil === undefined
              ? `Rotated the token of cluster ${cluster}; no previous token is accepted.`
              : `Rotated the token of cluster ${cluster}; the previous one is accepted until ` +
                `${new Date(previousUntil).toISOString()}.`,
          );
          deps.output.err(
            `Agents read ${clusterKeys(cluster).token} within a few seconds; ` +
              `'gru manage' and 'gru status' read it from etcd.`,
          );
        } finally {
          await store.kv.close();
        }
      }),
  );
  token.addCommand(
    new Command("show")
      .description("print the token (to a terminal, or with --reveal)")
      .argument("<cluster>", "cluster name")
      .option("--reveal", "print it even when stdout is not a terminal")
      .action(async (cluster, opts, cmd) => {
        assertName("cluster", cluster);
        if (!opts.reveal && !Deno.stdout.isTerminal()) {
          throw new ExitError(
            "Not printing the token: stdout is not a terminal (pass --reveal to print it anyway)",
            2,
          );
        }
        const store = await deps.openStore(storeOptionsOf(cmd));
        try {
          await store.requireCluster(cluster);
          const current = await store.token(cluster);
          if (current === undefined || current.trim() === "") {
            throw new ExitError(
              `Cluster ${cluster} has no token: create one with "gru token rotate ${cluster}"`,
            );
          }
          deps.output.out(current.trim());
        } finally {
          await store.kv.close();
        }
      }),
  );
  for (const sub of token.commands) {
    sub.exitOverride().configureOutput({
      writeOut: (s) => deps.output.out(s.replace(/\n$/, "")),
      writeErr: (s) => deps.output.err(s.replace(/\n$/, "")),
    });
  }
  return token;
}

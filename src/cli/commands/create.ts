/**
 * `gru create <cluster>`: creates the cluster's tree with a new uuid and token. Refuses (exit 1)
 * when the cluster exists or etcd cannot be reached; never prints an invented uuid
 * (docs/compat.md#d24).
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { type CliDeps, etcdServerOption, storeOptionsOf } from "../context.ts";
import { newUuidHex } from "../../domain/random.ts";
import { assertName } from "../../cluster/keys.ts";

/** The `create` command. */
export function createCommand(deps: CliDeps) {
  return new Command("create")
    .description("create a cluster in etcd and print <cluster>:<uuid>")
    .argument("<cluster>", "cluster name")
    .addOption(etcdServerOption())
    .action(async (cluster, _opts, cmd) => {
      assertName("cluster", cluster);
      const store = await deps.openStore(storeOptionsOf(cmd));
      try {
        const uuid = newUuidHex();
        const token = newUuidHex() + newUuidHex();
        await store.createCluster(cluster, { uuid, token });
        deps.output.out(`${cluster}:${uuid}`);
        deps.output.err(
          `Created cluster ${cluster}. Agents and 'gru manage' read its API token from ` +
            `/gru/${cluster}/token.`,
        );
      } finally {
        await store.kv.close();
      }
    });
}

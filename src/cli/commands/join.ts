/**
 * `gru join <cluster>`: registers this node under the cluster (claiming its name for one lease
 * TTL), saves its identity to the state file and becomes the node's agent, as the original did:
 * in the foreground, serving the API, its loop inactive until `start agent`; SIGINT/SIGTERM
 * leave cleanly (lease revoked, containers left running). `--register-only` stops after the
 * registration (cloud-init does that, then systemd runs `gru agent`). A name held by a live node
 * is refused, never silently replaced (docs/compat.md#d28).
 *
 * @module
 */

import { Command, type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import {
  type CliDeps,
  DEFAULT_STATE_FILE,
  etcdServerOption,
  ExitError,
  type NodeIdentity,
  storeOptionsOf,
} from "../context.ts";
import { newUuidHex } from "../../domain/random.ts";
import { randomNodeName } from "../../domain/names.ts";
import { assertName } from "../../cluster/keys.ts";
import { ConflictError, errorMessage } from "../../domain/errors.ts";
import {
  agentOptions,
  checkRunFlags,
  parsePort,
  type RunFlags,
  runFlagsOf,
  runOptionsFrom,
} from "./agent.ts";
import { tlsPathsOf } from "../tls_options.ts";
import { generateSigningKey } from "../../agent/gossip/signing.ts";

/** The `join` command. */
export function joinCommand(deps: CliDeps) {
  const cmd = new Command("join")
    .description(
      "join a cluster and run this node's agent (loop inactive until `start agent`); " +
        "--register-only: register, save the identity and exit",
    )
    .argument("<cluster>", "cluster name")
    .addOption(new Option("-n, --name <name>", "node name (default: a random free name)"))
    .addOption(
      new Option(
        "-a, --address <ip>",
        "IP advertised to peers (default: the first non-loopback one, container bridges last)",
      )
        .env("HostIP"),
    )
    .addOption(
      new Option("-p, --port <port>", "agent API port").env("GRU_PORT").default("5000"),
    )
    .addOption(
      new Option("--state <file>", "identity file").env("GRU_STATE").default(DEFAULT_STATE_FILE),
    )
    .addOption(etcdServerOption())
    .option(
      "--register-only",
      "register the node and save its identity, then exit (run the agent later: gru agent)",
    )
    .addOption(
      new Option("--run", "no-op, kept for compatibility: join runs the agent by default")
        .hideHelp(),
    );
  return agentOptions(cmd).action(async (...args: unknown[]) => {
    const cluster = args[0] as string;
    const c = args.at(-1) as CommandUnknownOpts;
    const opts = runFlagsOf<
      RunFlags & {
        name?: string;
        address?: string;
        port: string;
        state: string;
        run?: boolean;
        registerOnly?: boolean;
      }
    >(c);
    if (opts.run && opts.registerOnly) {
      throw new ExitError("--run and --register-only contradict each other: give one", 2);
    }
    assertName("cluster", cluster);
    const storeOpts = storeOptionsOf(c);
    const tls = tlsPathsOf(c);
    const scheme = tls?.cert ? "https" : "http";
    const port = parsePort(opts.port);
    const { ttl } = checkRunFlags(opts);
    const address = opts.address ?? deps.detectHostIp();
    if (!address) {
      throw new ExitError("Cannot find a non-loopback IPv4 address: pass --address <ip>", 2);
    }
    const store = await deps.openStore(storeOpts);
    let identity: NodeIdentity;
    let statePath: string | undefined = opts.state;
    // The agent goes on with this store (already connected) unless only registering.
    let handOver = false;
    try {
      await store.requireCluster(cluster);
      const previous = await deps.readIdentity(opts.state).catch(() => undefined);
      let name = opts.name;
      if (name !== undefined) {
        assertName("node", name);
        const holder = await store.getNode(cluster, name);
        if (holder && holder.config.uuid !== previous?.uuid) {
          throw new ConflictError(
            `Node name "${name}" is held by a live node at ${holder.config.address}: ` +
              `choose another --name or stop that agent`,
          );
        }
      } else {
        const taken = new Set((await store.listNodes(cluster)).map((n) => n.config.name));
        for (let i = 0; name === undefined || taken.has(name); i++) {
          name = randomNodeName(Math.random, i >= 4);
        }
      }
      const same = previous?.cluster === cluster && previous.name === name;
      identity = {
        cluster,
        name,
        uuid: same ? previous.uuid : newUuidHex(),
        address,
        port,
        etcd: storeOpts.etcd,
        tls,
        // The gossip signing key: kept across re-joins of the same node, new otherwise.
        signingKey: (same ? previous.signingKey : undefined) ?? await generateSigningKey(),
      };
      // Claim the name for one TTL: the agent takes the registration over when it starts.
      const lease = await store.kv.grantLease(ttl);
      await store.registerNode(cluster, {
        config: {
          uuid: identity.uuid,
          name,
          address: `${scheme}://${address}:${port}`,
          cluster,
          remote: `/gru/${cluster}/nodes/${name}`,
          publicKey: identity.signingKey?.publicKey,
        },
        constraints: { cpuMin: 0, cpuMax: 0, baseServices: [] },
        resources: { totalCpus: 0, totalMemory: 0 },
        active: false,
      }, lease.id);
      lease.release();
      try {
        await deps.writeIdentity(opts.state, identity);
      } catch (err) {
        // Registration only: the identity is the whole point. Running: the agent runs anyway.
        if (opts.registerOnly) throw err;
        statePath = undefined;
        deps.output.err(
          `Warning: cannot save the identity to ${opts.state} (${errorMessage(err)}): the ` +
            `agent runs, but a restart needs "gru join" again (choose the file: --state, env ` +
            `GRU_STATE)`,
        );
      }
      handOver = !opts.registerOnly;
    } finally {
      if (!handOver) await store.kv.close();
    }
    deps.output.out(`Joined cluster ${cluster} as node ${identity.name} (${address}:${port}).`);
    if (opts.registerOnly) {
      deps.output.out(
        `Identity saved to ${opts.state}. Start the agent: gru agent --state ${opts.state}` +
          `  (or: systemctl enable --now gru-agent)`,
      );
      return;
    }
    deps.output.out("Waiting for commands...");
    const code = await deps.runAgent(runOptionsFrom(identity, storeOpts, opts, statePath), store);
    if (code !== 0) throw new ExitError(`Agent exited with code ${code}`, code);
  });
}

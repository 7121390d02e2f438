/**
 * `gru agent`: the long-running daemon. Reads the identity saved by `gru join` (flags override
 * it), keeps the node lease alive, serves the API, and on SIGINT/SIGTERM revokes its lease and
 * leaves its containers running.
 *
 * @module
 */

import { Command, type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import {
  type AgentRunOptions,
  type CliDeps,
  DEFAULT_STATE_FILE,
  etcdServerOption,
  ExitError,
  type NodeIdentity,
  type StoreOptions,
  storeOptionsOf,
} from "../context.ts";
import { newUuidHex } from "../../domain/random.ts";
import { assertName } from "../../cluster/keys.ts";
import { tlsPathsOf } from "../tls_options.ts";
import { generateSigningKey } from "../../agent/gossip/signing.ts";

/** Parses a TCP port or throws a usage error naming it. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ExitError(`Invalid --port "${text}": expected an integer in 1..65535`, 2);
  }
  return n;
}

/** Adds the agent-run options shared by `agent` and `join`. */
export function agentOptions(cmd: CommandUnknownOpts): CommandUnknownOpts {
  return cmd
    .addOption(new Option("--listen <host>", "interface to listen on").default("0.0.0.0"))
    .addOption(
      new Option("--docker <url>", "Docker engine URL (overrides the cluster config)").env(
        "DOCKER_HOST",
      ),
    )
    .addOption(new Option("--ttl <seconds>", "node lease TTL").default("6"))
    .option("--dry-run", "plan and record decisions but execute nothing")
    .option("--active", "start the autonomic loop at once (default: wait for `start agent`)")
    .addOption(
      new Option(
        "--label <key=value...>",
        "extra label on every container this agent creates (GRU_LABELS: comma-separated)",
      ).env("GRU_LABELS"),
    );
}

/** The shared flags of a parsed command; `GRU_LABELS` holds comma-separated labels. */
export function runFlagsOf<T extends RunFlags>(c: CommandUnknownOpts): T {
  const opts = c.opts() as unknown as T;
  if (opts.label && c.getOptionValueSource("label") === "env") {
    opts.label = opts.label.flatMap((l) => l.split(",")).filter((l) => l.trim() !== "");
  }
  return opts;
}

/** The flags `agentOptions` adds. */
export interface RunFlags {
  listen: string;
  docker?: string | undefined;
  ttl: string;
  dryRun?: boolean | undefined;
  active?: boolean | undefined;
  label?: string[] | undefined;
}

/** The TTL and labels of the shared flags; a bad one is a usage error (exit 2) naming it. */
export function checkRunFlags(flags: RunFlags): { ttl: number; labels: Record<string, string> } {
  const ttl = Number(flags.ttl);
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new ExitError(`Invalid --ttl "${flags.ttl}": expected an integer >= 1 (seconds)`, 2);
  }
  const labels: Record<string, string> = {};
  for (const l of flags.label ?? []) {
    const i = l.indexOf("=");
    if (i < 1) throw new ExitError(`Invalid --label "${l}": expected key=value`, 2);
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  return { ttl, labels };
}

/** Agent run options from an identity and the shared flags. */
export function runOptionsFrom(
  identity: NodeIdentity,
  store: StoreOptions,
  flags: RunFlags,
  statePath?: string,
): AgentRunOptions {
  const { ttl, labels } = checkRunFlags(flags);
  return {
    identity,
    store: { ...store, etcd: store.etcd ?? identity.etcd },
    listen: flags.listen,
    docker: flags.docker,
    ttl,
    dryRun: flags.dryRun ?? false,
    activate: flags.active ?? false,
    labels,
    tls: identity.tls,
    statePath,
  };
}

/** The `agent` command. */
export function agentCommand(deps: CliDeps) {
  const cmd = new Command("agent")
    .description(
      "run the Gru agent of this node (after gru join, or with --cluster and --name); TLS: " +
        "the global --tls-ca, --tls-cert, --tls-key",
    )
    .addOption(
      new Option("--state <file>", "identity file").env("GRU_STATE").default(DEFAULT_STATE_FILE),
    )
    .addOption(new Option("-c, --cluster <cluster>", "cluster (overrides the identity file)"))
    .addOption(new Option("-n, --name <name>", "node name (overrides the identity file)"))
    .addOption(new Option("-a, --address <ip>", "IP advertised to peers").env("HostIP"))
    .addOption(new Option("-p, --port <port>", "agent API port").env("GRU_PORT"))
    .addOption(etcdServerOption());
  return agentOptions(cmd)
    .action(async (...args: unknown[]) => {
      const c = args.at(-1) as CommandUnknownOpts;
      const opts = runFlagsOf<
        RunFlags & {
          state: string;
          cluster?: string;
          name?: string;
          address?: string;
          port?: string;
        }
      >(c);
      const saved = await deps.readIdentity(opts.state).catch((err) => {
        throw new ExitError(`Cannot read identity file ${opts.state}: ${err.message}`, 2);
      });
      const cluster = opts.cluster ?? saved?.cluster;
      const name = opts.name ?? saved?.name;
      if (!cluster || !name) {
        throw new ExitError(
          `No identity in ${opts.state}: run "gru join <cluster>" first, or pass --cluster and --name`,
          2,
        );
      }
      assertName("cluster", cluster);
      assertName("node", name);
      const address = opts.address ?? saved?.address ?? deps.detectHostIp();
      if (!address) throw new ExitError("Cannot find this host's IP: pass --address <ip>", 2);
      const same = saved?.cluster === cluster && saved?.name === name;
      const savedKey = same ? saved!.signingKey : undefined;
      const identity: NodeIdentity = {
        cluster,
        name,
        uuid: same ? saved!.uuid : newUuidHex(),
        address,
        port: parsePort(opts.port ?? String(saved?.port ?? 5000)),
        etcd: saved?.etcd,
        // TLS: the global --tls-* flags (GRU_TLS_*), else the files given at join time.
        tls: tlsPathsOf(c) ?? (same ? saved?.tls : undefined),
        // A node joined before signed gossip gets its key now (saved with the identity).
        signingKey: savedKey ?? await generateSigningKey(),
      };
      if (!same || savedKey === undefined) {
        await deps.writeIdentity(opts.state, identity).catch(() => {/* read-only is fine */});
      }
      const code = await deps.runAgent(
        runOptionsFrom(identity, storeOptionsOf(c), opts, opts.state),
      );
      if (code !== 0) throw new ExitError(`Agent exited with code ${code}`, code);
    });
}

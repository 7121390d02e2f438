/**
 * `gru lb haproxy --service S --socket PATH|HOST:PORT [--backend B] [--app-root P | --cluster C]
 * [--server-options "…"] [--resync S] [--drain-timeout S]`: keeps an HAProxy backend's servers
 * equal to a service's discovery keys, through HAProxy's runtime API (add, drain, delete; no
 * reload), until Ctrl-C (docs/lb.md). The watcher is imported when the command runs, so no other
 * command loads it.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { type CliDeps, ExitError, storeOptionsOf } from "../context.ts";
import { excerpt } from "../../domain/excerpt.ts";
import { systemClock } from "../../domain/clock.ts";

/** Server options of every added server unless `--server-options` says otherwise. */
export const DEFAULT_SERVER_OPTIONS = "check inter 1s fall 2 rise 1";

/** Characters HAProxy accepts in proxy and server names. */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function haproxyName(flag: string, raw: string): string {
  if (!HAPROXY_NAME.test(raw)) {
    throw new ExitError(
      `Invalid ${flag} ${excerpt(raw)}: expected 1 to 64 letters, digits, "_", ".", ":" or "-"`,
      2,
    );
  }
  return raw;
}

function seconds(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > 86_400) {
    throw new ExitError(
      `Invalid ${flag} ${excerpt(raw, 20)}: expected seconds from ${min} to 86400`,
      2,
    );
  }
  return n;
}

function serverOptions(raw: string): string {
  // One runtime-API line: a ";" or a control character would run another command.
  // deno-lint-ignore no-control-regex
  if (/[;\u0000-\u001f\u007f#]/.test(raw) || raw.length > 500) {
    throw new ExitError(
      `Invalid --server-options ${excerpt(raw)}: expected HAProxy server keywords on one ` +
        `line, without ";" or "#"`,
      2,
    );
  }
  return raw.trim();
}

function haproxyCommand(deps: CliDeps) {
  return new Command("haproxy")
    .description(
      "feed an HAProxy backend from a service's discovery keys (runtime API: add, drain, delete)",
    )
    .requiredOption("-s, --service <name>", "the service whose instances are the servers")
    .requiredOption(
      "--socket <path|host:port>",
      "HAProxy's runtime API (a stats socket at level admin)",
    )
    .option("-b, --backend <name>", "the HAProxy backend (default: the service name)")
    .option(
      "--app-root <prefix>",
      "Discovery.AppRoot of the cluster (default: read from --cluster)",
    )
    .option("-c, --cluster <name>", "read Discovery.AppRoot from this cluster's configuration")
    .addOption(
      new Option("--server-options <keywords>", "HAProxy keywords of every added server")
        .default(DEFAULT_SERVER_OPTIONS),
    )
    .addOption(
      new Option("--resync <seconds>", "full re-read of the keys and the backend").default("10"),
    )
    .addOption(
      new Option(
        "--drain-timeout <seconds>",
        "longest drain of a removed instance before it is deleted anyway",
      ).default("60"),
    )
    .action(async (opts, cmd) => {
      const service = haproxyName("--service", opts.service);
      const backend = haproxyName("--backend", opts.backend ?? service);
      const options = serverOptions(opts.serverOptions);
      const resyncMs = seconds("--resync", opts.resync, 1) * 1000;
      const drainTimeoutMs = seconds("--drain-timeout", opts.drainTimeout, 0) * 1000;
      if (opts.appRoot === undefined && opts.cluster === undefined) {
        throw new ExitError(
          "Missing --app-root or --cluster: expected the Discovery.AppRoot of the cluster, " +
            "or the cluster to read it from",
          2,
        );
      }
      const lb = await import("../../lb/mod.ts");
      try {
        lb.parseSocketAddress(opts.socket);
      } catch (err) {
        throw new ExitError((err as Error).message, 2);
      }
      const store = await deps.openStore(storeOptionsOf(cmd));
      const controller = new AbortController();
      const stop = () => controller.abort();
      const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
      for (const s of signals) Deno.addSignalListener(s, stop);
      try {
        let appRoot = opts.appRoot;
        if (appRoot === undefined) {
          await store.requireCluster(opts.cluster!);
          appRoot = (await store.getConfig(opts.cluster!)).discovery.appRoot;
        }
        await lb.runHaproxyLb({
          kv: store.kv,
          socket: opts.socket,
          backend,
          appRoot,
          service,
          serverOptions: options,
          resyncMs,
          drainTimeoutMs,
          clock: systemClock,
          signal: controller.signal,
          say: (line) => deps.output.out(line),
        }).catch((err) => {
          if (err instanceof lb.HaproxyCommandError) {
            throw new ExitError(`${err.message} (is backend ${backend} in HAProxy's config?)`, 1);
          }
          throw err;
        });
      } finally {
        for (const s of signals) Deno.removeSignalListener(s, stop);
        await store.kv.close();
      }
    });
}

/**
 * The `lb` command: load balancers fed by discovery.
 *
 * @param deps Output and the store factory.
 * @returns The commander command.
 */
export function lbCommand(deps: CliDeps) {
  return new Command("lb")
    .description("feed a load balancer from Gru's discovery keys (docs/lb.md)")
    .addCommand(haproxyCommand(deps));
}

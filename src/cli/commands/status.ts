/**
 * `gru status [--cluster C] [--watch] [--interval S] [--json]`: the cluster at a glance: live
 * nodes with their health, resources and instances, services with their instances per node,
 * and each node's last decisions. `--json` prints one JSON document for scripts; `--watch`
 * redraws in place every `--interval` seconds until Ctrl-C.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { AgentClient, agentHttpClient } from "../../api/client.ts";
import { agentClientTls } from "../tls_options.ts";
import { type CliDeps, DEFAULT_STATE_FILE, ExitError, storeOptionsOf } from "../context.ts";
import { collectStatus, type StatusDeps } from "../status/collect.ts";
import { renderStatus } from "../status/render.ts";
import type { ClusterStore } from "../../cluster/cluster_store.ts";

/** ANSI: cursor home, then clear the screen. */
export const CLEAR_SCREEN = "\x1b[H\x1b[2J";
/** ANSI: hide the cursor. */
export const HIDE_CURSOR = "\x1b[?25l";
/** ANSI: show the cursor. */
export const SHOW_CURSOR = "\x1b[?25h";

/** Per-request timeout of `gru status`, so a dead node does not stall the view. */
export const STATUS_TIMEOUT_MS = 3000;

/** Options of `watchStatus`. */
export interface WatchOptions {
  /** Builds the text of one frame (errors are shown in place of the frame). */
  refresh: () => Promise<string>;
  /** Writes to the terminal. */
  write: (text: string) => void;
  intervalMs: number;
  /** Stops the loop (SIGINT). */
  signal: AbortSignal;
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Redraws `refresh()`'s text in place every `intervalMs` until `signal` aborts, hiding the
 * cursor meanwhile and showing it again at the end.
 *
 * @param o What to draw, where, how often, and until when.
 */
export async function watchStatus(o: WatchOptions): Promise<void> {
  o.write(HIDE_CURSOR);
  const aborted = untilAborted(o.signal);
  try {
    while (!o.signal.aborted) {
      const frame = await Promise.race([
        o.refresh().catch((err) => `Error: ${err instanceof Error ? err.message : String(err)}`),
        aborted.then(() => undefined),
      ]);
      if (frame === undefined || o.signal.aborted) break;
      o.write(CLEAR_SCREEN + frame);
      await sleep(o.intervalMs, o.signal);
    }
  } finally {
    o.write(SHOW_CURSOR);
  }
}

async function resolveCluster(
  deps: CliDeps,
  store: ClusterStore,
  given: string | undefined,
): Promise<string> {
  if (given) return given;
  const state = deps.env("GRU_STATE") ?? DEFAULT_STATE_FILE;
  const saved = await deps.readIdentity(state).catch(() => undefined);
  if (saved?.cluster) return saved.cluster;
  const clusters = await store.listClusters();
  if (clusters.length === 1 && clusters[0]) return clusters[0].name;
  const names = clusters.map((c) => c.name).join(", ") || "none";
  throw new ExitError(`Name the cluster with --cluster <name> (clusters: ${names})`, 2);
}

function parseInterval(raw: string): number {
  const s = Number(raw);
  if (!(Number.isFinite(s) && s >= 0.1)) {
    throw new ExitError(`Invalid --interval "${raw}": expected seconds >= 0.1`, 2);
  }
  return s;
}

/**
 * The `status` command.
 *
 * @param deps Output, store factory and environment.
 * @returns The commander command.
 *
 * @example Adding it to the tree
 * ```ts ignore
 * program.addCommand(statusCommand(deps));
 * ```
 */
export function statusCommand(deps: CliDeps) {
  return new Command("status")
    .description("show the cluster: nodes, services and last decisions (--watch to follow)")
    .option("-c, --cluster <name>", "cluster (default: this node's, or the only one)")
    .option("-w, --watch", "redraw in place until Ctrl-C")
    .addOption(new Option("--interval <seconds>", "refresh interval of --watch").default("2"))
    .option("--json", "print one JSON document and exit")
    .action(async (opts, cmd) => {
      const intervalS = parseInterval(opts.interval);
      if (opts.json && opts.watch) throw new ExitError("--json and --watch do not mix", 2);
      const tls = await agentClientTls(cmd);
      const http = tls.tls ? agentHttpClient(tls.tls) : undefined;
      const store = await deps.openStore(storeOptionsOf(cmd));
      try {
        const cluster = await resolveCluster(deps, store, opts.cluster);
        const clients = new Map<string, AgentClient>();
        const statusDeps: StatusDeps = {
          store,
          agents: (token) => {
            const key = token ?? "";
            let client = clients.get(key);
            if (!client) {
              clients.set(
                key,
                client = new AgentClient({
                  token,
                  timeoutMs: STATUS_TIMEOUT_MS,
                  httpClient: http,
                  requireTls: tls.requireTls,
                }),
              );
            }
            return client;
          },
        };
        if (opts.json) {
          deps.output.out(JSON.stringify(await collectStatus(statusDeps, cluster), null, 2));
          return;
        }
        if (!opts.watch) {
          deps.output.out(renderStatus(await collectStatus(statusDeps, cluster)));
          return;
        }
        await store.requireCluster(cluster);
        const controller = new AbortController();
        const stop = () => controller.abort();
        const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
        for (const s of signals) Deno.addSignalListener(s, stop);
        try {
          await watchStatus({
            refresh: async () =>
              renderStatus(await collectStatus(statusDeps, cluster), {
                footer: `Every ${intervalS}s, Ctrl-C to quit`,
              }),
            write: (text) => deps.output.out(text),
            intervalMs: intervalS * 1000,
            signal: controller.signal,
          });
        } finally {
          for (const s of signals) Deno.removeSignalListener(s, stop);
        }
      } finally {
        await store.kv.close();
        http?.close();
      }
    });
}

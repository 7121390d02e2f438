/**
 * Renders a status snapshot for the terminal: a header, the NODES and SERVICES tables, and each
 * node's last decisions. Pure: same snapshot, same text.
 *
 * @module
 */

import { formatBytes, formatTable } from "../repl/table.ts";
import type { NodeStatus, StatusSnapshot } from "./collect.ts";

/** Options of `renderStatus`. */
export interface RenderOptions {
  /** Longest "why" of a decision before it is cut with `…`. @default 60 */
  whyWidth?: number;
  /** Extra header line (e.g. the watch hint). */
  footer?: string | undefined;
}

/** Cuts `text` to `width` characters, ending with `…` when cut. */
export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= width) return flat;
  return width <= 1 ? "…" : `${flat.slice(0, width - 1)}…`;
}

/** `HH:MM:SS` (UTC) of a time in milliseconds since the epoch. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function usedCores(n: NodeStatus): number {
  const cores = new Set<number>();
  for (const i of n.instances) {
    if (i.status === "running" || i.status === "pending") { for (const c of i.cpus) cores.add(c); }
  }
  return cores.size;
}

function usedMemory(n: NodeStatus): number {
  return n.instances
    .filter((i) => i.status === "running" || i.status === "pending")
    .reduce((sum, i) => sum + (i.memory || 0), 0);
}

function instancesCell(n: NodeStatus): string {
  const running = n.instances.filter((i) => i.status === "running").length;
  return running === n.instances.length ? String(running) : `${running}/${n.instances.length}`;
}

/**
 * The terminal view of a snapshot.
 *
 * @param snap The snapshot.
 * @param options Widths and an optional footer.
 * @returns The text, lines joined with `\n`, no trailing line feed.
 *
 * @example Printing once
 * ```ts ignore
 * deps.output.out(renderStatus(await collectStatus(statusDeps, "c1")));
 * ```
 */
export function renderStatus(snap: StatusSnapshot, options: RenderOptions = {}): string {
  const whyWidth = options.whyWidth ?? 60;
  const time = snap.time.replace("T", " ").replace(/\.\d+Z$/, "Z");
  const nodeWord = snap.nodes.length === 1 ? "node" : "nodes";
  const out: string[] = [
    `Cluster ${snap.cluster}: ${snap.nodes.length} ${nodeWord}, ${snap.services.length} ` +
    `service${snap.services.length === 1 ? "" : "s"}  (${time})`,
  ];
  if (options.footer) out.push(options.footer);

  out.push("", "NODES");
  if (snap.nodes.length === 0) {
    out.push("No live nodes: start agents with `gru agent`");
  } else {
    out.push(formatTable(
      ["NAME", "ADDRESS", "ACTIVE", "HEALTH", "CORES", "MEMORY", "INSTANCES"],
      snap.nodes.map((n) => {
        const reached = n.health !== "unreachable";
        return [
          n.name,
          n.address,
          n.active ? "yes" : "no",
          n.health,
          reached ? `${usedCores(n)}/${n.resources.totalCpus}` : String(n.resources.totalCpus),
          reached
            ? `${formatBytes(usedMemory(n))}/${formatBytes(n.resources.totalMemory)}`
            : formatBytes(n.resources.totalMemory),
          reached ? instancesCell(n) : "?",
        ];
      }),
    ));
    const notes = snap.nodes.flatMap((n) => [
      ...(n.error ? [`  ${n.name}: ${n.error}`] : []),
      ...(n.problems ?? []).map((p) => `  ${n.name}: ${p}`),
    ]);
    if (notes.length > 0) out.push(...notes);
  }

  for (const r of snap.refused ?? []) out.push(`Refused document ${r.key}: ${r.error}`);
  out.push("", "SERVICES");
  if (snap.services.length === 0) {
    out.push("No services: import some with `gru config import`");
  } else {
    const names = snap.nodes.map((n) => n.name);
    out.push(formatTable(
      ["NAME", "IMAGE", "INSTANCES", ...names.map((n) => n.toUpperCase())],
      snap.services.map((s) => [
        s.name,
        s.image || "?",
        String(s.instances.total),
        ...names.map((n) => String(s.instances.byNode[n] ?? 0)),
      ]),
    ));
  }

  for (const n of snap.nodes) {
    out.push("", `DECISIONS ${n.name}`);
    if (n.health === "unreachable") {
      out.push("unreachable");
    } else if (n.decisions.length === 0) {
      out.push("none yet");
    } else {
      out.push(formatTable(
        ["TIME", "POLICY", "TARGETS", "OUTCOME", "WHY"],
        [...n.decisions].reverse().map((d) => [
          clockTime(d.time),
          d.policy || "-",
          d.targets.length === 0 ? "-" : d.targets.join(","),
          d.outcome,
          truncate(d.why, whyWidth),
        ]),
      ));
    }
  }
  return out.join("\n");
}

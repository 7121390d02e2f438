/**
 * Plain-text tables and value formatting for the REPL's output.
 *
 * @module
 */

/**
 * Formats rows under headers, each column padded to its widest cell and columns separated by two
 * spaces. Lines carry no trailing spaces.
 *
 * @param headers Column titles.
 * @param rows Cells, one array per row (missing cells print empty).
 * @returns The table, lines joined with `\n`.
 *
 * @example Two columns
 * ```ts
 * import { formatTable } from "./table.ts";
 * formatTable(["NAME", "UUID"], [["c1", "abc"]]); // "NAME  UUID\nc1    abc"
 * ```
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    headers.map((_, i) => (cells[i] ?? "").padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/**
 * A byte count in binary units with one decimal (`512 B`, `1.5 KiB`, `7.8 GiB`).
 *
 * @param bytes A non-negative number of bytes.
 * @returns The human-readable size.
 *
 * @example Gibibytes
 * ```ts
 * import { formatBytes } from "./table.ts";
 * formatBytes(8 * 1024 ** 3); // "8.0 GiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A list of names for a table cell: comma-separated, or `-` when empty.
 *
 * @param names The names.
 * @returns The cell text.
 *
 * @example Empty and non-empty lists
 * ```ts
 * import { formatList } from "./table.ts";
 * formatList([]); // "-"
 * formatList(["web", "db"]); // "web,db"
 * ```
 */
export function formatList(names: readonly string[]): string {
  return names.length === 0 ? "-" : names.join(",");
}

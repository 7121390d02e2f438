/**
 * The REPL loop of `gru manage`, over `node:readline`.
 *
 * Interactive (a TTY): banner, prompt `gru(<cluster>)> `, tab completion, history loaded from and
 * appended to a file; a failing line prints `Error: …` and the session goes on. Piped: reads
 * line by line without prompts, stops at EOF, and stops at the first failing line (its number
 * and text are in the summary, so `gru manage` can exit 1, or 2 for a usage error). Lines run
 * one at a time, in order. Too-short commands crashed the original, which also spun on EOF
 * (docs/compat.md#d7).
 *
 * @module
 */

import { createInterface, type Interface } from "node:readline";
import type { ClusterStore } from "../../cluster/cluster_store.ts";
import type { Output } from "../context.ts";
import { runLine } from "./commands.ts";
import { complete, refreshNames } from "./completer.ts";
import { newSession, type ReplAgent, type ReplDeps } from "./session.ts";

/** History lines kept. */
export const HISTORY_SIZE = 1000;

/** Options of `runRepl`. */
export interface RunReplOptions {
  /** Where lines come from (`process.stdin`, or a stream in tests). */
  input: NodeJS.ReadableStream;
  /** Where the prompt and the line editor draw, when `terminal` (e.g. `process.stdout`). */
  terminalOutput?: NodeJS.WritableStream | undefined;
  /** Command output and errors. */
  output: Output;
  /** The cluster store. */
  store: ClusterStore;
  /** Agent client factory (by cluster token). */
  agents: (token?: string) => ReplAgent;
  /** Cluster to use at start; must exist. */
  cluster?: string | undefined;
  /** History file: loaded at start, each non-empty line appended. None: no history. */
  historyFile?: string | undefined;
  /** Interactive mode: prompt, banner, line editing and completion. */
  terminal: boolean;
  /** Stop at the first failing line (a script). @default !terminal */
  stopOnError?: boolean | undefined;
}

/** The line a stopped run failed at. */
export interface ReplFailure {
  /** 1-based line number. */
  line: number;
  /** The line as read. */
  text: string;
  /** A usage error (malformed line, unknown command, bad value) rather than a failure. */
  usage: boolean;
}

/** What a REPL run did. */
export interface ReplSummary {
  /** Lines read (including blank ones). */
  lines: number;
  /** Lines that failed with an error. */
  errors: number;
  /** Set when the run stopped at a failing line (`stopOnError`). */
  failed?: ReplFailure;
}

/**
 * The prompt for a cluster.
 *
 * @param cluster The current cluster, if any.
 * @returns `gru(<cluster>)> `, or `gru> ` without a cluster.
 *
 * @example With a cluster
 * ```ts
 * import { promptFor } from "./repl.ts";
 * promptFor("c1"); // "gru(c1)> "
 * ```
 */
export function promptFor(cluster: string | undefined): string {
  return cluster === undefined ? "gru> " : `gru(${cluster})> `;
}

/**
 * Reads a history file: its non-empty lines, newest first, at most `HISTORY_SIZE`. A missing
 * or unreadable file gives `[]`.
 *
 * @param file The history file.
 * @returns The history, newest first (the order `node:readline` wants).
 *
 * @example Loading history
 * ```ts ignore
 * const history = await loadHistory(`${home}/.gru_manager_history`);
 * ```
 */
export async function loadHistory(file: string): Promise<string[]> {
  try {
    const lines = (await Deno.readTextFile(file)).split("\n").filter((l) => l.trim() !== "");
    return lines.slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

async function appendHistory(file: string, line: string): Promise<void> {
  try {
    await Deno.writeTextFile(file, `${line}\n`, { append: true });
  } catch {
    // history is best effort
  }
}

/** Lines from readline, consumed one at a time. */
function lineQueue(rl: Interface) {
  const lines: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  rl.on("line", (line: string) => {
    lines.push(line);
    wake?.();
  });
  rl.on("close", () => {
    closed = true;
    wake?.();
  });
  return {
    /** The next line, or `undefined` at EOF. */
    async next(): Promise<string | undefined> {
      while (lines.length === 0 && !closed) {
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
      return lines.shift();
    },
  };
}

/**
 * Runs the REPL until EOF or `exit`.
 *
 * @param options Input, output, store, agents, starting cluster, history, mode.
 * @returns How many lines were read and how many failed.
 * @throws {NotFoundError} `options.cluster` does not exist (checked before reading anything).
 *
 * @example Running commands from a stream
 * ```ts ignore
 * await runRepl({ input: process.stdin, output, store, agents, terminal: false });
 * ```
 */
export async function runRepl(options: RunReplOptions): Promise<ReplSummary> {
  const { output, store, terminal, historyFile } = options;
  const stopOnError = options.stopOnError ?? !terminal;
  const deps: ReplDeps = { store, agents: options.agents, output };
  if (options.cluster !== undefined) await store.requireCluster(options.cluster);
  const session = newSession(options.cluster);
  const rl = terminal
    ? createInterface({
      input: options.input,
      output: options.terminalOutput,
      terminal: true,
      prompt: promptFor(session.cluster),
      completer: (line: string) => complete(line, session.names),
      history: historyFile === undefined ? [] : await loadHistory(historyFile),
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
    })
    : createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
  const queue = lineQueue(rl);
  if (terminal) {
    rl.on("SIGINT", () => {
      if (rl.line === "") {
        rl.close();
        return;
      }
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    });
    output.out('Gru manager: type "help" for the commands, "exit" or Ctrl-D to leave');
    await refreshNames(session, deps);
  }
  const summary: ReplSummary = { lines: 0, errors: 0 };
  try {
    if (terminal) rl.prompt();
    for (let line = await queue.next(); line !== undefined; line = await queue.next()) {
      summary.lines++;
      if (historyFile !== undefined && line.trim() !== "") await appendHistory(historyFile, line);
      const outcome = await runLine(line, session, deps);
      if (outcome !== "ok") {
        summary.errors++;
        if (stopOnError) {
          summary.failed = { line: summary.lines, text: line, usage: outcome === "usage" };
          break;
        }
      }
      if (session.exit) break;
      if (terminal) {
        rl.setPrompt(promptFor(session.cluster));
        rl.prompt();
      }
    }
  } finally {
    rl.close();
  }
  // Leave the terminal on a fresh line after Ctrl-D / Ctrl-C (`exit` already ended one).
  if (terminal && !session.exit) options.terminalOutput?.write("\n");
  return summary;
}

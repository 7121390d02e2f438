/**
 * Logging setup (LogTape): structured records to stderr, one line each, with the level chosen
 * by `--log-level`. Only the composition root configures logging.
 *
 * @module
 */

import { configure, getStreamSink, type LogLevel, reset } from "@logtape/logtape";

/** Configures (or reconfigures) logging at `level`. */
export async function configureLogging(level: string): Promise<void> {
  const lowest = (level === "warn" ? "warning" : level) as LogLevel;
  await reset();
  await configure({
    reset: true,
    sinks: { stderr: getStreamSink(Deno.stderr.writable) },
    loggers: [
      { category: ["gru"], lowestLevel: lowest, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

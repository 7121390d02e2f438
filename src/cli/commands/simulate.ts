/**
 * `gru simulate [--trace step|ramp|diurnal|spike|paper|FILE.csv|FILE.json]
 * [--strategies probdelta,target,hpa,…] [--seed N] [--json] [--plot FILE.svg]`: replays a load
 * trace through Gru's real planner, guards and coordination against a small service model and
 * prints, per strategy, the instance-seconds, SLO-violation seconds, actions and most instances
 * (see src/sim/). This file is the shell: it reads the trace file and writes the chart; the
 * simulator is imported when the command runs, so no other command loads it.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { type CliDeps, ExitError } from "../context.ts";
import { excerpt } from "../../domain/excerpt.ts";
import type { SimSettings } from "../../sim/mod.ts";

/** Built-in trace names (kept here so `--help` needs no simulator). */
const TRACES = "step, ramp, diurnal, spike, paper";

function whole(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > 1_000_000) {
    throw new ExitError(
      `Invalid ${flag} ${excerpt(raw, 20)}: expected a whole number from ${min} to 1000000`,
      2,
    );
  }
  return n;
}

function positive(flag: string, raw: string, max = 1e6): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new ExitError(
      `Invalid ${flag} ${excerpt(raw, 20)}: expected a number above 0 and at most ${max}`,
      2,
    );
  }
  return n;
}

async function readTrace(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new ExitError(
      `Cannot read --trace ${excerpt(path)}: ${why}; expected one of ${TRACES}, ` +
        `a .csv file (seconds,rps) or a .json file of decision records`,
      2,
    );
  }
}

/**
 * The `simulate` command.
 *
 * @param deps Output (the simulator needs nothing else).
 * @returns The commander command.
 */
export function simulateCommand(deps: CliDeps) {
  return new Command("simulate")
    .description(
      "replay a load trace through Gru's planner, guards and coordination and compare strategies",
    )
    .addOption(
      new Option("--trace <trace>", `${TRACES}, FILE.csv (seconds,rps) or FILE.json (decisions)`)
        .default("paper"),
    )
    .option("--strategies <list>", "comma-separated strategies (default: probdelta,target,hpa)")
    .addOption(new Option("--seed <n>", "seed of every random stream").default("1"))
    .option("--json", "print one JSON object per strategy instead of the table")
    .option("--plot <file.svg>", "write an SVG chart of load and instances per strategy")
    .option("--nodes <n>", "simulated nodes (default 1)")
    .option("--cores <n>", "cores per node, one instance each (default 16)")
    .option("--startup <s>", "seconds from container start to serving (default 10)")
    .option("--capacity <n>", "requests an instance serves at once (default 1)")
    .option("--service-time <s>", "mean of the exponential service time (default 5)")
    .option("--max-response-time <s>", "MAX_RESP_TIME of the SLO (default 15)")
    .option("--target <u>", "target utilization of hpa and target (default 0.6)")
    .option("--service <name>", "service to follow in a decisions .json trace (default: first)")
    .action(async (opts) => {
      const sim = await import("../../sim/mod.ts");
      const seed = whole("--seed", opts.seed, 0);
      const strategies = opts.strategies === undefined
        ? sim.defaultStrategies()
        : opts.strategies.split(",").map((s) => s.trim()).filter((s) => s !== "");
      const known = sim.knownStrategies();
      const unknown = strategies.find((s) => !known.includes(s));
      if (unknown !== undefined || strategies.length === 0) {
        throw new ExitError(
          `Invalid --strategies ${excerpt(opts.strategies ?? "")}: ` +
            (unknown === undefined ? "no strategy" : `unknown strategy ${excerpt(unknown)}`) +
            `; expected a comma-separated list of ${known.join(", ")}`,
          2,
        );
      }
      const settings: Partial<SimSettings> = {};
      if (opts.nodes !== undefined) settings.nodes = whole("--nodes", opts.nodes, 1);
      if (opts.cores !== undefined) settings.coresPerNode = whole("--cores", opts.cores, 1);
      if (opts.startup !== undefined) settings.startup = whole("--startup", opts.startup, 0);
      if (opts.capacity !== undefined) settings.capacity = whole("--capacity", opts.capacity, 1);
      if (opts.serviceTime !== undefined) {
        settings.serviceTime = positive("--service-time", opts.serviceTime);
      }
      if (opts.maxResponseTime !== undefined) {
        settings.maxResponseTime = positive("--max-response-time", opts.maxResponseTime);
      }
      if (opts.target !== undefined) {
        settings.targetUtilization = positive("--target", opts.target, 1);
      }
      const kind = sim.traceKind(opts.trace);
      const text = kind === "builtin" ? undefined : await readTrace(opts.trace);
      let out;
      try {
        out = sim.runSimulate({
          trace: opts.trace,
          text,
          strategies,
          seed,
          settings,
          service: opts.service,
          json: opts.json === true,
          plot: opts.plot !== undefined,
        });
      } catch (err) {
        if (err instanceof sim.TraceError || err instanceof RangeError) {
          throw new ExitError(err.message, 2);
        }
        throw err;
      }
      if (opts.plot !== undefined && out.svg !== undefined) {
        try {
          await Deno.writeTextFile(opts.plot, out.svg);
        } catch (err) {
          throw new ExitError(
            `Cannot write --plot ${excerpt(opts.plot)}: ${(err as Error).message}`,
          );
        }
        deps.output.err(`Wrote ${opts.plot}`);
      }
      deps.output.out(out.text);
    });
}

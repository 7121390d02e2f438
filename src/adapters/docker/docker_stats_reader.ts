/**
 * `UsageReader` over Docker's streamed stats API: works wherever the engine is reachable (also
 * over TCP), at the price of one open HTTP stream per container and a sample about once a
 * second. The first `read` of a container opens its stream and waits briefly (≤ 50 ms by
 * default) for the first sample; later reads return the latest sample at once. Use the
 * runtime's `streamDocker` client (no idle timeout): the engine sends samples every second,
 * but a client idle timeout would still cut a stream during an engine hiccup.
 *
 * Figures: CPU is `cpu_stats.cpu_usage.total_usage` (ns); memory is `memory_stats.usage`
 * minus `memory_stats.stats.cache` when present (cgroup v1), as `docker stats` shows it. A
 * stopped container's samples (zero `read` time) and a removed container give no figures.
 * `at` is when the sample arrived here (the agent's clock, not the engine's).
 *
 * @module
 */

import type Docker from "dockerode";
import type { Readable } from "node:stream";
import type { UsageReader, UsageSample, UsageTarget } from "../../ports/usage_reader.ts";
import { JsonObjectSplitter } from "./docker_streams.ts";

/** Options of `DockerStatsUsageReader`. */
export interface DockerStatsReaderOptions {
  /** How long the first `read` of a container waits for its first sample. @default 50 */
  firstSampleWaitMs?: number;
}

interface Entry {
  stream: Readable | undefined;
  sample: UsageSample | undefined;
  /** Settles on the first sample, or when the stream fails or ends. */
  first: Promise<void>;
  signalFirst: () => void;
  closed: boolean;
}

interface StatsMessage {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: { cache?: number } };
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Maps one stats message to figures (undefined for a stopped container's empty sample). */
export function statsToSample(raw: unknown, at: number): UsageSample | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const m = raw as StatsMessage;
  if (typeof m.read === "string" && m.read.startsWith(ZERO_TIME.slice(0, 10))) return undefined;
  const cpu = m.cpu_stats?.cpu_usage?.total_usage;
  const usage = m.memory_stats?.usage;
  const cache = m.memory_stats?.stats?.cache;
  const cpuNs = typeof cpu === "number" && Number.isFinite(cpu) && cpu > 0 ? cpu : undefined;
  const memoryBytes = typeof usage === "number" && Number.isFinite(usage) && usage > 0
    ? Math.max(0, usage - (typeof cache === "number" && cache > 0 ? cache : 0))
    : undefined;
  if (cpuNs === undefined && memoryBytes === undefined) return undefined;
  return { cpuNs, memoryBytes, at };
}

/** The streamed-stats reader. */
export class DockerStatsUsageReader implements UsageReader {
  readonly kind = "docker-stats";
  readonly #docker: Docker;
  readonly #waitMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Stream openings in flight (awaited by `close`). */
  readonly #opening = new Set<Promise<void>>();
  #closed = false;

  /** @param docker A dockerode client, preferably `DockerRuntime.streamDocker`. */
  constructor(docker: Docker, options: DockerStatsReaderOptions = {}) {
    this.#docker = docker;
    this.#waitMs = options.firstSampleWaitMs ?? 50;
  }

  /** The latest sample of the container (opening its stream on first use). */
  async read(target: UsageTarget): Promise<UsageSample> {
    if (this.#closed) return { at: Date.now() };
    let entry = this.#entries.get(target.id);
    if (!entry) {
      entry = this.#open(target.id);
      await waitAtMost(entry.first, this.#waitMs);
    }
    return entry.sample ? { ...entry.sample } : { at: Date.now() };
  }

  /** Closes the container's stream and drops its sample. */
  forget(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#shut(entry);
  }

  /** Closes every stream; later reads return empty samples. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [id, entry] of this.#entries) {
      this.#entries.delete(id);
      this.#shut(entry);
    }
    await Promise.allSettled([...this.#opening]);
  }

  #shut(entry: Entry): void {
    entry.closed = true;
    entry.sample = undefined;
    entry.stream?.destroy();
    entry.stream = undefined;
    entry.signalFirst();
  }

  #open(id: string): Entry {
    let signalFirst = () => {};
    const first = new Promise<void>((r) => signalFirst = r);
    const entry: Entry = {
      stream: undefined,
      sample: undefined,
      first,
      signalFirst,
      closed: false,
    };
    this.#entries.set(id, entry);
    const drop = () => {
      if (this.#entries.get(id) === entry) this.#entries.delete(id);
      this.#shut(entry);
    };
    const opening = (async () => {
      let stream: Readable;
      try {
        stream = await this.#docker.getContainer(id).stats({ stream: true }) as unknown as Readable;
      } catch {
        drop(); // no such container, or the engine is down: the next read tries again
        return;
      }
      if (entry.closed) {
        stream.on("error", () => {});
        stream.destroy();
        return;
      }
      entry.stream = stream;
      const json = new JsonObjectSplitter();
      stream.on("data", (chunk: Uint8Array) => {
        if (entry.closed) return;
        for (const raw of json.push(chunk)) {
          entry.sample = statsToSample(raw, Date.now());
          if (entry.sample) entry.signalFirst();
        }
      });
      stream.on("error", drop);
      stream.on("end", drop);
      stream.on("close", drop);
    })();
    this.#opening.add(opening);
    opening.finally(() => this.#opening.delete(opening));
    return entry;
  }
}

/** Waits for `p` or `ms`, whichever first, leaving no timer behind. */
async function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise<void>((r) => timer = setTimeout(r, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

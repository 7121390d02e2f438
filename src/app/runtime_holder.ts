/**
 * A container runtime and a usage reader that can be swapped while the agent runs: the
 * composition root hands these holders to the agent and swaps what they hold when
 * `update agent` changes `Docker.DaemonUrl`, `DaemonTimeout` or `TLS`. Calls go to the engine
 * held at call time; the event and log streams open on the old engine end at the swap, so the
 * monitor reconnects (and resyncs) to the new one.
 *
 * @module
 */

import type {
  ContainerDetails,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  RuntimeEvent,
} from "../ports/container_runtime.ts";
import type { UsageReader, UsageSample, UsageTarget } from "../ports/usage_reader.ts";

/** A {@linkcode ContainerRuntime} that forwards to the one it holds now. */
export class RuntimeHolder implements ContainerRuntime {
  #current: ContainerRuntime;
  #streams = new Set<AbortController>();
  #swaps = 0;

  constructor(initial: ContainerRuntime) {
    this.#current = initial;
  }

  /** The runtime held now. */
  get current(): ContainerRuntime {
    return this.#current;
  }

  /** How many times the runtime was swapped. */
  get swaps(): number {
    return this.#swaps;
  }

  /**
   * Holds `next` from now on: ends the streams open on the old runtime, then closes it.
   *
   * @returns Once the old runtime is closed.
   */
  async swap(next: ContainerRuntime): Promise<void> {
    const old = this.#current;
    if (old === next) return;
    this.#current = next;
    this.#swaps++;
    for (const c of this.#streams) c.abort(new Error("Docker engine changed"));
    this.#streams.clear();
    await old.close();
  }

  info(): Promise<EngineInfo> {
    return this.#current.info();
  }
  list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.#current.list(labels);
  }
  listAll(): Promise<ContainerSummary[]> {
    return this.#current.listAll();
  }
  inspect(id: string): Promise<ContainerDetails> {
    return this.#current.inspect(id);
  }
  create(spec: ContainerSpec): Promise<string> {
    return this.#current.create(spec);
  }
  start(id: string): Promise<void> {
    return this.#current.start(id);
  }
  stop(id: string, timeoutSeconds: number): Promise<void> {
    return this.#current.stop(id, timeoutSeconds);
  }
  remove(id: string): Promise<void> {
    return this.#current.remove(id);
  }
  unpause(id: string): Promise<void> {
    return this.#current.unpause(id);
  }
  hasImage(image: string): Promise<boolean> {
    return this.#current.hasImage(image);
  }

  events(
    labels: Record<string, string>,
    onEvent: (event: RuntimeEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return this.#stream(signal, (s) => this.#current.events(labels, onEvent, s));
  }

  followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    return this.#stream(signal, (s) => this.#current.followLogs(id, onLine, s));
  }

  /** Runs a stream on the runtime held now, ended by the caller's signal or by a swap. */
  async #stream(signal: AbortSignal, open: (s: AbortSignal) => Promise<void>): Promise<void> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    this.#streams.add(ctl);
    try {
      await open(ctl.signal);
    } finally {
      this.#streams.delete(ctl);
      signal.removeEventListener("abort", onAbort);
    }
  }

  close(): Promise<void> {
    for (const c of this.#streams) c.abort(new Error("closed"));
    this.#streams.clear();
    return this.#current.close();
  }
}

/** A {@linkcode UsageReader} that forwards to the one it holds now (it follows the engine). */
export class UsageHolder implements UsageReader {
  #current: UsageReader;

  constructor(initial: UsageReader) {
    this.#current = initial;
  }

  get kind(): string {
    return this.#current.kind;
  }

  /** Holds `next` from now on and closes the old reader. */
  async swap(next: UsageReader): Promise<void> {
    const old = this.#current;
    if (old === next) return;
    this.#current = next;
    await old.close();
  }

  read(target: UsageTarget): Promise<UsageSample> {
    return this.#current.read(target);
  }
  forget(id: string): void {
    this.#current.forget(id);
  }
  close(): Promise<void> {
    return this.#current.close();
  }
}

/**
 * `UsageReader` over the kernel's cgroup files: microseconds per read, against a second or
 * more for Docker's non-streamed stats API. Works when the agent runs beside the engine with
 * the host's `/proc` and `/sys/fs/cgroup` (same cgroup namespace).
 *
 * - cgroup v1 (and hybrid hosts, where a cgroup2 mount also sits at `/sys/fs/cgroup/unified`
 *   but the controllers live in v1): CPU from `cpuacct.usage` (ns) under the container's
 *   `cpuacct` cgroup, memory from `memory.usage_in_bytes` under its `memory` cgroup. That figure
 *   includes the page cache (nothing is subtracted), so it reads higher than `docker stats`,
 *   which subtracts the cache.
 * - cgroup v2 (pure: `/sys/fs/cgroup/cgroup.controllers` exists): CPU from `usage_usec` of
 *   `cpu.stat` (×1000), memory from `memory.current` (also including the page cache).
 *
 * The container's cgroup is found from `/proc/<pid>/cgroup` (whatever the cgroup driver or
 * parent), checked to contain the container id (a stale or foreign pid is not trusted), with
 * the usual Docker locations as fallbacks when the pid is 0 or gone: `docker/<id>` (cgroupfs
 * driver) and `system.slice/docker-<id>.scope` (systemd driver). Resolved files are cached per
 * container until `forget`.
 *
 * @module
 */

import type { UsageReader, UsageSample, UsageTarget } from "../../ports/usage_reader.ts";

/** Options of `CgroupUsageReader.detect` (the defaults are the real host's). */
export interface CgroupDetectOptions {
  /** procfs mount. @default "/proc" */
  proc?: string;
  /** cgroup filesystem root. @default "/sys/fs/cgroup" */
  root?: string;
  /**
   * A running container to read once: detection fails if its CPU time cannot be read (for
   * example when the agent runs in a container with a private cgroup namespace and sees only
   * its own subtree, which the other checks cannot tell from a host).
   */
  probe?: UsageTarget;
}

/** What `detectWithReason` found: a reader, or why there is none. */
export type CgroupDetection =
  | {
    reader: CgroupUsageReader;
    reason?: undefined;
    /** Whether `/proc/self/cgroup` could be read (containers found from their pid). */
    procReadable: boolean;
  }
  | { reader?: undefined; reason: string };

/** Where a cgroup version keeps the figures. */
type Layout =
  | { kind: "cgroup-v1"; cpuDir: string; memoryDir: string | undefined }
  | { kind: "cgroup-v2"; root: string };

/** The files of one container. */
interface Files {
  cpu: string;
  memory: string | undefined;
}

/** One line of `/proc/<pid>/cgroup`. */
interface CgroupLine {
  controllers: string[];
  path: string;
}

/** The cgroup-file reader. Create it with `detect()`. */
export class CgroupUsageReader implements UsageReader {
  /** `cgroup-v1` or `cgroup-v2`. */
  readonly kind: "cgroup-v1" | "cgroup-v2";
  readonly #layout: Layout;
  readonly #proc: string;
  readonly #cache = new Map<string, Files>();

  private constructor(layout: Layout, proc: string) {
    this.#layout = layout;
    this.kind = layout.kind;
    this.#proc = proc;
  }

  /**
   * A reader for this host, or `undefined` when the cgroup files are not usable here (see
   * {@linkcode CgroupUsageReader.detectWithReason}, which also says why).
   */
  static async detect(options: CgroupDetectOptions = {}): Promise<CgroupUsageReader | undefined> {
    return (await CgroupUsageReader.detectWithReason(options)).reader;
  }

  /**
   * A reader for this host, or why the cgroup files are not usable here: no readable cgroup
   * filesystem with a CPU accounting controller (Deno refuses reads under `/sys` and `/proc`
   * without `--allow-all`, whatever `--allow-read` says: a bind mount of them elsewhere is
   * readable), or our own cgroup (from `/proc/self/cgroup`) does not resolve under it (another
   * cgroup namespace, a partial mount), or the `probe` container cannot be read. An unreadable
   * `proc` only skips the checks that need it: containers are then found at Docker's usual
   * cgroup paths.
   */
  static async detectWithReason(options: CgroupDetectOptions = {}): Promise<CgroupDetection> {
    const proc = options.proc ?? "/proc";
    const root = options.root ?? "/sys/fs/cgroup";
    const layout = await detectLayout(root);
    if (typeof layout === "string") return { reason: layout };
    const self = await readCgroupLines(`${proc}/self/cgroup`);
    if (self) {
      const own = cgroupPath(layout, self);
      const base = layout.kind === "cgroup-v2" ? layout.root : layout.cpuDir;
      if (
        own === undefined || own.startsWith("/..") || !await exists(`${base}${trimSlash(own)}`)
      ) {
        return {
          reason: `this process's own cgroup (${proc}/self/cgroup) is not under ${base} ` +
            "(another cgroup namespace or a partial mount)",
        };
      }
    }
    const [mine, init] = await Promise.all([
      Deno.readLink(`${proc}/self/ns/cgroup`).catch(() => undefined),
      Deno.readLink(`${proc}/1/ns/cgroup`).catch(() => undefined),
    ]);
    if (mine !== undefined && init !== undefined && mine !== init) {
      return { reason: "this process runs in another cgroup namespace than the host's" };
    }
    const reader = new CgroupUsageReader(layout, proc);
    if (options.probe) {
      const s = await reader.read(options.probe);
      reader.forget(options.probe.id);
      if (s.cpuNs === undefined) {
        return { reason: `the CPU time of container ${options.probe.id} cannot be read` };
      }
    }
    return { reader, procReadable: self !== undefined };
  }

  /** Reads the container's figures; `{ at }` alone when it has no cgroup (any more). */
  async read(target: UsageTarget): Promise<UsageSample> {
    const cached = this.#cache.get(target.id);
    if (cached) {
      const s = await this.#readFiles(cached);
      if (s) return s;
      this.#cache.delete(target.id);
    }
    for (const files of await this.#candidates(target)) {
      const s = await this.#readFiles(files);
      if (s) {
        this.#cache.set(target.id, files);
        return s;
      }
    }
    return { at: Date.now() };
  }

  /** Drops the cached paths of a container. */
  forget(id: string): void {
    this.#cache.delete(id);
  }

  /** Nothing to release but the cache. */
  close(): Promise<void> {
    this.#cache.clear();
    return Promise.resolve();
  }

  /** The sample from `files`, or undefined when the CPU file is gone or unreadable. */
  async #readFiles(files: Files): Promise<UsageSample | undefined> {
    const [cpuText, memText] = await Promise.all([
      readText(files.cpu),
      files.memory === undefined ? Promise.resolve(undefined) : readText(files.memory),
    ]);
    const at = Date.now();
    if (cpuText === undefined) return undefined;
    const cpuNs = this.#layout.kind === "cgroup-v1"
      ? parseCount(cpuText)
      : scale(parseCount(statField(cpuText, "usage_usec")), 1000);
    if (cpuNs === undefined) return undefined;
    return { cpuNs, memoryBytes: memText === undefined ? undefined : parseCount(memText), at };
  }

  /** Files to try, best first: from the process's cgroup, then Docker's usual places. */
  async #candidates({ id, pid }: UsageTarget): Promise<Files[]> {
    const out: Files[] = [];
    if (!id || id.includes("/") || id.includes("..")) return out;
    if (pid > 0) {
      const lines = await readCgroupLines(`${this.#proc}/${pid}/cgroup`);
      if (lines) {
        const files = this.#fromLines(lines, id);
        if (files) out.push(files);
      }
    }
    for (const rel of [`/docker/${id}`, `/system.slice/docker-${id}.scope`]) {
      out.push(this.#filesAt(rel, rel));
    }
    return out;
  }

  #fromLines(lines: CgroupLine[], id: string): Files | undefined {
    const trusted = (p: string | undefined) =>
      p !== undefined && p.includes(id) && !p.startsWith("/..") ? p : undefined;
    const cpu = trusted(cgroupPath(this.#layout, lines));
    if (cpu === undefined) return undefined;
    const memory = this.#layout.kind === "cgroup-v1"
      ? trusted(lines.find((l) => l.controllers.includes("memory"))?.path)
      : cpu;
    return this.#filesAt(cpu, memory);
  }

  #filesAt(cpuPath: string, memoryPath: string | undefined): Files {
    const l = this.#layout;
    if (l.kind === "cgroup-v2") {
      const dir = `${l.root}${trimSlash(cpuPath)}`;
      return { cpu: `${dir}/cpu.stat`, memory: `${dir}/memory.current` };
    }
    return {
      cpu: `${l.cpuDir}${trimSlash(cpuPath)}/cpuacct.usage`,
      memory: l.memoryDir === undefined || memoryPath === undefined
        ? undefined
        : `${l.memoryDir}${trimSlash(memoryPath)}/memory.usage_in_bytes`,
    };
  }
}

/** The layout under `root`, or why there is none. */
async function detectLayout(root: string): Promise<Layout | string> {
  try {
    if (!(await Deno.stat(root)).isDirectory) return `${root} is not a directory`;
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      return `cannot read ${root}: not permitted (Deno reads /sys and /proc only with --allow-all)`;
    }
    return `cannot read ${root}: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (await exists(`${root}/cgroup.controllers`)) {
    // pure v2: the unified hierarchy is mounted at the root itself
    return await exists(`${root}/cpu.stat`)
      ? { kind: "cgroup-v2", root }
      : `${root} is a cgroup v2 hierarchy without a readable cpu.stat`;
  }
  let cpuDir: string | undefined;
  for (const name of ["cpuacct", "cpu,cpuacct", "cpuacct,cpu"]) {
    if (await exists(`${root}/${name}/cpuacct.usage`)) {
      cpuDir = `${root}/${name}`;
      break;
    }
  }
  if (cpuDir === undefined) return `no CPU accounting controller (cpuacct.usage) under ${root}`;
  const memoryDir = await exists(`${root}/memory/memory.usage_in_bytes`)
    ? `${root}/memory`
    : undefined;
  return { kind: "cgroup-v1", cpuDir, memoryDir };
}

/** The path of the CPU-accounting cgroup among `/proc/<pid>/cgroup` lines. */
function cgroupPath(layout: Layout, lines: CgroupLine[]): string | undefined {
  if (layout.kind === "cgroup-v2") {
    return lines.find((l) => l.controllers.length === 0 || l.controllers[0] === "")?.path;
  }
  return lines.find((l) => l.controllers.includes("cpuacct"))?.path;
}

async function readCgroupLines(file: string): Promise<CgroupLine[] | undefined> {
  const text = await readText(file);
  if (text === undefined) return undefined;
  const out: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    // hierarchy-ID:controller-list:cgroup-path (the path may itself contain ':')
    const a = line.indexOf(":");
    const b = a < 0 ? -1 : line.indexOf(":", a + 1);
    if (b < 0) continue;
    const list = line.slice(a + 1, b);
    out.push({ controllers: list ? list.split(",") : [], path: line.slice(b + 1) });
  }
  return out;
}

function trimSlash(path: string): string {
  if (path === "/" || path === "") return "";
  return path.startsWith("/") ? path.replace(/\/+$/, "") : `/${path.replace(/\/+$/, "")}`;
}

// A synchronous read: cgroup and procfs files are generated by the kernel and never wait on a
// disk, and the async form costs a thread-pool round trip (open, read, close) per file, which at
// 100 containers and a 1 s loop was most of the agent's idle CPU (scripts/bench_lightness.ts).
function readText(file: string): Promise<string | undefined> {
  try {
    return Promise.resolve(Deno.readTextFileSync(file));
  } catch {
    return Promise.resolve(undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A non-negative integer file (`12345\n`); undefined otherwise. Beyond 2^53 (104 days of CPU
 * time in ns) the last digits are rounded, which rates do not notice.
 */
function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return /^\d{1,20}$/.test(t) ? Number(t) : undefined;
}

/** The value of `name` in a flat-keyed file (`usage_usec 123\n…`). */
function statField(text: string, name: string): string | undefined {
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === name) return v;
  }
  return undefined;
}

function scale(n: number | undefined, by: number): number | undefined {
  return n === undefined ? undefined : n * by;
}

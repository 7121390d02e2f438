/**
 * Private InfluxDB 1.6 and VictoriaMetrics servers for tests that stop and restart them: each on
 * loopback, on its own free ports and in its own temporary data directory, kept across
 * restarts until `destroy`.
 *
 * @module
 */

import { freePort } from "./net.ts";

async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await ok()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up`);
}

async function stopChild(child: Deno.ChildProcess, graceMs: number): Promise<void> {
  try {
    child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
  } catch {
    // gone
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      resolve();
    }, Math.max(graceMs, 1));
  });
  await Promise.race([child.status, killed]);
  clearTimeout(timer);
  await child.status;
}

/** Common process handling of the two servers. */
abstract class ServerProcess {
  readonly dataDir: string;
  readonly httpPort = freePort();
  #child: Deno.ChildProcess | undefined;

  protected constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  /** Base URL of the HTTP API. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  protected abstract command(): Deno.Command;
  protected abstract ready(): Promise<boolean>;
  /** Grace period given to SIGTERM by `stop`. */
  protected abstract readonly graceMs: number;

  /** (Re)starts the process on the same data and ports, and waits until it answers. */
  async restart(): Promise<void> {
    if (this.#child) return;
    this.#child = this.command().spawn();
    await waitUntil(`${this.constructor.name} on ${this.url}`, () => this.ready());
  }

  /** Stops the process (SIGTERM, then SIGKILL), keeping its data and ports. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    await stopChild(child, this.graceMs);
  }

  /** Kills the process at once (SIGKILL), keeping its data. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    await stopChild(child, 0);
  }

  /** Kills it and deletes its data. */
  async destroy(): Promise<void> {
    await this.kill();
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}

/** A row read back from InfluxDB: `time` (ms) plus the columns. */
export type InfluxRow = Record<string, string | number | boolean | null>;

/** InfluxDB 1.6 (`influxd`) with auth enabled and an admin user. */
export class InfluxServer extends ServerProcess {
  readonly rpcPort = freePort();
  readonly username = "gru";
  readonly password = "gru secret";
  protected readonly graceMs = 5000;

  /** Starts a fresh server with a `username`/`password` admin and the given databases. */
  static async start(databases: string[] = ["gru"]): Promise<InfluxServer> {
    const s = new InfluxServer(await Deno.makeTempDir({ prefix: "gru-influxd-" }));
    await s.#writeConfig();
    try {
      await s.restart();
      // the first user may be created without credentials
      await s.#query(
        `CREATE USER "${s.username}" WITH PASSWORD '${s.password}' WITH ALL PRIVILEGES`,
        false,
      );
      for (const db of databases) await s.query(`CREATE DATABASE "${db}"`);
    } catch (e) {
      await s.destroy();
      throw e;
    }
    return s;
  }

  get configFile(): string {
    return `${this.dataDir}/influxdb.conf`;
  }

  async #writeConfig(): Promise<void> {
    const d = this.dataDir;
    await Deno.writeTextFile(
      this.configFile,
      `reporting-disabled = true
bind-address = "127.0.0.1:${this.rpcPort}"

[meta]
  dir = "${d}/meta"
  logging-enabled = false

[data]
  dir = "${d}/data"
  wal-dir = "${d}/wal"
  wal-fsync-delay = "0s"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${this.httpPort}"
  auth-enabled = true
  log-enabled = false
  pprof-enabled = false

[continuous_queries]
  enabled = false
`,
    );
  }

  protected command(): Deno.Command {
    return new Deno.Command("influxd", {
      args: ["run", "-config", this.configFile],
      env: { INFLUXDB_CONFIG_PATH: this.configFile },
      stdout: "null",
      stderr: "null",
      stdin: "null",
    });
  }

  protected async ready(): Promise<boolean> {
    const res = await fetch(`${this.url}/ping`);
    await res.body?.cancel();
    return res.status === 204;
  }

  async #query(q: string, auth: boolean, db?: string): Promise<unknown> {
    const params = new URLSearchParams({ q, epoch: "ms" });
    if (db) params.set("db", db);
    const headers: Record<string, string> = {};
    if (auth) headers["authorization"] = `Basic ${btoa(`${this.username}:${this.password}`)}`;
    const res = await fetch(`${this.url}/query`, { method: "POST", body: params, headers });
    const body = await res.json();
    if (!res.ok || body?.results?.[0]?.error) {
      throw new Error(`InfluxQL ${q}: HTTP ${res.status} ${JSON.stringify(body)}`);
    }
    return body;
  }

  /** Runs an InfluxQL statement (times in ms) and returns the raw JSON answer. */
  query(q: string, db?: string): Promise<unknown> {
    return this.#query(q, true, db);
  }

  /** `SELECT * FROM <measurement>` as rows (`time` in ms), oldest first. */
  async select(db: string, measurement: string): Promise<InfluxRow[]> {
    const body = await this.query(`SELECT * FROM "${measurement.replace(/"/g, '\\"')}"`, db) as {
      results?: { series?: { columns: string[]; values: unknown[][] }[] }[];
    };
    const rows: InfluxRow[] = [];
    for (const series of body.results?.[0]?.series ?? []) {
      for (const v of series.values) {
        const row: InfluxRow = {};
        series.columns.forEach((c, i) => (row[c] = v[i] as InfluxRow[string]));
        rows.push(row);
      }
    }
    return rows;
  }
}

/** One series read back from VictoriaMetrics. */
export interface VmSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** VictoriaMetrics (`victoria-metrics`), which accepts line protocol on `/write` and `/api/v2/write`. */
export class VictoriaMetricsServer extends ServerProcess {
  protected readonly graceMs = 10_000;

  /** Starts a fresh server. */
  static async start(): Promise<VictoriaMetricsServer> {
    const s = new VictoriaMetricsServer(await Deno.makeTempDir({ prefix: "gru-vm-" }));
    try {
      await s.restart();
    } catch (e) {
      await s.destroy();
      throw e;
    }
    return s;
  }

  protected command(): Deno.Command {
    return new Deno.Command("victoria-metrics", {
      args: [
        `-storageDataPath=${this.dataDir}`,
        `-httpListenAddr=127.0.0.1:${this.httpPort}`,
        "-retentionPeriod=100y",
        "-search.latencyOffset=0s",
        "-loggerLevel=ERROR",
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    });
  }

  protected async ready(): Promise<boolean> {
    const res = await fetch(`${this.url}/health`);
    await res.body?.cancel();
    return res.ok;
  }

  /** Makes recently ingested samples searchable. */
  async forceFlush(): Promise<void> {
    const res = await fetch(`${this.url}/internal/force_flush`);
    await res.body?.cancel();
  }

  /** Flushes first, so nothing ingested is lost, then stops. */
  override async stop(): Promise<void> {
    if (this.running) await this.forceFlush().catch(() => {});
    await super.stop();
  }

  /** Every sample of the series matching `match` (e.g. `{__name__=~"m_.*"}`), via `/api/v1/export`. */
  async export(match: string): Promise<VmSeries[]> {
    await this.forceFlush();
    const params = new URLSearchParams({ "match[]": match, start: "0" });
    const res = await fetch(`${this.url}/api/v1/export?${params}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`export ${match}: HTTP ${res.status} ${text}`);
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as VmSeries);
  }
}

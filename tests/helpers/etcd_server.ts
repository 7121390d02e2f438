/**
 * A private etcd server for tests that stop and restart it (the shared one must stay up).
 *
 * @module
 */

import { freePort } from "./net.ts";

/** An etcd process on loopback with its own data directory. */
export class EtcdServer {
  readonly dataDir: string;
  readonly clientPort = freePort();
  readonly peerPort = freePort();
  #child: Deno.ChildProcess | undefined;

  private constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  /** Starts a fresh server and waits until it answers. */
  static async start(): Promise<EtcdServer> {
    const s = new EtcdServer(await Deno.makeTempDir({ prefix: "gru-etcd-" }));
    await s.restart();
    return s;
  }

  /** The client URL. */
  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  /** (Re)starts the process on the same data and ports, and waits until it is healthy. */
  async restart(): Promise<void> {
    this.#child = new Deno.Command("etcd", {
      args: [
        "--name",
        "gru-test",
        "--data-dir",
        this.dataDir,
        "--listen-client-urls",
        this.url,
        "--advertise-client-urls",
        this.url,
        "--listen-peer-urls",
        `http://127.0.0.1:${this.peerPort}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${this.peerPort}`,
        "--initial-cluster",
        `gru-test=http://127.0.0.1:${this.peerPort}`,
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      try {
        const res = await fetch(`${this.url}/health`);
        const ok = res.ok && (await res.json()).health === "true";
        if (ok) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd on ${this.url} did not become healthy`);
  }

  /** Kills the process (SIGKILL), keeping its data. */
  async kill(): Promise<void> {
    if (!this.#child) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // gone
    }
    await this.#child.status;
    this.#child = undefined;
  }

  /** Kills it and deletes its data. */
  async destroy(): Promise<void> {
    await this.kill();
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}

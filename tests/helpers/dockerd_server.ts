/**
 * A private Docker engine for tests that restart it (the shared one must stay up): its own
 * socket, data and exec roots, no bridge and no iptables, with `gru-test/busybox` loaded.
 *
 * @module
 */

/** A dockerd process the test owns. */
export class DockerdServer {
  readonly dir: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** The engine's unix socket path. */
  get socket(): string {
    return `${this.dir}/docker.sock`;
  }

  /** Starts an engine and loads the test image into it. */
  static async start(): Promise<DockerdServer> {
    const s = new DockerdServer(await Deno.makeTempDir({ prefix: "gru-dockerd-" }));
    await s.restart();
    const save = new Deno.Command("docker", {
      args: ["save", "gru-test/busybox"],
      stdout: "piped",
    }).spawn();
    const load = new Deno.Command("docker", {
      args: ["-H", `unix://${s.socket}`, "load"],
      stdin: "piped",
      stdout: "null",
    }).spawn();
    await save.stdout.pipeTo(load.stdin);
    const [a, b] = await Promise.all([save.status, load.status]);
    if (!a.success || !b.success) throw new Error("Cannot load gru-test/busybox into the engine");
    return s;
  }

  /** (Re)starts the engine on the same data and waits until it answers. */
  async restart(): Promise<void> {
    this.#child = new Deno.Command("dockerd", {
      args: [
        "--data-root",
        `${this.dir}/data`,
        "--exec-root",
        `${this.dir}/exec`,
        "--pidfile",
        `${this.dir}/docker.pid`,
        "-H",
        `unix://${this.socket}`,
        "--bridge=none",
        "--iptables=false",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const v = await new Deno.Command("docker", {
        args: ["-H", `unix://${this.socket}`, "version", "--format", "{{.Server.Version}}"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (v.success) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("private dockerd did not start");
  }

  /** Stops the engine (SIGTERM, as a service manager would) and waits for it. */
  async stop(): Promise<void> {
    if (!this.#child) return;
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // gone
    }
    await this.#child.status;
    this.#child = undefined;
  }

  /** Removes every container, stops the engine and deletes its data. */
  async destroy(): Promise<void> {
    if (this.#child) {
      const ids = await new Deno.Command("docker", {
        args: ["-H", `unix://${this.socket}`, "ps", "-aq"],
        stdout: "piped",
      }).output();
      const list = new TextDecoder().decode(ids.stdout).split("\n").filter(Boolean);
      if (list.length) {
        await new Deno.Command("docker", {
          args: ["-H", `unix://${this.socket}`, "rm", "-f", ...list],
          stdout: "null",
          stderr: "null",
        }).output();
      }
    }
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

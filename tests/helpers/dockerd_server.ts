/**
 * A private Docker engine for tests that restart it (the shared one must stay up): its own
 * network namespace (two engines in one namespace fight over docker0), socket, data and exec
 * roots, with `gru-test/busybox` loaded.
 *
 * @module
 */

async function run(cmd: string, args: string[]): Promise<boolean> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
  return r.success;
}

/** A dockerd process the test owns. */
export class DockerdServer {
  readonly dir: string;
  /** The network namespace the engine runs in. */
  readonly netns: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.netns = `gru-t${Deno.pid}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  }

  /** The engine's unix socket path. */
  get socket(): string {
    return `${this.dir}/docker.sock`;
  }

  /** Starts an engine and loads the test image into it. */
  static async start(): Promise<DockerdServer> {
    const s = new DockerdServer(await Deno.makeTempDir({ prefix: "gru-dockerd-" }));
    if (!await run("ip", ["netns", "add", s.netns])) {
      throw new Error(`Cannot create network namespace ${s.netns}`);
    }
    await run("ip", ["netns", "exec", s.netns, "ip", "link", "set", "lo", "up"]);
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
    // nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then fails.
    this.#child = new Deno.Command("nsenter", {
      args: [
        `--net=/var/run/netns/${this.netns}`,
        "dockerd",
        "--data-root",
        `${this.dir}/data`,
        "--exec-root",
        `${this.dir}/exec`,
        "--pidfile",
        `${this.dir}/docker.pid`,
        "-H",
        `unix://${this.socket}`,
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
    await run("ip", ["netns", "delete", this.netns]);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

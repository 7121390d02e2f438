/**
 * The multi-node harness from TypeScript: `Harness.up(n)` runs `scripts/cluster.sh up n` (one
 * network namespace, dockerd and `gru agent` per node, a harness etcd on 127.0.0.1:2479) and
 * `down()` removes all of it. Agents serve mutual TLS with certificates made by `gru tls` (unless
 * `plain`): `fetch`, `curlTls` and `cliEnv` talk to them as the CLI would. Needs root, like the
 * script.
 *
 * @module
 */

import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Where `up` writes the harness CA, node and CLI certificates. */
export const HARNESS_TLS_DIR = "/var/lib/gru-nodes/tls";
const SCRIPT = new URL("../../scripts/cluster.sh", import.meta.url).pathname;

/** The harness etcd, as seen from the host. */
export const HARNESS_ETCD_URL = "http://127.0.0.1:2479";

/** Options of `Harness.up`. */
export interface HarnessOptions {
  /** Cluster name. @default "harness" */
  cluster?: string;
  /** Configuration directory imported into the cluster. @default examples/demo */
  configDir?: string;
  /** Start every agent with `--active` (the autonomic loop runs at once). */
  active?: boolean;
  /** Plain HTTP instead of mutual TLS. */
  plain?: boolean;
  /**
   * Start the agents (and create and import the cluster). `false`: only the namespaces, their
   * engines and the harness etcd, for a test that types `gru create` and `gru join` itself.
   * @default true
   */
  agents?: boolean;
}

/** One node of the harness (1-based `index`). */
export interface HarnessNode {
  index: number;
  /** Node name, `gn<i>`. */
  name: string;
  /** Node address, `10.231.0.<10+i>`. */
  ip: string;
  /** Agent API base URL, `https://10.231.0.<10+i>:5000` (`http://` when plain). */
  url: string;
  /** The node engine's unix socket. */
  dockerSocket: string;
  /** The node's network namespace (`/var/run/netns/<netns>`). */
  netns: string;
}

/** What a finished command printed (stdout and stderr). */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<CommandResult> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs `bash scripts/cluster.sh <args>`; throws with its output when it fails. */
export async function clusterScript(args: string[]): Promise<CommandResult> {
  const r = await run("bash", [SCRIPT, ...args]);
  if (r.code !== 0) {
    throw new Error(
      `scripts/cluster.sh ${args.join(" ")} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r;
}

function nodeOf(index: number, scheme: string): HarnessNode {
  const ip = `10.231.0.${10 + index}`;
  return {
    index,
    name: `gn${index}`,
    ip,
    url: `${scheme}://${ip}:5000`,
    dockerSocket: `/run/gru-nodes/gn${index}.sock`,
    netns: `gn${index}`,
  };
}

/** A running harness cluster. */
export class Harness {
  readonly cluster: string;
  readonly nodes: readonly HarnessNode[];
  readonly etcdUrl = HARNESS_ETCD_URL;
  /** What `up` printed. */
  readonly upOutput: string;
  /** Whether the agents serve mutual TLS. */
  readonly tls: boolean;
  #down = false;
  #client: Deno.HttpClient | undefined;
  #token: string | undefined;

  private constructor(cluster: string, nodes: HarnessNode[], upOutput: string, tls: boolean) {
    this.cluster = cluster;
    this.nodes = nodes;
    this.upOutput = upOutput;
    this.tls = tls;
  }

  /** Environment for `gru` commands that talk to agents: the CLI certificate and the CA. */
  get cliEnv(): Record<string, string> {
    return this.tls
      ? {
        GRU_TLS_CA: `${HARNESS_TLS_DIR}/gru-ca.pem`,
        GRU_TLS_CERT: `${HARNESS_TLS_DIR}/cli.pem`,
        GRU_TLS_KEY: `${HARNESS_TLS_DIR}/cli-key.pem`,
      }
      : {};
  }

  /** curl flags for the agents: the CA and the CLI certificate (none when plain). */
  get curlTls(): string[] {
    return this.tls
      ? [
        "--cacert",
        `${HARNESS_TLS_DIR}/gru-ca.pem`,
        "--cert",
        `${HARNESS_TLS_DIR}/cli.pem`,
        "--key",
        `${HARNESS_TLS_DIR}/cli-key.pem`,
      ]
      : [];
  }

  /**
   * `fetch` towards the agents as the CLI: the harness CA and the CLI certificate, and the
   * cluster token (read from the harness etcd once) as a bearer token.
   */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    if (this.tls && !this.#client) {
      const read = (f: string) => Deno.readTextFile(`${HARNESS_TLS_DIR}/${f}`);
      this.#client = Deno.createHttpClient({
        caCerts: [await read("gru-ca.pem")],
        cert: await read("cli.pem"),
        key: await read("cli-key.pem"),
      });
    }
    if (this.#token === undefined) {
      const kv = await EtcdKvStore.connect({ endpoints: [this.etcdUrl] });
      try {
        this.#token = await kv.get(`/gru/${this.cluster}/token`) ?? "";
      } finally {
        await kv.close();
      }
    }
    const headers = new Headers(init.headers);
    if (this.#token) headers.set("authorization", `Bearer ${this.#token}`);
    return await fetch(url, {
      ...init,
      headers,
      ...(this.#client ? { client: this.#client } : {}),
    });
  }

  /**
   * Clears whatever an earlier run left and starts `n` nodes, resolving once every agent answers
   * its health check. On failure it tears down what was started and throws with the output.
   */
  static async up(n: number, options: HarnessOptions = {}): Promise<Harness> {
    const cluster = options.cluster ?? "harness";
    const args = ["up", String(n), "--cluster", cluster];
    if (options.configDir !== undefined) args.push("--config", options.configDir);
    if (options.active) args.push("--active");
    if (options.plain) args.push("--plain");
    if (options.agents === false) args.push("--no-agents");
    let r: CommandResult;
    try {
      r = await clusterScript(args);
    } catch (err) {
      await run("bash", [SCRIPT, "down"]);
      throw err;
    }
    const scheme = options.plain ? "http" : "https";
    const nodes = Array.from({ length: n }, (_, k) => nodeOf(k + 1, scheme));
    return new Harness(cluster, nodes, r.stdout + r.stderr, !options.plain);
  }

  /** Node `i` (1-based). */
  node(i: number): HarnessNode {
    const node = this.nodes[i - 1];
    if (!node) throw new RangeError(`No node ${i}: the harness has ${this.nodes.length}`);
    return node;
  }

  /** Node names, `gn1` … `gn<n>`. */
  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** Agent API base URLs, `https://10.231.0.<10+i>:5000`. */
  get addresses(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** SIGKILLs node `i`: its agent, dockerd, containerd, shims and containers. */
  async killNode(i: number): Promise<void> {
    await clusterScript(["kill-node", String(this.node(i).index)]);
  }

  /** Sets the host side of node `i`'s link down: it loses etcd and every peer. */
  async cutLink(i: number): Promise<void> {
    await clusterScript(["cut-link", String(this.node(i).index)]);
  }

  /** Sets node `i`'s link up again. */
  async healLink(i: number): Promise<void> {
    await clusterScript(["heal-link", String(this.node(i).index)]);
  }

  /** Runs a command inside node `i`'s network namespace (never throws on a non-zero exit). */
  exec(i: number, cmd: string, args: string[] = []): Promise<CommandResult> {
    return run("nsenter", [`--net=/var/run/netns/${this.node(i).netns}`, cmd, ...args]);
  }

  /** Runs the docker CLI against node `i`'s engine (never throws on a non-zero exit). */
  docker(i: number, args: string[]): Promise<CommandResult> {
    return run("docker", ["-H", `unix://${this.node(i).dockerSocket}`, ...args]);
  }

  /** What `scripts/cluster.sh status` prints. */
  async status(): Promise<string> {
    const r = await clusterScript(["status"]);
    return r.stdout + r.stderr;
  }

  /** Removes everything (idempotent); returns what `down` printed. */
  async down(): Promise<string> {
    this.#down = true;
    this.#client?.close();
    this.#client = undefined;
    const r = await clusterScript(["down"]);
    return r.stdout + r.stderr;
  }

  /** Whether `down()` was called. */
  get isDown(): boolean {
    return this.#down;
  }
}

/**
 * A private 3-member etcd cluster on loopback, for tests that kill and restart members (the
 * shared etcd must stay up). Each member has its own free ports and data directory; members
 * are killed by their process (SIGKILL) and `destroy` stops every one of them.
 *
 * @module
 */

import { freePort } from "./net.ts";

/** One member: its ports, data and process. */
interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  child: Deno.ChildProcess | undefined;
}

/** What `POST /v3/maintenance/status` answers (the fields used here). */
interface MemberStatus {
  header?: { member_id?: string };
  leader?: string;
}

/** A 3-member etcd cluster on 127.0.0.1. */
export class EtcdCluster {
  readonly #members: Member[];
  readonly #root: string;

  private constructor(root: string, size: number) {
    this.#root = root;
    this.#members = Array.from({ length: size }, (_, i) => ({
      name: `m${i}`,
      clientPort: freePort(),
      peerPort: freePort(),
      dataDir: `${root}/m${i}`,
      child: undefined,
    }));
  }

  /** Starts `size` members together and waits until every one is healthy. */
  static async start(size = 3): Promise<EtcdCluster> {
    const c = new EtcdCluster(await Deno.makeTempDir({ prefix: "gru-etcd-cluster-" }), size);
    try {
      for (let i = 0; i < size; i++) c.#spawn(i);
      await Promise.all(c.#members.map((_, i) => c.waitHealthy(i)));
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  /** Client URLs of every member, in order. */
  get urls(): string[] {
    return this.#members.map((_, i) => this.url(i));
  }

  /** Client URL of member `i`. */
  url(i: number): string {
    return `http://127.0.0.1:${this.#members[i]!.clientPort}`;
  }

  /** Whether member `i`'s process runs. */
  running(i: number): boolean {
    return this.#members[i]!.child !== undefined;
  }

  #spawn(i: number): void {
    const m = this.#members[i]!;
    const peer = (x: Member) => `http://127.0.0.1:${x.peerPort}`;
    m.child = new Deno.Command("etcd", {
      args: [
        "--name",
        m.name,
        "--data-dir",
        m.dataDir,
        "--listen-client-urls",
        this.url(i),
        "--advertise-client-urls",
        this.url(i),
        "--listen-peer-urls",
        peer(m),
        "--initial-advertise-peer-urls",
        peer(m),
        "--initial-cluster",
        this.#members.map((x) => `${x.name}=${peer(x)}`).join(","),
        "--initial-cluster-state",
        "new",
        "--initial-cluster-token",
        `gru-test-${this.#root.split("/").pop()}`,
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
  }

  /** Waits until member `i` answers healthy (it needs a quorum for that). */
  async waitHealthy(i: number, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      try {
        const res = await fetch(`${this.url(i)}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && (await res.json()).health === "true") return;
        await res.body?.cancel();
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd member ${this.#members[i]!.name} on ${this.url(i)} is not healthy`);
  }

  /** The index of the current leader as a running member sees it, or `undefined`. */
  async leader(): Promise<number | undefined> {
    const ids = new Map<string, number>();
    let leader: string | undefined;
    for (const [i, m] of this.#members.entries()) {
      if (!m.child) continue;
      try {
        const res = await fetch(`${this.url(i)}/v3/maintenance/status`, {
          method: "POST",
          body: "{}",
          signal: AbortSignal.timeout(1000),
        });
        const s = await res.json() as MemberStatus;
        if (s.header?.member_id) ids.set(s.header.member_id, i);
        if (s.leader && s.leader !== "0") leader = s.leader;
      } catch {
        // this member does not answer
      }
    }
    return leader === undefined ? undefined : ids.get(leader);
  }

  /** Waits until some running member reports a leader, and returns its index. */
  async waitLeader(ms = 30_000): Promise<number> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const l = await this.leader();
      if (l !== undefined) return l;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("etcd cluster has no leader");
  }

  /** Kills member `i`'s process (SIGKILL), keeping its data. */
  async kill(i: number): Promise<void> {
    const m = this.#members[i]!;
    const child = m.child;
    if (!child) return;
    m.child = undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // gone already
    }
    await child.status;
  }

  /** Starts member `i` again on its data and ports, and waits until it is healthy. */
  async restart(i: number): Promise<void> {
    if (this.#members[i]!.child) return;
    this.#spawn(i);
    await this.waitHealthy(i);
  }

  /** Kills every member and deletes their data. */
  async destroy(): Promise<void> {
    for (let i = 0; i < this.#members.length; i++) await this.kill(i);
    await Deno.remove(this.#root, { recursive: true }).catch(() => {});
  }
}

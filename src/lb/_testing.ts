/**
 * A fake HAProxy runtime API on a real unix socket, for the watcher's unit tests: it keeps one
 * backend's servers (name, address, administrative and operational state, sessions) and answers
 * the commands the watcher sends with HAProxy 2.6's own texts, including its refusals (a server
 * deleted out of maintenance or with sessions left, a duplicate name, an unknown server).
 *
 * @module
 */

/** One server of the fake backend. */
export interface FakeServer {
  address: string;
  port: number;
  /** "ready", "drain" or "maint". */
  admin: "ready" | "drain" | "maint";
  health: boolean;
  options: string;
  sessions: number;
}

const HEADER = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state " +
  "srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result " +
  "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn " +
  "srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

/** The fake: `servers` can be read and changed by the test at any time. */
export class FakeHaproxy {
  readonly path: string;
  readonly backend: string;
  readonly servers = new Map<string, FakeServer>();
  /** Every command received, in order. */
  readonly log: string[] = [];
  /** Server names whose `add server` is refused (as HAProxy refuses a bad keyword). */
  readonly refuseAdd = new Set<string>();
  #listener: Deno.Listener | undefined;
  #serving: Promise<void> | undefined;

  constructor(path: string, backend: string) {
    this.path = path;
    this.backend = backend;
  }

  /** Starts listening (again). */
  listen(): void {
    this.#listener = Deno.listen({ transport: "unix", path: this.path });
    const listener = this.#listener;
    this.#serving = (async () => {
      for await (const conn of listener) await this.#serve(conn);
    })().catch(() => {});
  }

  /** Stops listening and removes the socket file. */
  async close(): Promise<void> {
    try {
      this.#listener?.close();
    } catch {
      // closed already
    }
    await this.#serving;
    await Deno.remove(this.path).catch(() => {});
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    try {
      const buf = new Uint8Array(4096);
      let text = "";
      while (!text.includes("\n")) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      const line = text.split("\n")[0] ?? "";
      const answer = line.split(";").map((c) => this.#run(c.trim())).join("");
      await conn.write(new TextEncoder().encode(answer));
    } finally {
      conn.close();
    }
  }

  #run(cmd: string): string {
    this.log.push(cmd);
    const b = this.backend;
    let m: RegExpExecArray | null;
    if (cmd === `show servers state ${b}`) {
      const rows = [...this.servers].map(([name, s], i) =>
        `3 ${b} ${i + 1} ${name} ${s.address} ${s.admin === "maint" ? 0 : 2} ` +
        `${s.admin === "maint" ? 1 : s.admin === "drain" ? 8 : 0} 1 1 0 6 3 2 6 0 0 0 - ` +
        `${s.port} - 0 0 - - 0`
      );
      return `1\n${HEADER}\n${rows.map((r) => `${r}\n`).join("")}\n`;
    }
    if (cmd.startsWith("show servers state ")) return "Can't find backend.\n\n";
    if (cmd === "show stat") {
      const rows = [...this.servers].map(([name, s]) => `${b},${name},0,0,${s.sessions},0,`);
      return `# pxname,svname,qcur,qmax,scur,smax,\nfe,FRONTEND,,,0,0,\n${
        rows.map((r) => `${r}\n`).join("")
      }${b},BACKEND,0,0,0,0,\n\n`;
    }
    if ((m = /^add server ([^/]+)\/(\S+) ([0-9.]+):(\d+)\s*(.*)$/.exec(cmd))) {
      if (m[1] !== b) return "No such backend.\n\n";
      if (this.refuseAdd.has(m[2]!)) return "'server' keyword not supported here.\n\n";
      if (this.servers.has(m[2]!)) {
        return "Already exists a server with the same name in backend.\n\n";
      }
      this.servers.set(m[2]!, {
        address: m[3]!,
        port: Number(m[4]),
        admin: "maint",
        health: false,
        options: m[5]!,
        sessions: 0,
      });
      return "New server registered.\n\n";
    }
    m = /^(?:set server|enable health|del server) ([^/]+)\/(\S+)/.exec(cmd);
    const s = m && m[1] === b ? this.servers.get(m[2]!) : undefined;
    if (!m || !s) return m ? "No such server.\n\n" : "Unknown command.\n\n";
    const name = m[2]!;
    if (cmd.startsWith("enable health ")) {
      s.health = true;
      return "\n";
    }
    if (cmd.startsWith("del server ")) {
      if (s.admin !== "maint") return "Only servers in maintenance mode can be deleted.\n";
      if (s.sessions > 0) return "Server still has connections attached to it, cannot remove it.\n";
      this.servers.delete(name);
      return "Server deleted.\n";
    }
    if ((m = /^set server \S+ state (ready|drain|maint)$/.exec(cmd))) {
      s.admin = m[1] as FakeServer["admin"];
      return "\n";
    }
    if (/^set server \S+ health down$/.test(cmd)) return "\n";
    if ((m = /^set server \S+ addr ([0-9.]+) port (\d+)$/.exec(cmd))) {
      const was = `${s.address}:${s.port}`;
      s.address = m[1]!;
      s.port = Number(m[2]);
      return `IP changed from '${was}' to '${s.address}:${s.port}' by 'stats socket command'\n\n`;
    }
    return "Unknown command.\n\n";
  }
}

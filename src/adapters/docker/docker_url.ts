/**
 * Where the Docker engine is: the original's `Docker.DaemonUrl` forms (`default`,
 * `local:<port>`, `<host>:<port>`) plus `unix://`, `tcp://`, `http(s)://` and `DOCKER_HOST`, with
 * optional TLS.
 *
 * @module
 */

import { ValidationError } from "../../domain/errors.ts";

/** A resolved engine endpoint. */
export type DockerEndpoint =
  | { kind: "socket"; socketPath: string }
  | { kind: "tcp"; protocol: "http" | "https"; host: string; port: number };

/** The default socket. */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * Resolves a daemon URL.
 *
 * - `default` or empty → the default unix socket;
 * - `local:<port>` → `<nodeIp>:<port>` over TCP;
 * - `unix:///path` → that socket;
 * - `tcp://host:port`, `http://…`, `https://…` → TCP (`tcp` is https when `tls` is true);
 * - `<host>:<port>` → TCP.
 *
 * @param url The URL as configured.
 * @param options The node's IP (for `local:`) and whether TLS is configured.
 */
export function resolveDockerUrl(
  url: string,
  options: { nodeIp: string; tls?: boolean },
): DockerEndpoint {
  const u = url.trim();
  if (u === "" || u === "default") return { kind: "socket", socketPath: DEFAULT_DOCKER_SOCKET };
  if (u.startsWith("unix://")) {
    const path = u.slice("unix://".length);
    if (!path.startsWith("/")) {
      throw new ValidationError(`Invalid Docker URL "${url}": expected unix:///absolute/path`);
    }
    return { kind: "socket", socketPath: path };
  }
  const local = /^local:(\d+)$/.exec(u);
  if (local) return tcp(options.nodeIp, local[1]!, options.tls ? "https" : "http", url);
  const scheme = /^(tcp|http|https):\/\/([^/:]+|\[[^\]]+\]):(\d+)\/?$/.exec(u);
  if (scheme) {
    const proto = scheme[1] === "https" || (scheme[1] === "tcp" && options.tls) ? "https" : "http";
    return tcp(scheme[2]!, scheme[3]!, proto, url);
  }
  const hostPort = /^([^/:]+):(\d+)$/.exec(u);
  if (hostPort) return tcp(hostPort[1]!, hostPort[2]!, options.tls ? "https" : "http", url);
  throw new ValidationError(
    `Invalid Docker URL "${url}": expected default, local:<port>, <host>:<port>, ` +
      `unix:///path, tcp://host:port or http(s)://host:port`,
  );
}

function tcp(host: string, port: string, protocol: "http" | "https", url: string): DockerEndpoint {
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ValidationError(`Invalid Docker URL "${url}": port ${port} is not in 1..65535`);
  }
  return { kind: "tcp", protocol, host: host.replace(/^\[|\]$/g, ""), port: n };
}

/**
 * Serves the agent API: plain HTTP or HTTPS with `Deno.serve`, and mutual TLS with `node:https`.
 *
 * `Deno.serve` (and `Deno.listenTls`) cannot request a client certificate (denoland/deno#26825),
 * so with a CA the server is Deno's `node:https` (`requestCert` + `rejectUnauthorized` against
 * that CA only): a client without a certificate, or with one from another CA, fails the TLS
 * handshake and never reaches the API. `@hono/node-server` bridges its requests to the hono app
 * and hands the incoming message to the app as `c.env`, from which {@linkcode peerName} reads the
 * verified certificate's common name.
 *
 * @module
 */

import { createServer, type Server } from "node:https";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { getRequestListener } from "@hono/node-server";

/** PEM texts of the server's TLS. */
export interface ServerTls {
  cert: string;
  key: string;
  /** With a CA, clients must present a certificate it signed (mutual TLS). */
  ca?: string | undefined;
}

/** Options of {@linkcode serveApi}. */
export interface ServeApiOptions {
  hostname: string;
  port: number;
  /** Absent: plain HTTP. */
  tls?: ServerTls | undefined;
  /** The app (`app.fetch` of hono): gets the request and the runtime's `env`. */
  fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  /** Called once listening. */
  onListen?: (addr: { hostname: string; port: number; scheme: "http" | "https" }) => void;
  /** A TLS handshake that takes longer is dropped. @default 10000 */
  handshakeTimeoutMs?: number;
}

/** A running API server. */
export interface ApiServer {
  /** Whether clients must present a certificate signed by the CA. */
  readonly mutualTls: boolean;
  /** Stops accepting connections and closes the open ones. */
  shutdown(): Promise<void>;
}

/**
 * The verified client-certificate common name of a request served by {@linkcode serveApi} with
 * mutual TLS, given hono's `c.env`; `undefined` otherwise (plain HTTP, `Deno.serve`, a
 * certificate without a CN).
 *
 * @param env hono's `c.env` for the request.
 * @returns The peer's name, or `undefined`.
 */
export function peerName(env: unknown): string | undefined {
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const socket = incoming?.socket as TLSSocket | undefined;
  if (!socket || socket.authorized !== true || typeof socket.getPeerCertificate !== "function") {
    return undefined;
  }
  const cn = socket.getPeerCertificate()?.subject?.CN as unknown;
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}

function mutualTlsServer(o: ServeApiOptions, tls: Required<ServerTls>): Promise<ApiServer> {
  const server: Server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
    },
    getRequestListener(o.fetch),
  );
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(o.port, o.hostname, () => {
      server.off("error", onError);
      o.onListen?.({ hostname: o.hostname, port: o.port, scheme: "https" });
      resolve({
        mutualTls: true,
        shutdown: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * Serves `o.fetch` on `o.hostname:o.port`: mutual TLS when `o.tls.ca` is set, HTTPS when only
 * `o.tls` is, plain HTTP otherwise.
 *
 * @param o Where, with which TLS, and what to serve.
 * @returns The running server, once it listens.
 */
export async function serveApi(o: ServeApiOptions): Promise<ApiServer> {
  if (o.tls?.ca !== undefined) {
    return await mutualTlsServer(o, { ...o.tls, ca: o.tls.ca });
  }
  const scheme = o.tls ? "https" : "http";
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: o.hostname,
    port: o.port,
    ...(o.tls ? { cert: o.tls.cert, key: o.tls.key } : {}),
    onListen: ({ hostname, port }) => {
      o.onListen?.({ hostname, port, scheme });
      listening.resolve();
    },
  }, (request, info) => o.fetch(request, info));
  await listening.promise;
  return { mutualTls: false, shutdown: () => server.shutdown() };
}

/** Whether `host` (a listen address) is a loopback one. */
export function isLoopback(host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || host === "localhost";
}

/**
 * `gru tls`: the certificates of TLS on the agent API, in the shape of `nomad tls`.
 *
 * - `gru tls ca create [--dir D] [--name N] [--days N]` writes `gru-ca.pem` and `gru-ca-key.pem`.
 * - `gru tls cert create --node <name> [--ip <addr>…] [--dns <name>…] [--loopback]` writes
 *   `<name>.pem` and `<name>-key.pem`: the agent's server certificate, also its client
 *   certificate towards its peers (serverAuth + clientAuth). The node name is its common name
 *   and a DNS name; agents take it as the peer's name.
 * - `gru tls cert create --cli [--name N]` writes `cli.pem` and `cli-key.pem` (clientAuth), for
 *   `gru manage`, `gru status` and curl.
 *
 * Keys are ECDSA P-256 unless `--key-type ed25519`; key files are 0600; no file is overwritten.
 *
 * @module
 */

import { isIP } from "node:net";
import { Command, Option } from "@commander-js/extra-typings";
import { type CliDeps, ExitError } from "../context.ts";
import { assertName } from "../../cluster/keys.ts";
import type { TlsKeyType, TlsWritten } from "../../ports/tls.ts";

/** Default validity of a CA, in days (5 years, as `nomad tls ca create`). */
export const CA_DAYS = 1825;
/** Default validity of a node or CLI certificate, in days. */
export const CERT_DAYS = 365;

const KEY_TYPES = ["ecdsa", "ed25519"] as const;

function parseDays(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 36500) {
    throw new ExitError(`Invalid --days "${raw.slice(0, 20)}": expected an integer in 1..36500`, 2);
  }
  return n;
}

function parseIps(ips: string[]): string[] {
  for (const ip of ips) {
    if (isIP(ip) === 0) {
      throw new ExitError(
        `Invalid --ip "${ip.slice(0, 60)}": expected an IPv4 or IPv6 address`,
        2,
      );
    }
  }
  return ips;
}

function parseDns(names: string[]): string[] {
  for (const n of names) {
    if (
      !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$/
        .test(n) || n.length > 253
    ) {
      throw new ExitError(`Invalid --dns "${n.slice(0, 60)}": expected a DNS name`, 2);
    }
  }
  return names;
}

function report(deps: CliDeps, what: string, w: TlsWritten) {
  deps.output.out(`==> ${what}`);
  deps.output.out(`    certificate: ${w.cert}`);
  deps.output.out(`    private key: ${w.key} (mode 0600: keep it on this machine)`);
  deps.output.out(`    SHA-256:     ${w.fingerprint}`);
  deps.output.out(`    valid until: ${w.notAfter}`);
}

function caCommand(deps: CliDeps) {
  const create = new Command("create")
    .description("create a certificate authority: gru-ca.pem and gru-ca-key.pem")
    .option("--dir <dir>", "directory of the files", ".")
    .option("--name <name>", "common name of the CA", "Gru CA")
    .option("--days <days>", "validity in days", String(CA_DAYS))
    .addOption(new Option("--key-type <type>", "key algorithm").choices(KEY_TYPES).default("ecdsa"))
    .action(async (opts) => {
      if (opts.name.trim() === "" || opts.name.length > 64) {
        throw new ExitError("Invalid --name: expected 1 to 64 characters", 2);
      }
      const files = await deps.tls();
      const w = await files.createCa({
        dir: opts.dir,
        name: opts.name,
        days: parseDays(opts.days),
        keyType: opts.keyType as TlsKeyType,
      });
      report(deps, `CA "${opts.name}" created`, w);
      deps.output.out(
        "    next: gru tls cert create --node <name> --ip <address> (one per node), and " +
          "gru tls cert create --cli",
      );
    });
  return new Command("ca").description("the certificate authority of a cluster")
    .addCommand(create);
}

function certCommand(deps: CliDeps) {
  const create = new Command("create")
    .description(
      "create a node certificate (--node) or a CLI certificate (--cli), signed by the CA",
    )
    .option("--node <name>", "node name: the certificate's common name and a DNS name")
    .option("--cli", "a client certificate for gru manage, gru status and curl")
    .option("--name <name>", "common name of a --cli certificate", "cli")
    .option("--ip <address...>", "an IP address of the node (repeatable)")
    .option("--dns <name...>", "another DNS name (repeatable)")
    .option("--loopback", "also valid for localhost, 127.0.0.1 and ::1")
    .option("--dir <dir>", "directory of the files (and of the CA by default)", ".")
    .option("--ca <file>", "CA certificate (default <dir>/gru-ca.pem)")
    .option("--ca-key <file>", "CA private key (default <dir>/gru-ca-key.pem)")
    .option("--days <days>", "validity in days", String(CERT_DAYS))
    .addOption(new Option("--key-type <type>", "key algorithm").choices(KEY_TYPES).default("ecdsa"))
    .action(async (opts) => {
      if ((opts.node === undefined) === (opts.cli === undefined)) {
        throw new ExitError("Pass exactly one of --node <name> and --cli", 2);
      }
      const kind = opts.node !== undefined ? "node" : "cli";
      const name = opts.node ?? opts.name;
      try {
        assertName(kind === "node" ? "node" : "--name", name);
      } catch (err) {
        throw new ExitError((err as Error).message, 2);
      }
      const ips = parseIps(opts.ip ?? []);
      const dnsNames = parseDns(opts.dns ?? []);
      if (kind === "node") dnsNames.unshift(name);
      if (opts.loopback) {
        dnsNames.push("localhost");
        ips.push("127.0.0.1", "::1");
      }
      const dir = opts.dir;
      const files = await deps.tls();
      const w = await files.createCert({
        dir,
        caCert: opts.ca ?? `${dir.replace(/\/+$/, "") || "."}/gru-ca.pem`,
        caKey: opts.caKey ?? `${dir.replace(/\/+$/, "") || "."}/gru-ca-key.pem`,
        kind,
        name,
        dnsNames: [...new Set(dnsNames)],
        ips: [...new Set(ips)],
        days: parseDays(opts.days),
        keyType: opts.keyType as TlsKeyType,
        stem: name,
      });
      const sans = [...new Set(dnsNames)].concat([...new Set(ips)]).join(", ") || "none";
      report(deps, `${kind === "node" ? "Node" : "CLI"} certificate "${name}" created`, w);
      deps.output.out(`    names:       ${sans}`);
      if (kind === "node" && ips.length === 0) {
        deps.output.err(
          "Warning: no --ip: peers reach agents by IP address, so they will refuse this " +
            "certificate unless they use one of its DNS names",
        );
      }
    });
  return new Command("cert").description("node and CLI certificates").addCommand(create);
}

/** The `tls` command. */
export function tlsCommand(deps: CliDeps) {
  return new Command("tls")
    .description("create the CA and certificates for TLS on the agent API (see docs/security.md)")
    .addCommand(caCommand(deps))
    .addCommand(certCommand(deps));
}

/**
 * The files of `gru tls`: `<dir>/gru-ca.pem` + `gru-ca-key.pem` for the CA, `<stem>.pem` +
 * `<stem>-key.pem` for node and CLI certificates. Private keys are written 0600, certificates
 * 0644; an existing file is never overwritten (nothing is written then).
 *
 * @module
 */

import type { CaCreateOptions, CertCreateOptions, TlsFiles, TlsWritten } from "../../ports/tls.ts";
import { ConflictError, ValidationError } from "../../domain/errors.ts";
import { certSummary, createCa, createLeaf, isCaCert, type PemPair } from "./certificates.ts";

/** File name stem of the CA in a `gru tls` directory. */
export const CA_STEM = "gru-ca";

function join(dir: string, file: string): string {
  return `${dir.replace(/\/+$/, "") || "/"}/${file}`.replace(/^\/\//, "/");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function readPemFile(path: string, what: string, hint: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new ValidationError(`Cannot read the ${what} ${path}: ${why} (${hint})`, { cause: err });
  }
}

/** Writes a pair: key first (0600), then the certificate (0644); on failure removes both. */
async function writePair(dir: string, stem: string, pair: PemPair): Promise<TlsWritten> {
  const cert = join(dir, `${stem}.pem`);
  const key = join(dir, `${stem}-key.pem`);
  for (const f of [cert, key]) {
    if (await exists(f)) {
      throw new ConflictError(
        `File ${f} exists: remove it or write to another --dir (nothing was written)`,
      );
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  try {
    await Deno.writeTextFile(key, pair.key, { createNew: true, mode: 0o600 });
    written.push(key);
    await Deno.chmod(key, 0o600); // whatever the umask
    await Deno.writeTextFile(cert, pair.cert, { createNew: true, mode: 0o644 });
    written.push(cert);
  } catch (err) {
    for (const f of written) await Deno.remove(f).catch(() => {});
    throw err;
  }
  const summary = await certSummary(pair.cert);
  return { cert, key, fingerprint: summary.fingerprint, notAfter: summary.notAfter.toISOString() };
}

/** `TlsFiles` on the local file system. */
export const localTlsFiles: TlsFiles = {
  async createCa(o: CaCreateOptions): Promise<TlsWritten> {
    const pair = await createCa({ name: o.name, days: o.days, keyType: o.keyType });
    return await writePair(o.dir, CA_STEM, pair);
  },

  async createCert(o: CertCreateOptions): Promise<TlsWritten> {
    const hint = "create the CA first with: gru tls ca create, or pass --ca and --ca-key";
    const ca = {
      cert: await readPemFile(o.caCert, "CA certificate", hint),
      key: await readPemFile(o.caKey, "CA key", hint),
    };
    let isCa: boolean;
    try {
      isCa = isCaCert(ca.cert);
    } catch (err) {
      throw new ValidationError(`The CA certificate ${o.caCert} is not a PEM certificate`, {
        cause: err,
      });
    }
    if (!isCa) {
      throw new ValidationError(`The certificate ${o.caCert} is not a CA (basic constraints)`);
    }
    let pair: PemPair;
    try {
      pair = await createLeaf({
        ca,
        kind: o.kind,
        name: o.name,
        dnsNames: o.dnsNames,
        ips: o.ips,
        days: o.days,
        keyType: o.keyType,
      });
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new ValidationError(`${err.message}: ${o.caKey} does not sign for ${o.caCert}`);
      }
      if (err instanceof DOMException || err instanceof TypeError) {
        throw new ValidationError(
          `Cannot sign with the CA key ${o.caKey}: ${err.message} (is it the key of ${o.caCert}?)`,
          { cause: err },
        );
      }
      throw err;
    }
    return await writePair(o.dir, o.stem, pair);
  },
};

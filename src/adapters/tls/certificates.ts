/**
 * X.509 certificates for the agent API with `@peculiar/x509` on WebCrypto: a self-signed CA,
 * and leaf certificates it signs, for nodes (serverAuth + clientAuth: an agent serves with it and
 * presents it to its peers) and for the CLI (clientAuth). Keys are ECDSA P-256 (the widest
 * support: rustls, OpenSSL, browsers, Go) or Ed25519 (rustls and OpenSSL accept it too).
 *
 * The library needs a Reflect metadata polyfill, loaded first; import this module lazily (it
 * costs start-up time and memory a command that makes no certificate must not pay).
 *
 * @module
 */

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { TlsKeyType } from "../../ports/tls.ts";
import { ValidationError } from "../../domain/errors.ts";

x509.cryptoProvider.set(crypto);

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface PemPair {
  cert: string;
  key: string;
}

/** Options of {@linkcode createCa}. */
export interface CaOptions {
  /** Common name. */
  name: string;
  /** Validity in days. */
  days: number;
  /** @default "ecdsa" */
  keyType?: TlsKeyType;
  /** Start of validity (back-dated a minute for clock skew). @default now */
  now?: Date;
}

/** Options of {@linkcode createLeaf}. */
export interface LeafOptions {
  /** The signing CA. */
  ca: PemPair;
  /** `node`: serverAuth + clientAuth; `cli`: clientAuth. */
  kind: "node" | "cli";
  /** Common name (the peer name agents see). */
  name: string;
  dnsNames: string[];
  ips: string[];
  days: number;
  /** @default "ecdsa" */
  keyType?: TlsKeyType;
  /** @default now */
  now?: Date;
}

const DAY_MS = 86_400_000;
const SKEW_MS = 60_000;

function algorithm(keyType: TlsKeyType): EcKeyGenParams & EcdsaParams | Algorithm {
  return keyType === "ed25519"
    ? { name: "Ed25519" }
    : { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as EcKeyGenParams & EcdsaParams;
}

function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, never a leading zero byte
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function distinguishedName(cn: string): string {
  return new x509.Name([{ "2.5.4.3": [cn] }]).toString();
}

async function generate(keyType: TlsKeyType): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(algorithm(keyType), true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** Imports a PKCS#8 PEM private key of either supported type. */
async function importKey(pem: string, cert: x509.X509Certificate): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  const alg = cert.publicKey.algorithm as { name: string; namedCurve?: string };
  const params: EcKeyImportParams | Algorithm = alg.name === "ECDSA"
    ? { name: "ECDSA", namedCurve: alg.namedCurve ?? "P-256" }
    : { name: alg.name };
  return await crypto.subtle.importKey("pkcs8", der, params, false, ["sign"]);
}

function validity(now: Date | undefined, days: number): { notBefore: Date; notAfter: Date } {
  const t = (now ?? new Date()).getTime();
  return { notBefore: new Date(t - SKEW_MS), notAfter: new Date(t + days * DAY_MS) };
}

/** Creates a self-signed CA certificate (path length 0: it signs leaves only). */
export async function createCa(o: CaOptions): Promise<PemPair> {
  const keyType = o.keyType ?? "ecdsa";
  const keys = await generate(keyType);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(o.name),
    ...validity(o.now, o.days),
    keys,
    signingAlgorithm: algorithm(keyType),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

/** Creates a node or CLI certificate signed by `o.ca`. */
export async function createLeaf(o: LeafOptions): Promise<PemPair> {
  const keyType = o.keyType ?? "ecdsa";
  const caCert = new x509.X509Certificate(o.ca.cert);
  const caKey = await importKey(o.ca.key, caCert);
  const keys = await generate(keyType);
  const names: x509.JsonGeneralName[] = [
    ...o.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...o.ips.map((value) => ({ type: "ip" as const, value })),
  ];
  const usages = o.kind === "node"
    ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
    : [x509.ExtendedKeyUsage.clientAuth];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(o.name),
    issuer: caCert.subject,
    ...validity(o.now, o.days),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: algorithm(caKeyType(caCert)),
    extensions,
  });
  if (!(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }))) {
    throw new ValidationError("The CA key does not belong to the CA certificate");
  }
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

function caKeyType(cert: x509.X509Certificate): TlsKeyType {
  return cert.publicKey.algorithm.name === "Ed25519" ? "ed25519" : "ecdsa";
}

/** The SHA-256 fingerprint (colon-separated upper-case hex) and end of validity of a PEM cert. */
export async function certSummary(pem: string): Promise<{ fingerprint: string; notAfter: Date }> {
  const cert = new x509.X509Certificate(pem);
  const digest = new Uint8Array(await cert.getThumbprint("SHA-256"));
  const fingerprint = [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase())
    .join(":");
  return { fingerprint, notAfter: cert.notAfter };
}

/** Whether `pem` is a CA certificate (basic constraints cA = true). */
export function isCaCert(pem: string): boolean {
  const cert = new x509.X509Certificate(pem);
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

/**
 * Certificates for the agent API (`gru tls`): what the CLI asks for and what it gets back. The
 * composition root implements {@linkcode TlsFiles} with `@peculiar/x509` on WebCrypto
 * (`src/adapters/tls/`), loaded only when a `gru tls` command runs.
 *
 * @module
 */

/** Key algorithm of a new key pair. */
export type TlsKeyType = "ecdsa" | "ed25519";

/** Options of {@linkcode TlsFiles.createCa}. */
export interface CaCreateOptions {
  /** Directory the files go to (created when missing). */
  dir: string;
  /** Common name of the CA. */
  name: string;
  /** Validity in days. */
  days: number;
  keyType: TlsKeyType;
}

/** Options of {@linkcode TlsFiles.createCert}. */
export interface CertCreateOptions {
  /** Directory the files go to (created when missing). */
  dir: string;
  /** The CA certificate (PEM file). */
  caCert: string;
  /** The CA private key (PEM file). */
  caKey: string;
  /**
   * `node`: server and client certificate of an agent (serverAuth + clientAuth);
   * `cli`: client certificate of the CLI (clientAuth only).
   */
  kind: "node" | "cli";
  /** Common name: the node name (what agents see as the peer's name), or the CLI user's. */
  name: string;
  /** DNS names in the subject alternative names (the node name is added for `node`). */
  dnsNames: string[];
  /** IP addresses in the subject alternative names. */
  ips: string[];
  /** Validity in days. */
  days: number;
  keyType: TlsKeyType;
  /** File name stem: `<stem>.pem` and `<stem>-key.pem`. */
  stem: string;
}

/** The files a `gru tls` command wrote. */
export interface TlsWritten {
  /** The certificate (PEM, mode 0644). */
  cert: string;
  /** The private key (PEM, PKCS#8, mode 0600). */
  key: string;
  /** SHA-256 fingerprint of the certificate, colon-separated hex. */
  fingerprint: string;
  /** Last day of validity (ISO date-time). */
  notAfter: string;
}

/** Creates CA and node/CLI certificates as files; never overwrites an existing file. */
export interface TlsFiles {
  createCa(options: CaCreateOptions): Promise<TlsWritten>;
  createCert(options: CertCreateOptions): Promise<TlsWritten>;
}

/** PEM files for TLS on the agent API: where the agent and the CLI find them. */
export interface TlsPaths {
  /** CA certificate that signs peers (agents require client certificates when set). */
  ca?: string | undefined;
  /** This side's certificate. */
  cert?: string | undefined;
  /** This side's private key. */
  key?: string | undefined;
}

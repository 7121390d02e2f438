/**
 * Who may use the console, decided without I/O: whether an address is loopback (no login there),
 * which `Host` headers a loopback console answers (against DNS rebinding), the CSRF check of
 * state-changing requests (JSON content type and same origin), the login sessions (random ids in
 * an HttpOnly, SameSite=Strict, Secure cookie, bounded in number and lifetime), and a bounded
 * per-address limit on failed logins.
 *
 * @module
 */

/** Name of the session cookie. */
export const SESSION_COOKIE = "gru_console";
/** How long a session lives, in seconds (12 hours). */
export const SESSION_SECONDS = 43_200;

/**
 * Whether a listen host (or a URL hostname) is a loopback address: `localhost`, 127.0.0.0/8,
 * `::1` (bracketed or not).
 *
 * @param host A host name or IP, without port.
 * @returns True for loopback.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./auth.ts";
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("0.0.0.0"); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Splits `HOST:PORT` (IPv6 in brackets) of `--listen`.
 *
 * @param listen The option value.
 * @returns The host and port, or a message saying what was expected.
 */
export function parseListen(listen: string): { host: string; port: number } | { error: string } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    return { error: `expected HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)` };
  }
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

/** The host part of a `Host` header (`name:port`, `[v6]:port`, or a bare name). */
export function hostOfHeader(header: string): string {
  const h = header.trim();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon < 0 ? h : h.slice(0, colon);
}

/**
 * Whether a loopback console answers a request with this `Host` header: only a loopback name,
 * so a page of another site whose name was re-pointed at 127.0.0.1 (DNS rebinding) gets nothing.
 *
 * @param header The `Host` header (absent: refused).
 * @returns True when the request may go on.
 */
export function loopbackHostAllowed(header: string | undefined | null): boolean {
  return typeof header === "string" && isLoopbackHost(hostOfHeader(header));
}

/** What the CSRF check looks at. */
export interface CsrfInput {
  method: string;
  contentType: string | null;
  origin: string | null;
  secFetchSite: string | null;
  /** The server's own origin as the request reached it: `https://host:port`. */
  selfOrigin: string;
}

/**
 * The CSRF check of a state-changing request (POST, PUT, PATCH, DELETE): a JSON content type
 * (which a cross-site form cannot send without a preflight) and the same origin (an `Origin`
 * equal to the server's own, or, without one, `Sec-Fetch-Site: same-origin`). Reads pass.
 *
 * @param r The request's method and headers, and the server's origin.
 * @returns `undefined` when allowed, else the HTTP status (415 or 403) and why.
 *
 * @example
 * ```ts
 * import { csrfProblem } from "./auth.ts";
 * csrfProblem({ method: "POST", contentType: "text/plain", origin: null, secFetchSite: null,
 *   selfOrigin: "https://c:8443" })?.status; // 415
 * ```
 */
export function csrfProblem(r: CsrfInput): { status: 403 | 415; error: string } | undefined {
  const m = r.method.toUpperCase();
  if (m === "GET" || m === "HEAD" || m === "OPTIONS") return undefined;
  const type = (r.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    return { status: 415, error: "expected content-type: application/json" };
  }
  if (r.origin !== null) {
    if (r.origin.toLowerCase() === r.selfOrigin.toLowerCase()) return undefined;
    return { status: 403, error: "expected a same-origin request (Origin differs)" };
  }
  if (r.secFetchSite === "same-origin") return undefined;
  return { status: 403, error: "expected a same-origin request (no Origin header)" };
}

/**
 * Compares two secrets in time that depends on their lengths only.
 *
 * @param a One secret.
 * @param b The other.
 * @returns Whether they are equal.
 */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** A logged-in session. */
export interface Session {
  user: "token" | "password";
  /** The token given at login (token sessions), re-checked against the clusters' tokens. */
  token?: string | undefined;
  /** Milliseconds since the epoch. */
  expires: number;
}

/** The sessions of one console process, bounded in number (the oldest goes first). */
export class Sessions {
  #items = new Map<string, Session>();
  #max: number;
  #now: () => number;
  #random: (bytes: number) => Uint8Array;

  constructor(
    options: { max?: number; now: () => number; random: (bytes: number) => Uint8Array },
  ) {
    this.#max = options.max ?? 1000;
    this.#now = options.now;
    this.#random = options.random;
  }

  /** How many sessions are held. */
  get size(): number {
    return this.#items.size;
  }

  /** Opens a session; returns its id (256 random bits, base64url). */
  open(user: Session["user"], token?: string): string {
    for (const [id, s] of this.#items) if (s.expires <= this.#now()) this.#items.delete(id);
    while (this.#items.size >= this.#max) this.#items.delete(this.#items.keys().next().value!);
    const id = btoa(String.fromCharCode(...this.#random(32)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    this.#items.set(id, { user, token, expires: this.#now() + SESSION_SECONDS * 1000 });
    return id;
  }

  /** The live session of a cookie value, if any (an expired one is dropped). */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#items.get(id);
    if (!s) return undefined;
    if (s.expires <= this.#now()) {
      this.#items.delete(id);
      return undefined;
    }
    return s;
  }

  /** Ends a session. */
  close(id: string | undefined): void {
    if (id) this.#items.delete(id);
  }
}

/**
 * Failed logins per client address: at most `max` in a sliding `windowMs`; further attempts are
 * refused until the window passes. At most `maxAddresses` addresses are tracked.
 */
export class LoginLimiter {
  #failures = new Map<string, number[]>();
  #max: number;
  #windowMs: number;
  #maxAddresses: number;
  #now: () => number;

  constructor(
    options: { max?: number; windowMs?: number; maxAddresses?: number; now: () => number },
  ) {
    this.#max = options.max ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#now = options.now;
  }

  #recent(address: string): number[] {
    const from = this.#now() - this.#windowMs;
    const list = (this.#failures.get(address) ?? []).filter((t) => t > from);
    if (list.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, list);
    return list;
  }

  /** Whether this address may try to log in now. */
  allowed(address: string): boolean {
    return this.#recent(address).length < this.#max;
  }

  /** Counts a failed login. */
  failed(address: string): void {
    const list = this.#recent(address);
    if (!this.#failures.has(address) && this.#failures.size >= this.#maxAddresses) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
    list.push(this.#now());
    this.#failures.set(address, list);
  }
}

/**
 * The `Set-Cookie` value of a session (or of its removal with `id` undefined).
 *
 * @param id The session id, or undefined to clear the cookie.
 * @returns The header value.
 */
export function sessionCookie(id: string | undefined): string {
  const base = `${SESSION_COOKIE}=${id ?? ""}; HttpOnly; SameSite=Strict; Secure; Path=/`;
  return `${base}; Max-Age=${id === undefined ? 0 : SESSION_SECONDS}`;
}

/**
 * The session id of a `Cookie` header.
 *
 * @param header The header, if any.
 * @returns The value of the session cookie, if present.
 */
export function sessionIdOf(header: string | null | undefined): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === "" ? undefined : value;
    }
  }
  return undefined;
}

/**
 * The cluster token an agent holds in force: read from the store at start-up and every few
 * seconds after, it answers whether a presented token is accepted (the current one, or the
 * previous one until its grace period ends) and why none is in force when the agent must refuse
 * everything (fail closed).
 *
 * States, and what the agent does in each:
 *
 * | state                                   | mutating routes, gossip, internal reads | log          |
 * |-----------------------------------------|-----------------------------------------|--------------|
 * | token in force                          | need it (401 without)                   | info on entry |
 * | never read, key absent, key empty        | 503 with the reason and the fix        | error, once per change |
 * | read fails after a token was in force   | keep the last token                     | warning, once |
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../domain/clock.ts";
import { errorMessage } from "../domain/errors.ts";
import { escapeControl } from "../domain/excerpt.ts";
import type { ClusterTokens } from "../cluster/tokens.ts";
import { clusterKeys } from "../cluster/keys.ts";

const log = getLogger(["gru", "agent", "token"]);

/** What `/health` reports about the token. */
export interface TokenStatus {
  /** A token is in force: authenticated requests can succeed. */
  ok: boolean;
  /** Why no token is in force, and how to fix it. */
  error?: string | undefined;
  /** The last read failed but the token read before stays in force. */
  warning?: string | undefined;
  /** Until when (ISO 8601) the previous token is still accepted after a rotation. */
  previousUntil?: string | undefined;
}

/** What the API needs to check a presented token. */
export interface TokenAuth {
  /** Whether a token is in force, and why not. */
  status(): TokenStatus;
  /** Whether `token` is accepted now (current, or previous within its grace). */
  accepts(token: string): boolean;
  /**
   * Reads the tokens again (rate-limited) and checks `token` once more: a client that learnt
   * of a rotation before this agent did is not refused.
   */
  recheck?(token: string): Promise<boolean>;
}

/** Options of `TokenKeeper`. */
export interface TokenKeeperOptions {
  /** The cluster (for messages). */
  cluster: string;
  /** Reads the stored tokens; throws when they cannot be read. */
  read: () => Promise<ClusterTokens>;
  clock: Clock;
  /** Milliseconds between two background reads. @default 5000 */
  refreshMs?: number;
  /** Fewest milliseconds between two reads caused by an unknown token. @default 1000 */
  minRereadMs?: number;
}

function equal(a: string, b: string): boolean {
  // Constant time for equal lengths; the length of a token is no secret worth hiding.
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Holds the token in force and keeps it fresh. */
export class TokenKeeper implements TokenAuth {
  readonly #o: Required<TokenKeeperOptions>;
  #current: string | undefined;
  #previous: { token: string; until: number } | undefined;
  #error: string | undefined = "the token has not been read yet";
  #warning: string | undefined;
  #lastRead = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: TokenKeeperOptions) {
    this.#o = { refreshMs: 5000, minRereadMs: 1000, ...options };
  }

  /** The current token (what this agent sends to its peers), if one is in force. */
  current(): string | undefined {
    return this.#error === undefined ? this.#current : undefined;
  }

  /** Whether `token` is accepted now. */
  accepts(token: string): boolean {
    if (this.#error !== undefined || this.#current === undefined || token === "") return false;
    if (equal(token, this.#current)) return true;
    const p = this.#previous;
    return p !== undefined && this.#o.clock.now() < p.until && equal(token, p.token);
  }

  /** Whether a token is in force, and why not. */
  status(): TokenStatus {
    const p = this.#previous;
    const inGrace = p !== undefined && this.#o.clock.now() < p.until;
    return {
      ok: this.#error === undefined,
      ...(this.#error !== undefined ? { error: this.#error } : {}),
      ...(this.#warning !== undefined ? { warning: this.#warning } : {}),
      ...(inGrace && this.#error === undefined
        ? { previousUntil: new Date(p.until).toISOString() }
        : {}),
    };
  }

  /**
   * Checks `token` after a read that started no earlier than this call, so a token written
   * before the call is seen. Reads are at most one per `minRereadMs` (a caller may wait that
   * long); callers waiting at the same time share one read.
   */
  async recheck(token: string): Promise<boolean> {
    const clock = this.#o.clock;
    const arrived = clock.now();
    if (this.#reading !== undefined) await this.#reading;
    if (this.#lastRead < arrived) {
      const wait = this.#lastRead + this.#o.minRereadMs - clock.now();
      if (wait > 0) await clock.sleep(wait, this.#abort.signal).catch(() => {});
      if (this.#lastRead < arrived) await this.refresh();
      else await this.#reading;
    }
    return this.accepts(token);
  }

  /** Reads the tokens once (concurrent calls share one read). Never throws. */
  refresh(): Promise<void> {
    this.#reading ??= this.#read().finally(() => this.#reading = undefined);
    return this.#reading;
  }

  /** Reads now, then every `refreshMs` until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
    const signal = this.#abort.signal;
    this.#loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.#o.clock.sleep(this.#o.refreshMs, signal);
        } catch {
          return;
        }
        await this.refresh();
      }
    })();
  }

  /** Stops the background reads. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    await this.#loop;
    await this.#reading;
  }

  async #read(): Promise<void> {
    const key = clusterKeys(this.#o.cluster).token;
    const fix = `create one with "gru token rotate ${this.#o.cluster}"`;
    this.#lastRead = this.#o.clock.now();
    let tokens: ClusterTokens;
    try {
      tokens = await this.#o.read();
    } catch (err) {
      const reason = escapeControl(errorMessage(err)).slice(0, 200);
      if (this.#current !== undefined && this.#error === undefined) {
        this.#setWarning(`${key} could not be read again (${reason}); the token read before stays`);
      } else {
        this.#setError(
          `this agent has no cluster token (${key} could not be read: ${reason}); ` +
            `check the agent's etcd access, or ${fix}`,
        );
      }
      return;
    }
    this.#setWarning(tokens.problem);
    const current = tokens.current?.trim();
    if (current === undefined || current === "") {
      this.#current = undefined;
      this.#previous = undefined;
      const why = current === undefined ? "does not exist" : "is empty";
      this.#setError(`this agent has no cluster token (${key} ${why}); ${fix}`);
      return;
    }
    const rotated = this.#current !== undefined && this.#current !== current;
    this.#current = current;
    this.#previous = tokens.previous;
    const recovered = this.#error !== undefined;
    this.#error = undefined;
    if (recovered) log.info("Cluster token in force: authenticated requests are accepted again");
    if (rotated) {
      const p = this.#previous;
      if (p && this.#o.clock.now() < p.until) {
        log.info("Cluster token rotated; the previous one is accepted until {until}", {
          until: new Date(p.until).toISOString(),
        });
      } else log.info("Cluster token rotated; the previous one is no longer accepted");
    }
  }

  #setError(error: string): void {
    if (error !== this.#error) {
      log.error("Refusing every authenticated request: {error}", { error });
    }
    this.#error = error;
    this.#warning = undefined;
  }

  #setWarning(warning: string | undefined): void {
    if (warning !== undefined && warning !== this.#warning) log.warn("{warning}", { warning });
    this.#warning = warning;
  }
}

/**
 * A fixed token source (tests, and callers that hold a token themselves): `token()` is asked
 * on every request; undefined or empty means no token in force.
 *
 * @param cluster The cluster (for the message).
 * @param token Returns the token.
 * @returns A `TokenAuth`.
 */
export function fixedTokenAuth(cluster: string, token: () => string | undefined): TokenAuth {
  return {
    status: () =>
      token() ? { ok: true } : {
        ok: false,
        error: `this agent has no cluster token (${clusterKeys(cluster).token} does not ` +
          `exist); create one with "gru token rotate ${cluster}"`,
      },
    accepts: (given) => {
      const t = token();
      return t !== undefined && t !== "" && given !== "" && equal(given, t);
    },
  };
}

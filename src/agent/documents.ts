/**
 * The cluster documents an agent holds in force: its configuration, the policy, the services,
 * the analytics, and this node's constraints. A reload reads every document it names one by
 * one: a document that does not parse or validate keeps its last good version in force (or,
 * with none, the defaults for the configuration and policy, nothing for a service or an
 * analytic) and is reported in `problems` (shown by `/health` and `gru status`) until a reload
 * reads a good one. An unreachable store changes nothing and throws.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { CheckedDocument, ClusterStore } from "../cluster/cluster_store.ts";
import { clusterKeys } from "../cluster/keys.ts";
import { defaultAgentConfig, defaultPolicyConfig } from "../config/documents.ts";
import { errorMessage, NotFoundError, ValidationError } from "../domain/errors.ts";
import { excerpt } from "../domain/excerpt.ts";
import type {
  AgentConfig,
  Analytic,
  NodeConstraints,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";

const log = getLogger(["gru", "agent", "documents"]);

/** What `reload` can read again. */
export type DocumentKind = "all" | "agent" | "services" | "policy" | "analytics";

/** A document in the store that was refused, and what is in force instead. */
export interface DocumentProblem {
  /** `agent`, `policy`, `service <name>` or `analytic <name>`. */
  document: string;
  /** Its key in the store. */
  key: string;
  /** Why it was refused (names the key and the JSON path). */
  error: string;
  /** What is in force instead: its last good version, the defaults, or nothing. */
  inForce: "last good" | "defaults" | "none";
}

type Loaded<T> = { value: T } | { error: string };

/** Reads a single document, turning a refused one into its error (store errors still throw). */
async function checked<T>(read: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { value: await read() };
  } catch (err) {
    if (err instanceof ValidationError) return { error: err.message };
    throw err;
  }
}

/** The documents in force. */
export class AgentDocuments {
  #store: ClusterStore;
  #cluster: string;
  #problems = new Map<string, DocumentProblem>();
  #goodConfig = false;
  #goodPolicy = false;
  config: AgentConfig = defaultAgentConfig();
  policy: PolicyConfig = defaultPolicyConfig();
  services: ReadonlyMap<string, ServiceDescriptor> = new Map();
  analytics: ReadonlyMap<string, Analytic> = new Map();
  constraints: NodeConstraints = { cpuMin: 0, cpuMax: 0, baseServices: [] };
  /** Whether every document was read once. */
  loaded = false;
  /** Why the last read failed (store unreachable), until one succeeds. */
  error: string | undefined;
  /**
   * Called after a reload put a new agent configuration in force (the composition root
   * rebuilds what depends on it, such as the Docker engine client). Its failure is logged.
   */
  onConfig: ((next: AgentConfig, previous: AgentConfig) => Promise<void>) | undefined;
  /** Called after every successful read of the store (to refresh the local cache). */
  onLoaded: (() => Promise<void>) | undefined;

  constructor(store: ClusterStore, cluster: string) {
    this.#store = store;
    this.#cluster = cluster;
  }

  /** Documents refused at the last reload of their kind, sorted by document. */
  get problems(): DocumentProblem[] {
    return [...this.#problems.values()].sort((a, b) => a.document.localeCompare(b.document));
  }

  /** Reads every document, keeping the error (for health) instead of throwing it. */
  async tryLoad(): Promise<boolean> {
    try {
      await this.reload("all");
      return true;
    } catch (err) {
      this.error = errorMessage(err);
      return false;
    }
  }

  /**
   * Reads `what` again, document by document. A refused document is reported in `problems`
   * and leaves its last good version in force; a store error changes nothing and is thrown.
   *
   * @returns The kinds read.
   */
  async reload(what: DocumentKind): Promise<string[]> {
    const changed = await this.#read(what, this.#store);
    if (what === "all") this.loaded = true;
    this.error = undefined;
    await this.onLoaded?.().catch((err) =>
      log.warn("Cannot cache the documents: {error}", { error: errorMessage(err) })
    );
    return changed;
  }

  /**
   * Puts in force the documents of another store (the local cache, when etcd is unreachable at
   * start). `loaded` stays false, so the agent keeps trying the real store.
   */
  async loadFrom(store: ClusterStore): Promise<void> {
    await this.#read("all", store);
  }

  async #read(what: DocumentKind, s: ClusterStore): Promise<string[]> {
    const c = this.#cluster;
    const want = (x: string) => what === "all" || what === x;
    const [config, policy, services, analytics] = await Promise.all([
      want("agent") ? checked(() => s.getConfig(c)) : undefined,
      want("policy") ? checked(() => s.getPolicy(c)) : undefined,
      want("services") ? s.checkServices(c) : undefined,
      want("analytics") ? s.checkAnalytics(c) : undefined,
    ]);
    const keys = clusterKeys(c);
    const changed: string[] = [];
    const previous = this.config;
    if (config) {
      this.#forget((d) => d === "agent");
      if ("value" in config) (this.config = config.value, this.#goodConfig = true);
      else this.#refuse("agent", keys.config, config.error, this.#goodConfig);
      changed.push("agent");
    }
    if (policy) {
      this.#forget((d) => d === "policy");
      if ("value" in policy) (this.policy = policy.value, this.#goodPolicy = true);
      else this.#refuse("policy", keys.policy, policy.error, this.#goodPolicy);
      changed.push("policy");
    }
    if (services) {
      this.services = this.#each("service", services, this.services);
      changed.push("services");
    }
    if (analytics) {
      this.analytics = this.#each("analytic", analytics, this.analytics);
      changed.push("analytics");
    }
    if (config && "value" in config && this.onConfig) {
      await this.onConfig(this.config, previous).catch((err) =>
        log.error("Cannot apply the new agent configuration: {error}", {
          error: errorMessage(err),
        })
      );
    }
    return changed;
  }

  /** Merges documents read one by one: good ones replace, refused ones keep their last good. */
  #each<T extends { name: string }>(
    kind: "service" | "analytic",
    docs: CheckedDocument<T>[],
    before: ReadonlyMap<string, T>,
  ): Map<string, T> {
    this.#forget((d) => d.startsWith(`${kind} `));
    const next = new Map<string, T>();
    for (const d of docs) {
      if (d.value !== undefined) {
        next.set(d.value.name, d.value);
        continue;
      }
      const last = before.get(d.name);
      if (last) next.set(d.name, last);
      this.#refuse(`${kind} ${d.name}`, d.key, d.error ?? "refused", last !== undefined);
    }
    return next;
  }

  #forget(which: (document: string) => boolean): void {
    for (const d of [...this.#problems.keys()]) if (which(d)) this.#problems.delete(d);
  }

  #refuse(document: string, key: string, error: string, hadGood: boolean): void {
    const inForce = hadGood
      ? "last good"
      : document === "agent" || document === "policy"
      ? "defaults"
      : "none";
    this.#problems.set(document, { document, key, error, inForce });
    log.error("Refused {document} ({key}); {inForce} in force: {error}", {
      document,
      key,
      error,
      inForce: inForce === "none" ? "nothing" : `its ${inForce}`,
    });
  }

  /** Reads one service's constraints again. */
  async reloadConstraints(name: string): Promise<void> {
    const s = this.service(name);
    const fresh = await this.#store.getService(this.#cluster, s.name);
    if (!fresh) throw new NotFoundError(`Service ${s.name} is no longer in the store`);
    this.services = new Map(this.services).set(s.name, { ...s, constraints: fresh.constraints });
  }

  /** The service in force called `name`; a clear error names the known ones otherwise. */
  service(name: unknown): ServiceDescriptor {
    if (typeof name !== "string" || name === "") {
      throw new ValidationError(`Expected a service name, found ${excerpt(name)}`);
    }
    const s = this.services.get(name);
    if (!s) {
      const known = [...this.services.keys()].join(", ") || "none";
      throw new NotFoundError(`Unknown service ${excerpt(name)}: known services are ${known}`);
    }
    return s;
  }
}

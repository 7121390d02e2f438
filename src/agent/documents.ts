/**
 * The cluster documents an agent holds in force: its configuration, the policy, the services,
 * the analytics, and this node's constraints. A reload reads every document it names and checks
 * them all before any replaces the one in force: a rejected document leaves the previous one.
 *
 * @module
 */

import type { ClusterStore } from "../cluster/cluster_store.ts";
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

/** What `reload` can read again. */
export type DocumentKind = "all" | "agent" | "services" | "policy" | "analytics";

/** The documents in force. */
export class AgentDocuments {
  #store: ClusterStore;
  #cluster: string;
  config: AgentConfig = defaultAgentConfig();
  policy: PolicyConfig = defaultPolicyConfig();
  services: ReadonlyMap<string, ServiceDescriptor> = new Map();
  analytics: ReadonlyMap<string, Analytic> = new Map();
  constraints: NodeConstraints = { cpuMin: 0, cpuMax: 0, baseServices: [] };
  /** Whether every document was read once. */
  loaded = false;
  /** Why the last read failed, until one succeeds. */
  error: string | undefined;

  constructor(store: ClusterStore, cluster: string) {
    this.#store = store;
    this.#cluster = cluster;
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

  /** Reads `what` again; on any error nothing changes and the error is thrown. */
  async reload(what: DocumentKind): Promise<string[]> {
    const s = this.#store;
    const c = this.#cluster;
    const want = (x: string) => what === "all" || what === x;
    const [config, policy, services, analytics] = await Promise.all([
      want("agent") ? s.getConfig(c) : undefined,
      want("policy") ? s.getPolicy(c) : undefined,
      want("services") ? s.listServices(c) : undefined,
      want("analytics") ? s.listAnalytics(c) : undefined,
    ]);
    const changed: string[] = [];
    if (config) (this.config = config, changed.push("agent"));
    if (policy) (this.policy = policy, changed.push("policy"));
    if (services) {
      this.services = new Map(services.map((x) => [x.name, x]));
      changed.push("services");
    }
    if (analytics) {
      this.analytics = new Map(analytics.map((x) => [x.name, x]));
      changed.push("analytics");
    }
    if (what === "all") this.loaded = true;
    this.error = undefined;
    return changed;
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

/**
 * The agent, one per node: a facade over the parts `src/app/agent_wiring.ts` builds. It starts
 * and stops them, keeps the node registered, retries etcd and Docker while they are away,
 * reports health, and serves what the API and the CLI ask for. It wires nothing itself.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../domain/clock.ts";
import type { AgentCommand, CommandResult } from "../domain/commands.ts";
import { errorMessage, ValidationError } from "../domain/errors.ts";
import type {
  AgentConfig,
  Analytic,
  Instance,
  NodeConstraints,
  NodeDesiredState,
  NodeRecord,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import { runCommand } from "./commands.ts";
import type { AgentDocuments, DocumentProblem } from "./documents.ts";
import type { Discovery } from "./discovery.ts";
import type { InstanceManager } from "./executor/instances.ts";
import type { Gossiper } from "./gossip/gossiper.ts";
import type { GossipMessage, NodeShare } from "./gossip/types.ts";
import type { AutonomicLoop } from "./loop.ts";
import type { Membership } from "./membership.ts";
import type { Monitor } from "./monitor/monitor.ts";
import type { DecisionLog, DecisionRecord, LastTick } from "./record/decisions.ts";
import type { HistoryQuery, ServiceHistory } from "./record/history.ts";
import type { NodeRegistration } from "./registration.ts";
import type { NodeState, NodeStateView } from "./node_state.ts";

const log = getLogger(["gru", "agent"]);

/** Who this agent is. */
export interface AgentIdentity {
  cluster: string;
  name: string;
  uuid: string;
  /** `http://<ip>:<port>` of the API. */
  address: string;
  hostIp: string;
  /** This node's gossip public key (base64url), published in its node record. */
  publicKey?: string | undefined;
}

/** What the agent is made of (built by the composition root). */
export interface AgentParts {
  identity: AgentIdentity;
  clock: Clock;
  documents: AgentDocuments;
  instances: InstanceManager;
  monitor: Monitor;
  loop: AutonomicLoop;
  decisions: DecisionLog;
  registration: NodeRegistration;
  membership: Membership;
  discovery: Discovery;
  /** Absent: the agent plans as a cluster of one. */
  gossiper?: Gossiper | undefined;
  /** Start the autonomic loop at once (as if `start agent` had been received). */
  activate: boolean;
  /** The node's desired state (constraints, active), restored at start. */
  nodeState: NodeState;
  history?: ServiceHistory | undefined;
}

/** A service with this node's instances. */
export interface ServiceView extends ServiceDescriptor {
  instances: Instance[];
}

/** Health of the agent and its dependencies. */
export interface Health {
  status: "ok" | "degraded";
  node: string;
  cluster: string;
  registered: boolean;
  store: { ok: boolean; error?: string | undefined };
  docker: { ok: boolean; error?: string | undefined };
  /** Documents refused by the last reload (their last good version, or defaults, in force). */
  documents: { ok: boolean; problems: DocumentProblem[] };
  /** Whether the autonomic loop runs. */
  active: boolean;
  /** What the last start/stop request asked for, and whether the loop died against it. */
  loop?: { wanted: boolean; running: boolean; error?: string | undefined };
  uptimeSeconds: number;
}

/** This node's gossip state, as `GET /gru/v1/gossip` shows it. */
export interface GossipState {
  self: string;
  members: string[];
  entries: NodeShare[];
  stats: Gossiper["stats"] | undefined;
  partitioned: string | undefined;
}

/** The agent. */
export class Agent {
  readonly identity: AgentIdentity;
  /** The parts, for the composition root and tests; the API sees only the methods below. */
  readonly parts: AgentParts;
  /** What the last `start agent`/`stop agent` asked for; the loop follows it (`#setActive`). */
  #active = false;
  /** Activation requests, applied one at a time in arrival order. */
  #activation: Promise<void> = Promise.resolve();
  #dockerError: string | undefined = "not checked yet";
  #startedAt: number;
  #abort = new AbortController();
  #background: Promise<void> | undefined;

  constructor(parts: AgentParts) {
    this.parts = parts;
    this.identity = parts.identity;
    this.#startedAt = parts.clock.now();
  }

  /** The agent configuration in force. */
  get config(): AgentConfig {
    return this.parts.documents.config;
  }

  /** The policy in force. */
  get policy(): PolicyConfig {
    return this.parts.documents.policy;
  }

  /** Services in force, by name. */
  get services(): ReadonlyMap<string, ServiceDescriptor> {
    return this.parts.documents.services;
  }

  /** Analytics in force, by name. */
  get analytics(): ReadonlyMap<string, Analytic> {
    return this.parts.documents.analytics;
  }

  /**
   * Whether the autonomic loop runs (the truth, not the last request: a loop still finishing
   * its last tick after `stop agent`, or one that died, is not active).
   */
  get active(): boolean {
    return this.parts.loop.running;
  }

  /** The node's constraints (a copy). */
  get constraints(): NodeConstraints {
    const c = this.parts.documents.constraints;
    return { ...c, baseServices: [...c.baseServices] };
  }

  /** Whether the node is registered in the store. */
  get registered(): boolean {
    return this.parts.registration.registered;
  }

  /**
   * Starts: loads the documents and adopts the engine's containers (retrying in the background
   * while etcd or Docker are away), and registers the node.
   */
  async start(): Promise<void> {
    const p = this.parts;
    await Promise.allSettled([p.documents.tryLoad(), this.#tryInitDocker(), p.nodeState.restore()]);
    if (p.activate) await p.nodeState.set({ active: true });
    p.documents.constraints = p.nodeState.constraints;
    if (p.documents.error) {
      log.warn("Cannot load the cluster configuration: {error}", { error: p.documents.error });
    }
    p.registration.start();
    p.monitor.start();
    p.membership.start();
    p.gossiper?.start();
    this.#background = this.#retryLoop();
    if (p.nodeState.state.active) await this.#setActive(true);
  }

  /** Stops: deactivates, revokes the node lease; containers keep running. */
  async stop(): Promise<void> {
    const p = this.parts;
    this.#abort.abort(new Error("stopped"));
    if (this.#active) await this.#setActive(false).catch(() => {});
    await p.loop.stop();
    await this.#background?.catch(() => {});
    await p.gossiper?.stop();
    await p.membership.stop();
    await p.monitor.stop();
    await p.discovery.close().catch(() => {});
    await p.registration.stop();
  }

  /** Resolves once the node is registered (for CLI feedback and tests). */
  waitRegistered(ms: number): Promise<void> {
    return this.parts.registration.waitRegistered(ms);
  }

  /** Publishes this node's instances for discovery. */
  syncDiscovery(): void {
    const d = this.parts.documents;
    this.parts.discovery.sync(this.parts.instances.list(), d.services, {
      appRoot: d.config.discovery.appRoot,
      ttl: d.config.discovery.ttl,
    });
  }

  async #retryLoop(): Promise<void> {
    const { clock, documents } = this.parts;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await clock.sleep(2000, signal);
      } catch {
        return;
      }
      if (!documents.loaded && !await documents.tryLoad()) {
        log.warn("Cannot load the cluster configuration: {error}", { error: documents.error });
      }
      if (this.#dockerError) await this.#tryInitDocker();
      else this.syncDiscovery();
      if (this.parts.nodeState.needsSync && await this.parts.nodeState.sync()) {
        await this.#desire({}).catch(() => {});
      }
      const died = this.parts.loop.died;
      if (this.#active && !this.parts.loop.running && died !== undefined) {
        log.warn("The autonomic loop died ({error}); restarting it", { error: died });
        await this.#setActive(true).catch(() => {});
      }
    }
  }

  /**
   * The composition root swapped the Docker engine (its address or TLS changed): adopts the
   * new engine's containers, or reports it unavailable and retries like at start.
   */
  async engineChanged(): Promise<void> {
    this.#dockerError = "engine changed, not checked yet";
    await this.#tryInitDocker();
  }

  async #tryInitDocker(): Promise<void> {
    try {
      await this.parts.instances.init();
      if (this.#dockerError) log.info("Docker engine reachable");
      this.#dockerError = undefined;
      await this.parts.registration.update().catch(() => {});
    } catch (err) {
      const msg = errorMessage(err);
      if (msg !== this.#dockerError) log.warn("Docker engine unavailable: {error}", { error: msg });
      this.#dockerError = msg;
    }
  }

  /**
   * Start or stop of the loop, serialized: each request records what it wants and queues a
   * transition; a transition brings the loop to the latest request's state (so the last request
   * wins, and one overtaken by a later one does nothing), then publishes the node record, which
   * reads the loop's real state. A `start agent` arriving while a stop waits for a slow tick
   * thus starts the loop after that tick instead of being lost.
   */
  #setActive(active: boolean): Promise<void> {
    this.#active = active;
    const next = this.#activation.then(() => this.#applyActive());
    this.#activation = next.catch(() => {});
    return next;
  }

  async #applyActive(): Promise<void> {
    const loop = this.parts.loop;
    const want = this.#active;
    if (want === loop.running) return;
    if (want) loop.start();
    else await loop.stop();
    await this.parts.registration.update().catch((err) =>
      log.warn("Cannot write the active flag: {error}", { error: errorMessage(err) })
    );
  }

  /** The node record written to the store. */
  record(): NodeRecord {
    const c = this.parts.instances.ledger.capacity();
    const id = this.identity;
    return {
      config: {
        uuid: id.uuid,
        name: id.name,
        address: id.address,
        cluster: id.cluster,
        remote: `/gru/${id.cluster}/nodes/${id.name}`,
        ...(id.publicKey !== undefined ? { publicKey: id.publicKey } : {}),
      },
      constraints: this.constraints,
      resources: { totalCpus: c.totalCpus, totalMemory: c.totalMemory },
      active: this.active,
    };
  }

  /** Health of the agent and its dependencies. */
  health(): Health {
    const reg = this.parts.registration;
    const storeError = this.parts.documents.error;
    const problems = this.parts.documents.problems;
    const loopDied = this.#active && !this.parts.loop.running ? this.parts.loop.died : undefined;
    const ok = reg.registered && !this.#dockerError && !storeError && problems.length === 0 &&
      loopDied === undefined;
    return {
      status: ok ? "ok" : "degraded",
      node: this.identity.name,
      cluster: this.identity.cluster,
      registered: reg.registered,
      store: { ok: !storeError && reg.registered, error: storeError ?? reg.lastError },
      docker: { ok: !this.#dockerError, error: this.#dockerError },
      documents: { ok: problems.length === 0, problems },
      active: this.active,
      loop: {
        wanted: this.#active,
        running: this.parts.loop.running,
        ...(loopDied !== undefined ? { error: loopDied } : {}),
      },
      uptimeSeconds: Math.round((this.parts.clock.now() - this.#startedAt) / 1000),
    };
  }

  /** The node record with this node's instances, from memory (no engine call: see `Monitor`). */
  node(): Promise<NodeRecord & { instances: Instance[]; desired: NodeStateView }> {
    const instances = this.parts.instances.list();
    return Promise.resolve({ ...this.record(), instances, desired: this.parts.nodeState.view() });
  }

  /**
   * Changes the desired state (nothing with `{}`) and applies it: constraints, loop, node record.
   * Resolves with whether etcd has it.
   */
  async #desire(patch: Partial<NodeDesiredState>): Promise<boolean> {
    const ns = this.parts.nodeState;
    const saved = Object.keys(patch).length === 0 || await ns.set(patch);
    this.parts.documents.constraints = ns.constraints;
    const active = ns.state.active;
    if (patch.active !== undefined || active !== this.#active) await this.#setActive(active);
    else await this.parts.registration.update();
    return saved;
  }

  /** Services in force with this node's instances, from memory (as {@link node}). */
  servicesView(): Promise<ServiceView[]> {
    const all = this.parts.instances.list();
    return Promise.resolve([...this.services.values()].map((s) => ({
      ...s,
      instances: all.filter((i) => i.service === s.name),
    })));
  }

  /** What the last loop tick measured and analyzed, or undefined before the first tick. */
  lastTick(): LastTick | undefined {
    return this.parts.decisions.last;
  }
  /** The bounded history of services and decisions (`GET /history`); none without one. */
  readonly history = (q?: HistoryQuery) => this.parts.history?.view(q);
  /** The latest decisions, newest last. */
  decisionsList(limit?: number): DecisionRecord[] {
    return this.parts.decisions.list(limit);
  }

  /** Records user-metric values for a service (throws on an unknown service or bad values). */
  pushUserMetric(service: string, metric: string, values: number[]): void {
    this.parts.monitor.pushUserMetric(service, metric, values);
  }

  /** Handles a peer's gossip push and returns the reply (throws when gossip is off). */
  gossip(message: GossipMessage, peerName?: string): Promise<GossipMessage> {
    const g = this.parts.gossiper;
    if (!g) throw new ValidationError("Gossip is off on this agent");
    return g.receive(message, peerName);
  }

  /** This node's gossip state. */
  gossipState(): GossipState {
    const g = this.parts.gossiper;
    return {
      self: this.identity.name,
      members: [...this.parts.membership.nodes.keys()],
      entries: g ? g.view.entries() : [],
      stats: g?.stats,
      partitioned: g?.partitioned(),
    };
  }

  /** Runs one command; throws a `GruError` subclass on failure. */
  command(cmd: AgentCommand): Promise<CommandResult> {
    return runCommand(cmd, {
      node: this.identity.name,
      documents: this.parts.documents,
      instances: this.parts.instances,
      desire: (patch) => this.#desire(patch),
    });
  }
}

/**
 * The agent: one per node. It holds the cluster's documents (reloaded on `update` commands; a
 * rejected document leaves the previous one in force), keeps the node registered, and starts
 * and stops service instances on its own engine. The autonomic loop plugs in through
 * `onActivate`/`onDeactivate`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ClusterStore } from "../cluster/cluster_store.ts";
import type { ContainerRuntime } from "../ports/container_runtime.ts";
import type {
  AgentConfig,
  Analytic,
  Instance,
  NodeConstraints,
  NodeRecord,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import type { Clock } from "../domain/clock.ts";
import { errorMessage, NotFoundError, ValidationError } from "../domain/errors.ts";
import { InstanceManager } from "./instances.ts";
import { NodeRegistration } from "./registration.ts";
import { defaultAgentConfig, defaultPolicyConfig } from "../config/documents.ts";
import type { AgentCommand, CommandResult } from "../api/protocol.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import type { Prng } from "../domain/random.ts";
import { Monitor } from "./monitor/monitor.ts";
import { AutonomicLoop } from "./loop.ts";
import { DecisionLog, type DecisionRecord } from "./decisions.ts";
import { Discovery } from "./discovery.ts";
import { Membership } from "./membership.ts";
import { Gossiper, type GossipTransport } from "./gossiper.ts";
import type { LocalShare } from "./loop.ts";
import type { MetricSink } from "../ports/metric_sink.ts";
import type { Telemetry } from "../ports/telemetry.ts";

const log = getLogger(["gru", "agent"]);

/** Who this agent is. */
export interface AgentIdentity {
  cluster: string;
  name: string;
  uuid: string;
  /** `http://<ip>:<port>` of the API. */
  address: string;
  hostIp: string;
}

/** Options of `Agent`. */
export interface AgentOptions {
  identity: AgentIdentity;
  store: ClusterStore;
  runtime: ContainerRuntime;
  clock: Clock;
  /** Node lease TTL in seconds. */
  ttl: number;
  /** Plan and record, execute nothing (autonomic actions only; manual commands still run). */
  dryRun: boolean;
  /** Injected into containers as `ETCD_ADDR`. */
  etcdAddr: string;
  env: (name: string) => string | undefined;
  /** Extra labels on every container this agent creates. */
  labels?: Record<string, string> | undefined;
  /** Reads container CPU and memory. */
  usage: UsageReader;
  /** Randomness of the planner's strategies. @default Math.random */
  prng?: Prng;
  /** Start the autonomic loop at once (as if `start agent` had been received). */
  activate?: boolean;
  /** Sampling period of the monitor, ms. @default 1000 */
  sampleMs?: number;
  /** How to reach peers for gossip; without it the agent plans as a cluster of one. */
  gossip?: GossipTransport | undefined;
  /** Where measurements go (InfluxDB); none when absent. */
  sink?: MetricSink | undefined;
  /** Self-metrics for /metrics. */
  telemetry?: Telemetry | undefined;
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
  active: boolean;
  uptimeSeconds: number;
}

/** Hooks for the autonomic loop (issue #3). */
export interface LoopHooks {
  onActivate?: () => void | Promise<void>;
  onDeactivate?: () => void | Promise<void>;
}

/** The agent. */
export class Agent {
  readonly identity: AgentIdentity;
  readonly instances: InstanceManager;
  #o: AgentOptions;
  #registration: NodeRegistration;
  #config: AgentConfig = defaultAgentConfig();
  #policy: PolicyConfig = defaultPolicyConfig();
  #services = new Map<string, ServiceDescriptor>();
  #analytics = new Map<string, Analytic>();
  #constraints: NodeConstraints = { cpuMin: 0, cpuMax: 0, baseServices: [] };
  #active = false;
  #docsLoaded = false;
  #storeError: string | undefined;
  #dockerError: string | undefined = "not checked yet";
  #startedAt: number;
  #abort = new AbortController();
  #background: Promise<void> | undefined;
  hooks: LoopHooks = {};
  readonly monitor: Monitor;
  readonly loop: AutonomicLoop;
  readonly decisions = new DecisionLog(100);
  readonly discovery: Discovery;
  readonly membership: Membership;
  readonly gossiper: Gossiper | undefined;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.identity = options.identity;
    this.#startedAt = options.clock.now();
    this.instances = new InstanceManager({
      runtime: options.runtime,
      clock: options.clock,
      cluster: options.identity.cluster,
      node: options.identity.name,
      spec: {
        hostIp: options.identity.hostIp,
        etcdAddr: options.etcdAddr,
        env: options.env,
        labels: options.labels,
      },
    });
    this.discovery = new Discovery(options.store.kv, options.identity.hostIp);
    this.monitor = new Monitor({
      runtime: options.runtime,
      usage: options.usage,
      instances: this.instances,
      clock: options.clock,
      cluster: options.identity.cluster,
      node: options.identity.name,
      sampleMs: options.sampleMs,
      settings: () => ({
        windowMs: this.#config.autonomic.window * 1000,
        warmupMs: this.#config.autonomic.warmup * 1000,
        logReading: this.#config.autonomic.enableLogReading,
        services: new Set(this.#services.keys()),
      }),
      onChange: () => this.#syncDiscovery(),
    });
    this.membership = new Membership({
      store: options.store,
      cluster: options.identity.cluster,
      clock: options.clock,
      onError: () => options.telemetry?.dependencyError("etcd"),
    });
    this.gossiper = options.gossip
      ? new Gossiper({
        self: options.identity.name,
        cluster: options.identity.cluster,
        clock: options.clock,
        prng: options.prng ?? Math.random,
        membership: this.membership,
        transport: options.gossip,
        settings: () => ({
          intervalMs: this.#config.communication.loopTimeInterval * 1000,
          maxFriends: this.#config.communication.maxFriends,
        }),
        registered: () => this.#registration.registered,
        fallbackShare: () => this.#fallbackShare(),
        telemetry: options.telemetry,
      })
      : undefined;
    this.loop = new AutonomicLoop({
      cluster: this.gossiper,
      sink: options.sink,
      telemetry: options.telemetry,
      uuid: options.identity.uuid,
      state: () => ({
        node: this.identity.name,
        config: this.#config,
        policy: this.#policy,
        services: this.#services,
        analytics: this.#analytics,
        constraints: this.#constraints,
        dryRun: this.#o.dryRun,
      }),
      monitor: this.monitor,
      instances: this.instances,
      clock: options.clock,
      prng: options.prng ?? Math.random,
      decisions: this.decisions,
    });
    this.#registration = new NodeRegistration({
      store: options.store,
      cluster: options.identity.cluster,
      ttl: options.ttl,
      clock: options.clock,
      record: () => this.record(),
      onError: () => options.telemetry?.dependencyError("etcd"),
    });
  }

  /** The agent configuration in force. */
  get config(): AgentConfig {
    return this.#config;
  }

  /** The policy in force. */
  get policy(): PolicyConfig {
    return this.#policy;
  }

  /** Services in force, by name. */
  get services(): ReadonlyMap<string, ServiceDescriptor> {
    return this.#services;
  }

  /** Analytics in force, by name. */
  get analytics(): ReadonlyMap<string, Analytic> {
    return this.#analytics;
  }

  /** Whether the autonomic loop is on. */
  get active(): boolean {
    return this.#active;
  }

  /** The node's constraints. */
  get constraints(): NodeConstraints {
    return { ...this.#constraints, baseServices: [...this.#constraints.baseServices] };
  }

  /** Whether the node is registered in the store. */
  get registered(): boolean {
    return this.#registration.registered;
  }

  /**
   * Starts: loads the documents and adopts the engine's containers (retrying in the background
   * while etcd or Docker are away), and registers the node.
   */
  async start(): Promise<void> {
    await Promise.allSettled([this.#tryLoadDocs(), this.#tryInitDocker()]);
    this.#registration.start();
    this.monitor.start();
    this.membership.start();
    this.gossiper?.start();
    this.#background = this.#retryLoop();
    if (this.#o.activate) await this.#setActive(true);
  }

  /** This node's share from instance counts only (used while the loop is off). */
  #fallbackShare(): LocalShare {
    const v = this.instances.ledger.view();
    const now = this.#o.clock.now();
    const warmupMs = this.#config.autonomic.warmup * 1000;
    const services: LocalShare["services"] = {};
    for (const [name, svc] of this.#services) {
      const mine = this.instances.list(name).filter((i) => i.status === "running");
      const pending = mine.filter((i) => now - i.startedAt < warmupMs).length;
      services[name] = {
        running: mine.length - pending,
        pending,
        analytics: {},
        cpuNumber: svc.configuration.cpuNumber,
      };
    }
    return {
      active: this.#active,
      services,
      resources: {
        totalCpus: v.totalCpus,
        freeCpus: v.freeCpus.length,
        totalMemory: v.totalMemory,
        freeMemory: Math.max(0, v.totalMemory - v.usedMemory),
      },
    };
  }

  #syncDiscovery(): void {
    this.discovery.sync(this.instances.list(), this.#services, {
      appRoot: this.#config.discovery.appRoot,
      ttl: this.#config.discovery.ttl,
    });
  }

  /** The latest decisions, newest last. */
  decisionsList(limit?: number): DecisionRecord[] {
    return this.decisions.list(limit);
  }

  /** Resolves once the node is registered (for CLI feedback and tests). */
  waitRegistered(ms: number): Promise<void> {
    return this.#registration.waitRegistered(ms);
  }

  /** Stops: deactivates, revokes the node lease; containers keep running. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    if (this.#active) await this.#setActive(false).catch(() => {});
    await this.loop.stop();
    await this.#background?.catch(() => {});
    await this.gossiper?.stop();
    await this.membership.stop();
    await this.monitor.stop();
    await this.discovery.close().catch(() => {});
    await this.#registration.stop();
  }

  async #retryLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#o.clock.sleep(2000, signal);
      } catch {
        return;
      }
      if (!this.#docsLoaded) await this.#tryLoadDocs();
      if (this.#dockerError) await this.#tryInitDocker();
      else this.#syncDiscovery();
    }
  }

  async #tryLoadDocs(): Promise<void> {
    try {
      await this.reload("all");
    } catch (err) {
      this.#storeError = errorMessage(err);
      log.warn("Cannot load the cluster configuration: {error}", { error: this.#storeError });
    }
  }

  async #tryInitDocker(): Promise<void> {
    try {
      await this.instances.init();
      if (this.#dockerError) log.info("Docker engine reachable");
      this.#dockerError = undefined;
      await this.#registration.update().catch(() => {});
    } catch (err) {
      const msg = errorMessage(err);
      if (msg !== this.#dockerError) log.warn("Docker engine unavailable: {error}", { error: msg });
      this.#dockerError = msg;
    }
  }

  /**
   * Reloads documents from the store. All are read and checked before any replaces the one in
   * force; on any error nothing changes and the error is thrown.
   */
  async reload(what: "all" | "agent" | "services" | "policy" | "analytics"): Promise<string[]> {
    const s = this.#o.store;
    const c = this.identity.cluster;
    const want = (x: string) => what === "all" || what === x;
    const [config, policy, services, analytics] = await Promise.all([
      want("agent") ? s.getConfig(c) : undefined,
      want("policy") ? s.getPolicy(c) : undefined,
      want("services") ? s.listServices(c) : undefined,
      want("analytics") ? s.listAnalytics(c) : undefined,
    ]);
    const changed: string[] = [];
    if (config) (this.#config = config, changed.push("agent"));
    if (policy) (this.#policy = policy, changed.push("policy"));
    if (services) {
      this.#services = new Map(services.map((x) => [x.name, x]));
      changed.push("services");
    }
    if (analytics) {
      this.#analytics = new Map(analytics.map((x) => [x.name, x]));
      changed.push("analytics");
    }
    if (what === "all") this.#docsLoaded = true;
    this.#storeError = undefined;
    return changed;
  }

  /** The node record written to the store. */
  record(): NodeRecord {
    const v = this.instances.ledger.view();
    return {
      config: {
        uuid: this.identity.uuid,
        name: this.identity.name,
        address: this.identity.address,
        cluster: this.identity.cluster,
        remote: `/gru/${this.identity.cluster}/nodes/${this.identity.name}`,
      },
      constraints: this.constraints,
      resources: { totalCpus: v.totalCpus, totalMemory: v.totalMemory },
      active: this.#active,
    };
  }

  /** Health of the agent and its dependencies. */
  health(): Health {
    const ok = this.#registration.registered && !this.#dockerError && !this.#storeError;
    return {
      status: ok ? "ok" : "degraded",
      node: this.identity.name,
      cluster: this.identity.cluster,
      registered: this.#registration.registered,
      store: {
        ok: !this.#storeError && this.#registration.registered,
        error: this.#storeError ?? this.#registration.lastError,
      },
      docker: { ok: !this.#dockerError, error: this.#dockerError },
      active: this.#active,
      uptimeSeconds: Math.round((this.#o.clock.now() - this.#startedAt) / 1000),
    };
  }

  /** Services in force with this node's instances (refreshed from the engine). */
  async servicesView(): Promise<ServiceView[]> {
    const all = await this.instances.refresh();
    return [...this.#services.values()].map((s) => ({
      ...s,
      instances: all.filter((i) => i.service === s.name),
    }));
  }

  #service(name: unknown): ServiceDescriptor {
    if (typeof name !== "string" || name === "") {
      throw new ValidationError(`Expected a service name, found ${JSON.stringify(name)}`);
    }
    const s = this.#services.get(name);
    if (!s) {
      const known = [...this.#services.keys()].join(", ") || "none";
      throw new NotFoundError(`Unknown service "${name}": known services are ${known}`);
    }
    return s;
  }

  async #setActive(active: boolean): Promise<void> {
    if (this.#active === active) return;
    this.#active = active;
    if (active) this.loop.start();
    else await this.loop.stop();
    await (active ? this.hooks.onActivate?.() : this.hooks.onDeactivate?.());
    await this.#registration.update().catch((err) =>
      log.warn("Cannot write the active flag: {error}", { error: errorMessage(err) })
    );
  }

  /** Executes one command (§12.1 protocol); throws a `GruError` subclass on failure. */
  async command(cmd: AgentCommand): Promise<CommandResult> {
    const name = String(cmd.name ?? "").toLowerCase();
    const target = String(cmd.target ?? "").toLowerCase();
    log.info("Command {name} {target}", { name, target, object: cmd.object });
    switch (`${name} ${target}`) {
      case "start agent":
        await this.#setActive(true);
        return { ok: true, message: `Agent ${this.identity.name} active` };
      case "stop agent":
        await this.#setActive(false);
        return { ok: true, message: `Agent ${this.identity.name} inactive` };
      case "start service": {
        const s = this.#service(cmd.object);
        const inst = await this.instances.start(s);
        return {
          ok: true,
          message: `Started ${s.name} instance ${inst.name} on ${this.identity.name}`,
          data: inst,
        };
      }
      case "stop service": {
        const o = cmd.object;
        const obj = typeof o === "object" && o !== null ? o as Record<string, unknown> : undefined;
        const s = this.#service(obj ? obj.service : o);
        const id = obj && typeof obj.id === "string" ? obj.id : undefined;
        const inst = await this.instances.stop(s, { id });
        return {
          ok: true,
          message: `Stopped ${s.name} instance ${inst.name} on ${this.identity.name}`,
          data: inst,
        };
      }
      case "update all":
      case "update agent":
      case "update services":
      case "update policy":
      case "update analytics": {
        const changed = await this.reload(target as "all");
        return { ok: true, message: `Reloaded ${changed.join(", ")}` };
      }
      case "update node-base-services": {
        const list = cmd.object ?? [];
        if (!Array.isArray(list) || list.some((x) => typeof x !== "string")) {
          throw new ValidationError(
            `update node-base-services: expected a list of service names, found ${
              JSON.stringify(list)
            }`,
          );
        }
        for (const n of list) this.#service(n);
        this.#constraints.baseServices = [...new Set(list as string[])];
        await this.#registration.update();
        return { ok: true, message: `Base services: ${this.#constraints.baseServices.join(" ")}` };
      }
      case "update node-cpumin":
      case "update node-cpumax": {
        const x = typeof cmd.object === "string" ? Number(cmd.object) : cmd.object;
        if (typeof x !== "number" || !(x >= 0 && x <= 1)) {
          throw new ValidationError(
            `update ${target}: expected a number in [0, 1], found ${JSON.stringify(cmd.object)}`,
          );
        }
        if (target === "node-cpumin") this.#constraints.cpuMin = x;
        else this.#constraints.cpuMax = x;
        await this.#registration.update();
        return { ok: true, message: `${target} = ${x}` };
      }
      case "update service-constraints": {
        const s = this.#service(cmd.object);
        const fresh = await this.#o.store.getService(this.identity.cluster, s.name);
        if (!fresh) throw new NotFoundError(`Service ${s.name} is no longer in the store`);
        this.#services.set(s.name, { ...s, constraints: fresh.constraints });
        return { ok: true, message: `Reloaded constraints of ${s.name}` };
      }
      default:
        throw new ValidationError(
          `Unknown command "${cmd.name} ${cmd.target}": expected start|stop agent|service, ` +
            `or update all|agent|services|policy|analytics|node-base-services|node-cpumin|` +
            `node-cpumax|service-constraints`,
        );
    }
  }
}

/**
 * Gru's domain types: the configuration documents kept in etcd (agent config, service
 * descriptors, policy, analytics), node records and service instances. Plain data, no I/O.
 *
 * Field names are the original's (docs/compat.md#keep-config), in camelCase; documents are read
 * with case-insensitive keys, so `"Docker"`, `"docker"` and `"DOCKER"` all fill `docker`.
 *
 * @module
 */

/** Planner strategies known to Gru. */
export const STRATEGY_NAMES = [
  "probdelta",
  "probcumulative",
  "dummy",
  "threshold",
  "target",
] as const;
/** A planner strategy name. */
export type StrategyName = typeof STRATEGY_NAMES[number];

/** TLS material for a Docker engine reached over TCP (paths to PEM files). */
export interface DockerTls {
  ca: string;
  cert: string;
  key: string;
  /** Verify the server certificate (default true). */
  verify: boolean;
}

/** `/gru/<cluster>/config`: the agents' configuration. */
export interface AgentConfig {
  docker: {
    /** `default`, `local:<port>`, `<host>:<port>`, `unix:///path`, `tcp://host:port`, `http(s)://…`. */
    daemonUrl: string;
    /** Seconds to wait for the engine on each call. */
    daemonTimeout: number;
    tls?: DockerTls | undefined;
  };
  autonomic: {
    /** Seconds between two iterations of the MAPE loop (> 0). */
    loopTimeInterval: number;
    plannerStrategy: StrategyName;
    enableLogReading: boolean;
    /** Plan and record decisions but execute nothing. */
    dryRun: boolean;
    /** Seconds a new instance stays pending before it counts as running. */
    warmup: number;
    /** Seconds of history that CPU and memory averages cover. */
    window: number;
    /** Seconds after a scale-out (of that service, on this node) before the next one. */
    scaleOutCooldown: number;
    /** Seconds after any scaling of a service before it may scale in. */
    scaleInCooldown: number;
    /** Seconds scale-in must be recommended without a break before it is carried out. */
    scaleInStabilization: number;
    /** Decisions kept for the API and `show decisions`. */
    decisionHistory: number;
    /** Strategies also run each loop on the same inputs, recorded but never acted on. */
    shadowStrategies?: StrategyName[] | undefined;
    /** Scale out at once, between ticks, when the short window crosses the threshold. */
    fastPath?: FastPathSettings | undefined;
  };
  communication: {
    /** Seconds between two gossip rounds (> 0). */
    loopTimeInterval: number;
    /** Peers contacted per round (>= 1). */
    maxFriends: number;
    /**
     * Seconds a peer's clock may be ahead of this node's: gossip entries whose version, time or
     * action lies further ahead are dropped (> 0; docs/gossip.md).
     */
    maxClockSkew: number;
  };
  storage: { storageService: "internal" };
  metric: {
    /** `influxdb` or `none`. */
    metricService: string;
    /** For influxdb: `Url`, `DbName`, `Username`, `Password` (1.x) or `Token`, `Org`, `Bucket` (2.x). */
    configuration: Record<string, string>;
  };
  discovery: {
    /** etcd prefix for service-instance keys, e.g. `app/myapp/services`. */
    appRoot: string;
    /** Seconds an instance key lives without refresh (>= 1). */
    ttl: number;
    /**
     * Seconds between withdrawing a scaled-in instance's key and stopping its container, so a
     * load balancer fed by the keys drains it first (absent or 0: no wait).
     */
    drainDelay?: number | undefined;
  };
}

/** Docker settings of a service (`configuration` in a descriptor). */
export interface DockerConfiguration {
  /** `NAME=value`; an empty value is taken from the agent's environment. */
  env: Record<string, string>;
  volumes: Record<string, Record<string, never>>;
  entrypoint: string[];
  /** Memory limit such as `512m` or `1g`; empty means none. */
  memory: string;
  /** Cores to pin (0 means the instance needs no dedicated core). */
  cpuNumber: number;
  cpuShares: number;
  /** Fixed cpuset such as `0,1`; empty means pick free cores. */
  cpusetCpus: string;
  links: string[];
  /** Guest port → host port range (`"50000-50004"` or `"50000"`). */
  ports: Record<string, string>;
  cmd: string[];
  /** Seconds Docker waits after SIGTERM before SIGKILL. */
  stopTimeout: number;
}

/**
 * A service metric read from a Prometheus-compatible server (`MetricSources.<name>` of a service
 * descriptor): an instant query against `<url>/api/v1/query`.
 */
export interface MetricSource {
  type: "prometheus";
  /** Base URL of the query API, e.g. `http://prometheus:9090` (without `/api/v1/query`). */
  url: string;
  /** PromQL with `$service` (and, in node scope, `$node` and `$instance`) placeholders. */
  query: string;
  /** `cluster`: one node queries and gossips the value; `node`: each node queries its own. */
  scope: "cluster" | "node";
  /** Extra request headers (values are secrets: redacted in the API and logs). */
  headers: Record<string, string>;
  basicAuth?: { username: string; password: string } | undefined;
  /** Path of a PEM CA bundle that signs the server's certificate. */
  tls?: { ca: string } | undefined;
  /** Seconds a query may take. */
  timeout: number;
  /** Seconds after which a reading is stale (unknown). */
  staleAfter: number;
}

/**
 * What a service does while one of its metric sources fails or is stale: hold (no load-driven
 * action), allow scale-out only, or move towards a fixed instance count (never scaling in).
 */
export type SourceFailureRule = "hold" | "scale-out-only" | number;

/**
 * The fast path (Knative's panic mode): between two ticks the loop looks at a short window, and
 * when a scale-out metric is over its threshold by `margin` it runs a scale-out-only tick at once.
 */
export interface FastPathSettings {
  enable: boolean;
  /** How far over the threshold (absolute, in the metric's unit) the short window must be. */
  margin: number;
  /** Seconds of the short window. */
  window: number;
  /** Seconds between two looks at the short window. */
  checkInterval: number;
  /**
   * Seconds without a crossing a crossing must come out of to act; a crossing sooner is held,
   * and the regular tick decides.
   */
  calm: number;
}

/** A target-tracking goal: keep `metric` (a base metric or an analytic) near `value`. */
export interface ScalingTarget {
  metric: string;
  value: number;
}

/** A maximum step per action: a count of instances or a percent of the current count. */
export type MaxStep = { count: number } | { percent: number };

/** One direction's anti-flapping settings; absent fields take the agent-wide defaults. */
export interface ScalingDirection {
  /** Relative deviation from the target ignored (0.1: within ±10 %). */
  tolerance?: number | undefined;
  /** Seconds of recommendations the most conservative is taken from. */
  stabilizationWindow?: number | undefined;
  /** Seconds after a scaling of the service in this direction before the next. */
  cooldown?: number | undefined;
  maxStep?: MaxStep | undefined;
}

/**
 * A cron-style window of instance bounds: from each `start` occurrence until the next `end`
 * occurrence (or for `duration` seconds), in `timeZone`, the service keeps at least
 * `minInstances` and at most `maxInstances` (0: no ceiling) cluster-wide.
 */
export interface ServiceSchedule {
  name: string;
  /** Five-field cron expression of the window's start. */
  start: string;
  end?: string | undefined;
  /** Seconds (when there is no `end`). */
  duration?: number | undefined;
  /** IANA time zone, e.g. `Europe/Berlin` (default `UTC`). */
  timeZone: string;
  minInstances?: number | undefined;
  maxInstances?: number | undefined;
}

/** Per-service scaling settings (`Scaling` of a service descriptor). */
export interface ServiceScaling {
  /** The goal of the `target` strategy. */
  target?: ScalingTarget | undefined;
  scaleOut?: ScalingDirection | undefined;
  scaleIn?: ScalingDirection | undefined;
  schedules: ServiceSchedule[];
}

/** `/gru/<cluster>/services/<name>`: a service descriptor. */
export interface ServiceDescriptor {
  name: string;
  type: string;
  image: string;
  remote: string;
  /** Guest port whose host binding is published in service discovery. */
  discoveryPort: string;
  analytics: string[];
  constraints: Record<string, number>;
  /** Fewest instances per node that hold it as a base service or cluster-wide floor (default 0). */
  minInstances: number;
  /** Most instances cluster-wide (0 = unlimited). */
  maxInstances: number;
  configuration: DockerConfiguration;
  /** Metrics read from Prometheus-compatible servers, by metric name (default none). */
  metricSources?: Record<string, MetricSource> | undefined;
  /** What to do while a metric source fails (default `hold`). */
  onSourceFailure?:
    | SourceFailureRule
    | undefined; /** Target tracking, anti-flapping and schedules (default none: agent-wide settings). */
  scaling?: ServiceScaling | undefined;
}

/** One policy's settings. */
export interface PolicyRule {
  enable: boolean;
  /** In (0, 1). */
  threshold: number;
  /** Base metric names (`cpu_avg`, `memory_avg`). */
  metrics: string[];
  /** Analytic names. */
  analytics: string[];
  /** Plan and record this policy's decisions without executing them. */
  dryRun: boolean;
}

/** `/gru/<cluster>/policy`. */
export interface PolicyConfig {
  scalein: PolicyRule;
  scaleout: PolicyRule;
  swap: PolicyRule;
}

/** `/gru/<cluster>/analytics/<name>`: an expression over a service's metrics and constraints. */
export interface Analytic {
  name: string;
  expr: string;
  metrics: string[];
  constraints: string[];
}

/** Every configuration document of a cluster. Absent parts are left unchanged by an import. */
export interface ClusterDocs {
  config?: AgentConfig | undefined;
  policy?: PolicyConfig | undefined;
  services?: ServiceDescriptor[] | undefined;
  analytics?: Analytic[] | undefined;
}

/** `…/nodes/<node>/config`. */
export interface NodeConfig {
  uuid: string;
  name: string;
  /** `http://<ip>:<port>` of the agent API. */
  address: string;
  cluster: string;
  remote: string;
  /**
   * The node's Ed25519 public key for signed gossip (base64url of the raw 32 bytes). A Gru
   * addition: absent in records of the original Go Gru and of agents older than signed gossip.
   */
  publicKey?: string | undefined;
}

/** `…/nodes/<node>/constraints`. */
export interface NodeConstraints {
  cpuMin: number;
  cpuMax: number;
  baseServices: string[];
}

/**
 * A node's desired state (a Gru addition): its constraints and whether its autonomic loop should
 * run. Kept at `/gru/<cluster>/desired/<node>`, outside the node's lease, so a restarted agent
 * restores it (docs/compat.md#desired-node-state).
 */
export interface NodeDesiredState extends NodeConstraints {
  active: boolean;
}

/** `…/nodes/<node>/resources`. */
export interface NodeResources {
  totalCpus: number;
  /** Bytes. */
  totalMemory: number;
}

/** A node's resources with what is still free (gossiped, and what placement counts on). */
export interface NodeCapacity extends NodeResources {
  freeCpus: number;
  /** Bytes. */
  freeMemory: number;
}

/** Everything etcd holds about one node. */
export interface NodeRecord {
  config: NodeConfig;
  constraints: NodeConstraints;
  resources: NodeResources;
  active: boolean;
}

/** Life-cycle status of a service instance (a container). */
export type InstanceStatus = "pending" | "running" | "stopped" | "paused";

/** Labels every managed container carries. */
export const LABEL_CLUSTER = "gru.cluster";
export const LABEL_NODE = "gru.node";
export const LABEL_SERVICE = "gru.service";
/** Label that names the test run that made a container (tests only). */
export const LABEL_TEST_RUN = "gru.test-run";

/** A host port bound to a guest port. */
export interface PortBinding {
  guest: string;
  host: number;
}

/** One container of a service on this node. */
export interface Instance {
  id: string;
  name: string;
  service: string;
  status: InstanceStatus;
  /** Cores the container is pinned to. */
  cpus: number[];
  /** Memory limit in bytes (0 = none). */
  memory: number;
  ports: PortBinding[];
  /** Milliseconds since the epoch when it started (or was created). */
  startedAt: number;
  /** The container's main process on this host (0 when unknown). */
  pid?: number | undefined;
}

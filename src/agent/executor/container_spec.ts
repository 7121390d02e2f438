/**
 * Builds the container a service instance runs in, from its descriptor and its reservation
 * (as the original built it, with the reservation's cores and ports instead of unreserved picks: docs/compat.md#d19).
 * Pure.
 *
 * An `Env` entry with the value `""` takes the agent's own variable of that name, as in the
 * original, but never one of Gru's own settings or credentials ({@linkcode inheritsFromAgent}):
 * whoever writes a service descriptor must not be able to read the agent's etcd password, TLS
 * key or any other secret by copying it into a container. Such an entry stays empty.
 *
 * @module
 */

import type { ContainerSpec } from "../../ports/container_runtime.ts";
import {
  LABEL_CLUSTER,
  LABEL_NODE,
  LABEL_SERVICE,
  type ServiceDescriptor,
} from "../../domain/model.ts";
import type { Reservation } from "./resources.ts";

/**
 * Words (split on `_`, `-` and `.`, any case) that mark a variable as a credential: it is never
 * copied from the agent.
 */
export const CREDENTIAL_WORDS: ReadonlySet<string> = new Set([
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "SECRET",
  "SECRETS",
  "TOKEN",
  "TOKENS",
  "KEY",
  "KEYS",
  "APIKEY",
  "CREDENTIAL",
  "CREDENTIALS",
]);

/**
 * Whether an `Env` entry with an empty value may copy the agent's variable `name`. Never:
 * 1. Gru's own settings: anything starting with `GRU_` (TLS files, store, state, port, token…);
 * 2. etcd client settings and credentials: `ETCD_*` and `ETCDCTL_*` (`ETCD_USER`,
 *    `ETCD_USERNAME`, `ETCD_PASSWORD`, `ETCD_CA`, …), except `ETCD_ADDR`, the endpoints, which
 *    every container gets anyway;
 * 3. any name that looks like a credential: one of its words is in {@link CREDENTIAL_WORDS}
 *    (`DB_PASSWORD`, `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `api-key`, …).
 *
 * Everything else (`PATH`, `TZ`, `http_proxy`, `HostIP`, `ETCD_ADDR`…) is copied.
 */
export function inheritsFromAgent(name: string): boolean {
  const upper = name.toUpperCase();
  if (upper.startsWith("GRU_")) return false;
  if ((upper.startsWith("ETCD_") || upper.startsWith("ETCDCTL_")) && upper !== "ETCD_ADDR") {
    return false;
  }
  return !upper.split(/[_.-]+/).some((word) => CREDENTIAL_WORDS.has(word));
}

/** Where the instance runs. */
export interface SpecContext {
  cluster: string;
  node: string;
  /** The node's IP, injected as `HostIP`. */
  hostIp: string;
  /** etcd endpoints, injected as `ETCD_ADDR`. */
  etcdAddr: string;
  /**
   * The agent's environment, for descriptor env entries with an empty value (only asked for
   * names {@linkcode inheritsFromAgent} allows).
   */
  env: (name: string) => string | undefined;
  /** Extra labels (for example the test run). */
  labels?: Record<string, string> | undefined;
  /** Unique suffix of the container name. */
  suffix: string;
}

/** The container spec of a new instance of `service` holding `reservation`. */
export function buildContainerSpec(
  service: ServiceDescriptor,
  reservation: Reservation,
  ctx: SpecContext,
): ContainerSpec {
  const cfg = service.configuration;
  const env = new Map<string, string>();
  for (const [name, value] of Object.entries(cfg.env)) {
    const inherited = value === "" && inheritsFromAgent(name) ? ctx.env(name) : undefined;
    env.set(name, value === "" ? inherited ?? "" : value);
  }
  if (!env.get("HostIP")) env.set("HostIP", ctx.hostIp);
  if (!env.get("ETCD_ADDR")) env.set("ETCD_ADDR", ctx.etcdAddr);
  return {
    name: `${service.name}_${ctx.suffix}`,
    image: service.image,
    cmd: cfg.cmd.length ? cfg.cmd : undefined,
    entrypoint: cfg.entrypoint.length ? cfg.entrypoint : undefined,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    labels: {
      ...ctx.labels,
      [LABEL_CLUSTER]: ctx.cluster,
      [LABEL_NODE]: ctx.node,
      [LABEL_SERVICE]: service.name,
    },
    cpusetCpus: reservation.cpus.join(","),
    cpuShares: cfg.cpuShares || undefined,
    memory: reservation.memory,
    portBindings: { ...reservation.ports },
    volumes: Object.keys(cfg.volumes).length ? cfg.volumes : undefined,
    links: cfg.links.length ? cfg.links : undefined,
    stopTimeout: cfg.stopTimeout,
  };
}

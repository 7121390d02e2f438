/**
 * Builds the container a service instance runs in, from its descriptor and its reservation
 * (as the original built it, with the reservation's cores and ports instead of unreserved picks: docs/compat.md#d19).
 * Pure.
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

/** Where the instance runs. */
export interface SpecContext {
  cluster: string;
  node: string;
  /** The node's IP, injected as `HostIP`. */
  hostIp: string;
  /** etcd endpoints, injected as `ETCD_ADDR`. */
  etcdAddr: string;
  /** The agent's environment, for descriptor env entries with an empty value. */
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
    env.set(name, value === "" ? ctx.env(name) ?? "" : value);
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

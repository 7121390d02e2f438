/**
 * The etcd key tree, the original's (docs/compat.md#keep-etcd), under `/gru/<cluster>/`.
 *
 * @module
 */

import { ValidationError } from "../domain/errors.ts";

/** Root of every cluster. */
export const GRU_ROOT = "/gru/";

/** Key builders for one cluster. */
export function clusterKeys(cluster: string) {
  const root = `${GRU_ROOT}${cluster}/`;
  return {
    root,
    uuid: `${root}uuid`,
    /** Shared secret for agent API calls and gossip (not in the original). */
    token: `${root}token`,
    /**
     * The token before the last rotation, still accepted until a time (not in the original):
     * JSON `{"token": "…", "until": "<ISO 8601>"}`.
     */
    tokenPrevious: `${root}token-previous`,
    config: `${root}config`,
    policy: `${root}policy`,
    services: `${root}services/`,
    service: (name: string) => `${root}services/${name}`,
    analytics: `${root}analytics/`,
    analytic: (name: string) => `${root}analytics/${name}`,
    nodes: `${root}nodes/`,
    node: (name: string) => `${root}nodes/${name}/`,
    nodeConfig: (name: string) => `${root}nodes/${name}/config`,
    nodeConstraints: (name: string) => `${root}nodes/${name}/constraints`,
    nodeResources: (name: string) => `${root}nodes/${name}/resources`,
    nodeActive: (name: string) => `${root}nodes/${name}/active`,
    /** Desired node states, outside any lease (not in the original). */
    desired: `${root}desired/`,
    /** One node's desired state: JSON of `NodeDesiredState`, any field may be absent. */
    nodeDesired: (name: string) => `${root}desired/${name}`,
  };
}

/** Cluster and node names: letters, digits, `.`, `_`, `-`; 1 to 63 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Whether `name` is usable as a cluster, node or service name (it becomes an etcd key part). */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** Throws a `ValidationError` unless `name` can be a cluster, node or service name. */
export function assertName(kind: string, name: string): void {
  if (!isValidName(name)) {
    throw new ValidationError(
      `Invalid ${kind} name "${name}": expected 1 to 63 letters, digits, ".", "_" or "-"`,
    );
  }
}

/** The value the original writes for a config or policy that has not been uploaded yet. */
export const EMPTY_DOCUMENT = "empty";

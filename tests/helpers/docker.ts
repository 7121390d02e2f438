/**
 * Test helpers for the real Docker engine: find and remove the containers a test run made.
 *
 * @module
 */

import { DockerRuntime } from "../../src/adapters/docker/docker_runtime.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { dockerSocket } from "./env.ts";

/** A runtime on the test engine. */
export function testRuntime(): DockerRuntime {
  return new DockerRuntime({ endpoint: { kind: "socket", socketPath: dockerSocket() } });
}

/** Removes every container labelled with `run`; returns how many. */
export async function removeRunContainers(run: string): Promise<number> {
  const rt = testRuntime();
  const cs = await rt.list({ [LABEL_TEST_RUN]: run });
  await Promise.all(cs.map((c) => rt.remove(c.id)));
  return cs.length;
}

/**
 * Test fixtures for the REPL: a cluster in the embedded store with live nodes and services, and
 * a recording fake agent client. Used by the unit tests here and by the integration test.
 *
 * @module
 */

import { MemoryKvStore } from "../../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import { parseServiceDescriptor } from "../../config/documents.ts";
import type { AgentCommand, CommandResult } from "../../api/protocol.ts";
import type { KvLease } from "../../ports/kv_store.ts";
import { memoryOutput } from "../context.ts";
import type { ReplAgent, ReplDeps } from "./session.ts";

/** A node to register in the fixture. */
export interface FixtureNode {
  name: string;
  address: string;
  active?: boolean;
  baseServices?: string[];
  cpus?: number;
  memory?: number;
}

/** A service to write in the fixture. */
export interface FixtureService {
  name: string;
  image: string;
  ports?: Record<string, string>;
  memory?: string;
  cpuNumber?: number;
}

/** A populated embedded store; `close()` revokes the lease and closes the store. */
export interface Fixture {
  store: ClusterStore;
  close(): Promise<void>;
}

/** Default fixture cluster. */
export const FIXTURE_CLUSTER = "c1";
/** Default fixture token. */
export const FIXTURE_TOKEN = "tok-c1";

/**
 * Creates cluster `c1` (and `c2`, empty) with the given nodes and services.
 *
 * @param options Nodes and services of `c1`; `file` persists the store there (to share it with
 *   another process).
 * @returns The store and its closer.
 */
export async function makeFixture(
  options: { nodes: FixtureNode[]; services: FixtureService[]; file?: string },
): Promise<Fixture> {
  const kv = await MemoryKvStore.open({ file: options.file });
  const store = new ClusterStore(kv);
  let lease: KvLease | undefined;
  try {
    await store.createCluster(FIXTURE_CLUSTER, { uuid: "uuid-c1", token: FIXTURE_TOKEN });
    await store.createCluster("c2", { uuid: "uuid-c2", token: "tok-c2" });
    await store.importDocs(FIXTURE_CLUSTER, {
      services: options.services.map((s) =>
        parseServiceDescriptor({
          name: s.name,
          image: s.image,
          configuration: {
            ports: s.ports ?? {},
            memory: s.memory ?? "",
            cpuNumber: s.cpuNumber ?? 0,
          },
        }, "fixture")
      ),
    });
    lease = await kv.grantLease(30);
    for (const n of options.nodes) {
      await store.registerNode(FIXTURE_CLUSTER, {
        config: {
          uuid: `uuid-${n.name}`,
          name: n.name,
          address: n.address,
          cluster: FIXTURE_CLUSTER,
          remote: `/gru/${FIXTURE_CLUSTER}/nodes/${n.name}`,
        },
        constraints: { cpuMin: 0.2, cpuMax: 0.8, baseServices: n.baseServices ?? [] },
        resources: { totalCpus: n.cpus ?? 4, totalMemory: n.memory ?? 8 * 1024 ** 3 },
        active: n.active ?? false,
      }, lease.id);
    }
  } catch (err) {
    await kv.close();
    throw err;
  }
  const held = lease;
  return {
    store,
    async close() {
      await held?.revoke();
      await kv.close();
    },
  };
}

/** A command the fake agent received. */
export interface SentCommand {
  token: string | undefined;
  address: string;
  name: string;
  target: string;
  object: unknown;
}

/** A recording fake of the agent client. */
export interface FakeAgents {
  /** Factory to pass as `ReplDeps.agents`. */
  agents: (token?: string) => ReplAgent;
  /** Every command sent, in order. */
  sent: SentCommand[];
  /** Every GET, as `address path`. */
  gets: string[];
  /** Make commands to `address` fail with this error. */
  failures: Map<string, Error>;
  /** Answers to `GET address+path`; absent ones throw. */
  answers: Map<string, unknown>;
}

/**
 * A fake agent client that records commands and answers `ok`.
 *
 * @returns The fake.
 */
export function fakeAgents(): FakeAgents {
  const fake: FakeAgents = {
    sent: [],
    gets: [],
    failures: new Map(),
    answers: new Map(),
    agents: (token?: string): ReplAgent => ({
      command(address: string, command: AgentCommand): Promise<CommandResult> {
        fake.sent.push({
          token,
          address,
          name: command.name,
          target: command.target,
          object: command.object,
        });
        const failure = fake.failures.get(address);
        if (failure) return Promise.reject(failure);
        return Promise.resolve({ ok: true, message: "ok" });
      },
      get<T>(address: string, path: string): Promise<T> {
        fake.gets.push(`${address} ${path}`);
        const key = `${address}${path}`;
        if (!fake.answers.has(key)) return Promise.reject(new Error(`no answer for ${key}`));
        return Promise.resolve(fake.answers.get(key) as T);
      },
    }),
  };
  return fake;
}

/**
 * REPL dependencies over a fixture and a fake agent client, with captured output.
 *
 * @param fixture The store fixture.
 * @param fake The fake agents.
 * @returns The deps and the captured output.
 */
export function fakeDeps(fixture: Fixture, fake: FakeAgents) {
  const output = memoryOutput();
  const deps: ReplDeps = { store: fixture.store, agents: fake.agents, output };
  return { deps, output };
}

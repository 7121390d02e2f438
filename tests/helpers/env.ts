/**
 * Test environment: where the real services are, and a unique id per test run. The README's
 * test command (scripts/test.sh) installs and starts them first.
 *
 * @module
 */

let runId: string | undefined;

/** One id per test process, used in labels, cluster names and etcd prefixes. */
export function testRunId(): string {
  runId ??= Deno.env.get("GRU_TEST_RUN") ??
    `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return runId;
}

/** etcd endpoints of the test environment. */
export function etcdEndpoints(): string[] {
  return (Deno.env.get("GRU_TEST_ETCD") ?? "http://127.0.0.1:2379").split(",");
}

/** Docker engine socket of the test environment. */
export function dockerSocket(): string {
  return Deno.env.get("GRU_TEST_DOCKER_SOCKET") ?? "/var/run/docker.sock";
}

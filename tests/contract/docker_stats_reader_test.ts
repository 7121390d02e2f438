import { DockerStatsUsageReader } from "../../src/adapters/docker/docker_stats_reader.ts";
import { usageReaderContract } from "./usage_reader_contract.ts";
import { testRuntime } from "../helpers/docker.ts";

Deno.test("DockerStatsUsageReader (real engine) meets the UsageReader contract", async (t) => {
  const reader = new DockerStatsUsageReader(testRuntime().streamDocker);
  try {
    await usageReaderContract(t, reader);
  } finally {
    await reader.close();
  }
});

import assert from "node:assert/strict";
import { CgroupUsageReader } from "../../src/adapters/cgroup/cgroup_usage_reader.ts";
import { usageReaderContract } from "./usage_reader_contract.ts";

Deno.test("CgroupUsageReader (real cgroup files) meets the UsageReader contract", async (t) => {
  const reader = await CgroupUsageReader.detect();
  assert.ok(reader, "cgroup files are readable on the test host");
  try {
    await usageReaderContract(t, reader);
  } finally {
    await reader.close();
  }
});

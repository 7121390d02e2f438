import { strictEqual } from "node:assert/strict";

const root = new URL("..", import.meta.url);

Deno.test("deploy/cloud-init.yaml embeds deploy/gru-agent.service unchanged", async () => {
  const unit = await Deno.readTextFile(new URL("deploy/gru-agent.service", root));
  const cloudInit = await Deno.readTextFile(new URL("deploy/cloud-init.yaml", root));
  strictEqual(cloudInit.split("\n")[0], "#cloud-config");
  // The unit's body from [Unit] on, as the block scalar under its write_files entry (6 spaces).
  const body = unit.slice(unit.indexOf("[Unit]")).trimEnd().split("\n");
  const start = cloudInit.indexOf("path: /etc/systemd/system/gru-agent.service");
  const block = cloudInit.slice(cloudInit.indexOf("content: |\n", start) + "content: |\n".length)
    .split("\n")
    .slice(0, body.length)
    .map((line) => line.replace(/^ {6}/, ""));
  strictEqual(block.join("\n"), body.join("\n"));
});

/**
 * The deployment files, checked by the tools that read them: `systemd-analyze verify` on
 * deploy/gru-agent.service and `cloud-init schema` on deploy/cloud-init.yaml (plus `bash -n` on
 * its shell scripts, which the schema does not look into). scripts/setup.sh installs both tools
 * (Debian packages systemd and cloud-init): a missing tool fails these tests, never skips them.
 * Each check is shown to fail once on a deliberately broken copy.
 */

import assert from "node:assert/strict";
import { binaryRunFlags } from "../tests/helpers/gru_process.ts";

const root = new URL("..", import.meta.url);
const UNIT = new URL("deploy/gru-agent.service", root).pathname;
const CLOUD_INIT = new URL("deploy/cloud-init.yaml", root).pathname;
/** Where deploy/cloud-init.yaml installs the binary, and where the unit runs it from. */
const BINARY = "/usr/local/bin/gru";

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; a missing one is an error saying which package setup.sh installs it from. */
async function tool(cmd: string, args: string[], pkg: string): Promise<Output> {
  try {
    const out = await new Deno.Command(cmd, { args, stdin: "null", env: { LANG: "C.UTF-8" } })
      .output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `${cmd} is not installed: the deployment checks need it (Debian package ${pkg}; ` +
          `scripts/setup.sh installs it)`,
      );
    }
    throw err;
  }
}

/**
 * `systemd-analyze verify` of a unit's text, as gru-agent.service, with its ExecStart binary
 * (`/usr/local/bin/gru`, absent here) replaced by `gru`, an executable stand-in that runs main.ts
 * under the compiled binary's permissions. Returns the problems it reported about the unit:
 * `verify` exits 0 on an unknown key or a bad value and only warns, so any line about the unit is
 * a problem.
 */
async function verifyUnit(text: string, dir: string): Promise<{ problems: string[]; gru: string }> {
  const execStart = text.split("\n").filter((l) => l.startsWith("ExecStart="));
  assert.equal(execStart.length, 1, `expected one ExecStart= line, found: ${execStart}`);
  const gru = `${dir}/bin/gru`;
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  const main = new URL("main.ts", root).pathname;
  await Deno.writeTextFile(
    gru,
    `#!/bin/sh\nexec ${Deno.execPath()} run ${binaryRunFlags().join(" ")} --quiet ${main} "$@"\n`,
    { mode: 0o755 },
  );
  const unit = `${dir}/gru-agent.service`;
  await Deno.writeTextFile(unit, text.replace(`ExecStart=${BINARY} `, `ExecStart=${gru} `));
  const r = await tool("systemd-analyze", ["verify", unit], "systemd");
  const problems = (r.stdout + r.stderr).split("\n")
    .filter((l) => l.includes("gru-agent") || l.includes(dir));
  if (r.code !== 0 && problems.length === 0) problems.push(`exit ${r.code}: ${r.stderr.trim()}`);
  return { problems, gru };
}

Deno.test("deploy/gru-agent.service passes systemd-analyze verify; a broken copy fails", async () => {
  const text = await Deno.readTextFile(UNIT);
  assert.match(text, new RegExp(`^ExecStart=${BINARY} agent$`, "m"));
  const dir = await Deno.makeTempDir({ prefix: "gru-unit-" });
  try {
    const { problems, gru } = await verifyUnit(text, dir);
    assert.deepEqual(problems, [], problems.join("\n"));
    // The command ExecStart runs exists in the CLI (here under the binary's permissions).
    const help = await tool(gru, ["agent", "--help"], "-");
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: gru agent/m);

    const broken = text.replace("[Service]\n", "[Service]\nRestrt=always\nType=forever\n");
    const bad = await verifyUnit(broken, `${dir}/broken`);
    assert.equal(bad.problems.length, 2, bad.problems.join("\n"));
    assert.match(bad.problems.join("\n"), /Unknown key 'Restrt'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `cloud-init schema` of a file: exit 0 and "Valid cloud-config", or its errors. */
function cloudInitSchema(path: string): Promise<Output> {
  return tool("cloud-init", ["schema", "--config-file", path], "cloud-init");
}

Deno.test("deploy/cloud-init.yaml passes cloud-init schema; a broken copy fails", async () => {
  const ok = await cloudInitSchema(CLOUD_INIT);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Valid cloud-config/);

  const dir = await Deno.makeTempDir({ prefix: "gru-cloud-init-" });
  try {
    const text = await Deno.readTextFile(CLOUD_INIT);
    assert.match(text, /^package_update: true$/m);
    await Deno.writeTextFile(
      `${dir}/wrong-type.yaml`,
      text.replace(/^package_update: true$/m, "package_update: sometimes"),
    );
    const wrongType = await cloudInitSchema(`${dir}/wrong-type.yaml`);
    assert.equal(wrongType.code, 1, wrongType.stdout);
    assert.match(wrongType.stderr, /package_update: 'sometimes' is not of type 'boolean'/);

    await Deno.writeTextFile(`${dir}/no-header.yaml`, text.replace(/^#cloud-config\n/, ""));
    const noHeader = await cloudInitSchema(`${dir}/no-header.yaml`);
    assert.equal(noHeader.code, 1, noHeader.stdout);
    assert.match(noHeader.stderr, /needs to begin with "#cloud-config"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The cloud-config as JSON, parsed by the YAML parser cloud-init itself uses. */
async function parseCloudConfig(path: string): Promise<Record<string, unknown>> {
  const r = await tool("/usr/bin/python3", [
    "-c",
    "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
    path,
  ], "python3-yaml (a dependency of cloud-init)");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** `bash -n` on every runcmd entry (a string is run by sh, a list is an argv). */
async function runcmdProblems(doc: Record<string, unknown>): Promise<string[]> {
  const problems: string[] = [];
  const runcmd = doc.runcmd as (string | string[])[];
  for (const [i, entry] of runcmd.entries()) {
    const script = typeof entry === "string"
      ? entry
      : entry[0] === "bash" && entry[1] === "-c"
      ? entry[2]!
      : entry.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    const r = await tool("bash", ["-n", "-c", script], "bash");
    if (r.code !== 0) problems.push(`runcmd[${i}]: ${r.stderr.trim()}`);
  }
  return problems;
}

Deno.test("deploy/cloud-init.yaml: its runcmd scripts parse (bash -n); a broken one fails", async () => {
  const doc = await parseCloudConfig(CLOUD_INIT);
  assert.ok(Array.isArray(doc.runcmd) && doc.runcmd.length > 0, "no runcmd");
  assert.deepEqual(await runcmdProblems(doc), []);
  const broken = structuredClone(doc);
  (broken.runcmd as unknown[]).push(["bash", "-c", "if true; then echo unterminated\n"]);
  const problems = await runcmdProblems(broken);
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0]!, /syntax error/);
});

Deno.test("deploy/cloud-init.yaml embeds deploy/gru-agent.service unchanged", async () => {
  const unit = await Deno.readTextFile(UNIT);
  const doc = await parseCloudConfig(CLOUD_INIT);
  const cloudInit = await Deno.readTextFile(CLOUD_INIT);
  assert.equal(cloudInit.split("\n")[0], "#cloud-config");
  const files = doc.write_files as { path: string; content: string }[];
  const embedded = files.find((f) => f.path === "/etc/systemd/system/gru-agent.service");
  assert.ok(embedded, "no write_files entry for /etc/systemd/system/gru-agent.service");
  // The unit's body from [Unit] on (the file's leading comment is for readers of the repository).
  assert.equal(embedded.content.trimEnd(), unit.slice(unit.indexOf("[Unit]")).trimEnd());
  // The binary the unit runs is the one cloud-init installs.
  assert.match(cloudInit, new RegExp(`install -m 0755 \\S+ ${BINARY}\\n`));
});

import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  compileArgs,
  isDenortDownloadFailure,
  parseArgs,
  permissionFlags,
  V8_FLAGS,
  WRITE_PATHS,
} from "./compile.ts";
import { binaryRunFlags } from "../tests/helpers/gru_process.ts";

Deno.test("parseArgs() reads --target, --output and --allow-write-extra", () => {
  deepStrictEqual(parseArgs([]), { output: "dist/gru", extraWrite: [] });
  deepStrictEqual(
    parseArgs(["--target=aarch64-unknown-linux-gnu", "-o", "out/gru", "--allow-write-extra", "/x"]),
    { target: "aarch64-unknown-linux-gnu", output: "out/gru", extraWrite: ["/x"] },
  );
  throws(() => parseArgs(["--output"]), TypeError);
  throws(() => parseArgs(["-A"]), TypeError);
});

Deno.test("compileArgs() grants explicit permissions, never -A or --allow-run", () => {
  const args = compileArgs({ output: "dist/gru", extraWrite: [] });
  strictEqual(args[0], "compile");
  strictEqual(args.at(-1), "main.ts");
  for (const forbidden of ["-A", "--allow-all", "--allow-run", "--allow-ffi"]) {
    strictEqual(args.some((a) => a === forbidden || a.startsWith(`${forbidden}=`)), false);
  }
  strictEqual(args.includes("--allow-write=/var/lib/gru,/tmp,/var/run,/run"), true);
});

Deno.test("isDenortDownloadFailure() recognises the DNS error of the denort download", () => {
  strictEqual(
    isDenortDownloadFailure(
      "error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-" +
        "unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address",
    ),
    true,
  );
  strictEqual(isDenortDownloadFailure("TS2322 [ERROR]: Type 'string' is not assignable"), false);
  strictEqual(isDenortDownloadFailure("Could not find denort at '/nope'"), false);
});

Deno.test("binaryRunFlags() (the tests' deno run flags) are compileArgs() minus build-only ones", () => {
  const flags = binaryRunFlags();
  deepStrictEqual(flags, [...permissionFlags(), ...V8_FLAGS]);
  const args = compileArgs({ target: "x86_64-unknown-linux-gnu", output: "o/gru", extraWrite: [] });
  deepStrictEqual(args.filter((a) => !flags.includes(a)), [
    "compile",
    "--target",
    "x86_64-unknown-linux-gnu",
    "--output",
    "o/gru",
    "--include",
    "src/console/assets",
    "main.ts",
  ]);
  for (const p of WRITE_PATHS) strictEqual(p.startsWith("/"), true, p);
});

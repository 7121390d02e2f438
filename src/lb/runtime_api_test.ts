/**
 * The runtime-API client's parsers on HAProxy 2.6's own answers, and `--socket` parsing.
 */

import assert from "node:assert/strict";
import { parseServersState, parseSessions, parseSocketAddress } from "./runtime_api.ts";

// Captured from HAProxy 2.6.12 (`show servers state app`).
const STATE = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state " +
  "srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result " +
  "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn " +
  "srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n" +
  "3 app 1 gru-web-aaaaaaaaaaaa 127.0.0.1 2 8 1 1 3 6 3 2 6 0 0 0 - 28091 - 0 0 - - 0\n\n";

Deno.test("parseServersState reads HAProxy's table and refuses anything else", () => {
  assert.deepEqual(parseServersState(STATE, "show servers state app"), [
    { name: "gru-web-aaaaaaaaaaaa", address: "127.0.0.1", port: 28091, operational: 2, admin: 8 },
  ]);
  assert.deepEqual(parseServersState(STATE.split("\n").slice(0, 2).join("\n"), "c"), []);
  assert.throws(
    () => parseServersState("Can't find backend.\n\n", "show servers state nope"),
    /HAProxy refused "show servers state nope": "Can't find backend."/,
  );
});

Deno.test("parseSessions reads current sessions and queue of one backend's servers", () => {
  const csv = "# pxname,svname,qcur,qmax,scur,smax\nfe,FRONTEND,,,3,4\n" +
    "app,s1,1,2,5,6\napp,s2,0,0,0,1\nother,s1,0,0,9,9\napp,BACKEND,1,2,5,6\n";
  assert.deepEqual([...parseSessions(csv, "app")], [
    ["s1", { sessions: 5, queued: 1 }],
    ["s2", { sessions: 0, queued: 0 }],
  ]);
  assert.equal(parseSessions("garbage", "app").size, 0);
});

Deno.test("parseSocketAddress: a path, unix@, host:port; anything else is refused", () => {
  assert.deepEqual(parseSocketAddress("/run/haproxy/admin.sock"), {
    transport: "unix",
    path: "/run/haproxy/admin.sock",
  });
  assert.deepEqual(parseSocketAddress("unix@admin.sock"), {
    transport: "unix",
    path: "admin.sock",
  });
  assert.deepEqual(parseSocketAddress("ipv4@127.0.0.1:9999"), {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 9999,
  });
  for (const bad of ["", "localhost", "h:0", "h:70000", "a b:1"]) {
    assert.throws(() => parseSocketAddress(bad), /Invalid --socket .*expected the path/, bad);
  }
});

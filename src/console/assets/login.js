/**
 * The login page, shown when the console listens on a non-loopback address: the cluster token
 * (or the console password) buys an HttpOnly session cookie.
 */

import { message, send } from "./api.js";
import { h, heading, replace } from "./dom.js";

/** Renders the login form; `done()` runs once signed in. */
export function renderLogin(ctx, done) {
  const secret = h("input", {
    type: "password",
    id: "login-secret",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "login-help",
  });
  const kind = h(
    "select",
    { id: "login-kind" },
    h("option", { value: "token" }, "Cluster token"),
    h("option", { value: "password" }, "Console password"),
  );
  const error = h("p", { id: "login-error", class: "error", role: "alert" });
  // For password managers: the secret belongs to this console.
  const user = h("input", {
    type: "text",
    autocomplete: "username",
    value: "gru-console",
    hidden: true,
    "aria-hidden": "true",
    tabindex: "-1",
  });
  const form = h(
    "form",
    { class: "login", id: "login-form" },
    user,
    h("label", { for: "login-kind" }, "Sign in with"),
    kind,
    h("label", { for: "login-secret" }, "Secret"),
    secret,
    h(
      "p",
      { id: "login-help", class: "muted small" },
      "The cluster token is printed by `gru token show <cluster> --reveal`; the console password " +
        "is the one in the console's --password-file.",
    ),
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  replace(ctx.main, heading("Sign in to the Gru Console"), form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      await send("POST", "/api/login", { [kind.value]: secret.value });
      secret.value = "";
      await done();
    } catch (e) {
      error.textContent = e?.status === 401
        ? "Sign-in refused: that secret is not right for this console."
        : e?.status === 429
        ? "Too many failed sign-ins from this address: wait a minute, then try again."
        : `Cannot sign in: ${message(e)}`;
    }
  });
  secret.focus();
  return {};
}

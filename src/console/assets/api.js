/**
 * The console's JSON API client. Every call names the cluster in view; a 401 answer sends the
 * user to the login page; errors carry the server's `{error}` text.
 */

/** The cluster in view (set from the session and the cluster picker). */
export const state = { cluster: "", clusters: [], login: "none" };

/** Thrown for a non-2xx answer: `status`, the server's message and its JSON body. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function withCluster(path) {
  if (!state.cluster) return path;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}cluster=${encodeURIComponent(state.cluster)}`;
}

async function parse(res, what) {
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: text.slice(0, 200) };
  }
  if (res.status === 401 && !what.endsWith("/api/login")) {
    location.hash = "#/login";
  }
  if (!res.ok && !(res.status === 400 && body && Array.isArray(body.problems))) {
    throw new ApiError(res.status, body?.error ?? `${what}: HTTP ${res.status}`, body);
  }
  return body;
}

/** GET `path` (with the cluster) as JSON. */
export async function get(path) {
  const url = withCluster(path);
  return parse(await fetch(url, { headers: { accept: "application/json" } }), `GET ${path}`);
}

/**
 * Sends `body` as JSON with `method` to `path` (with the cluster). A 400 answer that lists
 * `problems` is returned, not thrown: it is a validation result.
 */
export async function send(method, path, body) {
  const res = await fetch(withCluster(path), {
    method,
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  return parse(res, `${method} ${path}`);
}

/** The message of any error, for display. */
export function message(e) {
  return e instanceof Error ? e.message : String(e);
}

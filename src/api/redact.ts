/**
 * What an agent's API leaves out: secrets never leave the agent. Documents are shown with their
 * keys and their secret values replaced by {@linkcode REDACTED}:
 *
 * - metric credentials: every `Metric.Configuration` value except the known harmless settings
 *   (`Url` without its user info, `DbName`, `Org`, `Bucket` and the buffer settings);
 * - Docker TLS: the key, certificate and CA paths (`Verify` stays);
 * - every service `Env` value (the names stay);
 * - a service's metric sources: header values and the basic-auth password;
 * - user info in any URL (`http://user:pass@host` → `http://<redacted>@host`).
 *
 * The full documents are in etcd, where `gru config get` and `gru manage` read them.
 *
 * @module
 */

import type { AgentConfig, MetricSource, ServiceDescriptor } from "../domain/model.ts";

/** What a secret value is replaced with. */
export const REDACTED = "<redacted>";

/** `Metric.Configuration` keys (lower case) whose values are settings, not credentials. */
const METRIC_SETTINGS = new Set([
  "url",
  "dbname",
  "org",
  "bucket",
  "precision",
  "timeoutms",
  "flushintervalms",
  "maxbuffered",
  "batchsize",
]);

const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i;

/**
 * Removes the user info (`user:password@`) of a URL-like string; anything else is kept.
 *
 * @param value A URL, or any text.
 * @returns The value without credentials.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * redactUrl("http://admin:pw@influx:8086"); // "http://<redacted>@influx:8086"
 * ```
 */
export function redactUrl(value: string): string {
  return value.replace(USER_INFO, `$1${REDACTED}@`);
}

/**
 * The metric settings with every credential replaced (keys are kept, so a reader sees which
 * ones are set).
 *
 * @param configuration `Metric.Configuration`.
 * @returns A redacted copy.
 */
export function redactMetricConfiguration(
  configuration: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration)) {
    const lower = key.toLowerCase();
    if (!METRIC_SETTINGS.has(lower)) out[key] = REDACTED;
    else out[key] = lower === "url" ? redactUrl(value) : value;
  }
  return out;
}

/**
 * The agent configuration as the API shows it: metric credentials, Docker TLS paths and URL
 * user info replaced by {@linkcode REDACTED}.
 *
 * @param config The configuration in force.
 * @returns A redacted copy; the input is not changed.
 */
export function redactAgentConfig(config: AgentConfig): AgentConfig {
  const tls = config.docker.tls;
  return {
    ...config,
    docker: {
      ...config.docker,
      daemonUrl: redactUrl(config.docker.daemonUrl),
      ...(tls ? { tls: { ...tls, ca: REDACTED, cert: REDACTED, key: REDACTED } } : {}),
    },
    metric: {
      ...config.metric,
      configuration: redactMetricConfiguration(config.metric.configuration ?? {}),
    },
  };
}

/**
 * A service as the API shows it: every `Env` value replaced by {@linkcode REDACTED} (the names
 * stay, so a reader sees which variables are set).
 *
 * @param service A service descriptor, or anything that extends one (a service view).
 * @returns A redacted copy; the input is not changed.
 *
 * @example
 * ```ts ignore
 * redactService(web).configuration.env; // { DB_PASSWORD: "<redacted>" }
 * ```
 */
export function redactService<T extends ServiceDescriptor>(service: T): T {
  const env: Record<string, string> = {};
  for (const key of Object.keys(service.configuration?.env ?? {})) env[key] = REDACTED;
  const out = { ...service, configuration: { ...service.configuration, env } };
  if (service.metricSources) out.metricSources = redactMetricSources(service.metricSources);
  return out;
}

/**
 * A service's metric sources with their secrets replaced: every header value and the basic-auth
 * password (the header names and the user name stay), and user info in the URL.
 *
 * @param sources `MetricSources` of a service.
 * @returns A redacted copy.
 */
export function redactMetricSources(
  sources: Record<string, MetricSource>,
): Record<string, MetricSource> {
  const out: Record<string, MetricSource> = {};
  for (const [name, source] of Object.entries(sources)) {
    const headers: Record<string, string> = {};
    for (const key of Object.keys(source.headers ?? {})) headers[key] = REDACTED;
    out[name] = {
      ...source,
      url: redactUrl(source.url),
      headers,
      ...(source.basicAuth
        ? { basicAuth: { username: source.basicAuth.username, password: REDACTED } }
        : {}),
    };
  }
  return out;
}

const SECRET_KEY =
  /^(password|passwd|token|secret|apikey|api_key|privatekey|private_key|env|headers)$/i;

/**
 * A defensive copy of a value of unknown shape (a command's `data`): values under keys named
 * like a secret (`password`, `token`, `secret`, `apiKey`, `privateKey`) are replaced, an `env`
 * map or `NAME=value` list keeps only its names, and URL user info is removed. Depth is
 * bounded (deeper parts are dropped). A `headers` map keeps only its names, like `env`.
 *
 * @param value Any JSON-like value.
 * @returns The redacted copy.
 */
export function redactUnknown(value: unknown, depth = 0): unknown {
  if (depth > 12) return REDACTED;
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactUnknown(v, depth + 1));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!SECRET_KEY.test(key)) out[key] = redactUnknown(v, depth + 1);
    else if (!["env", "headers"].includes(key.toLowerCase())) out[key] = REDACTED;
    else if (Array.isArray(v)) {
      out[key] = v.map((e) => typeof e === "string" ? `${e.split("=")[0]}=${REDACTED}` : REDACTED);
    } else if (typeof v === "object" && v !== null) {
      out[key] = Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED]));
    } else out[key] = REDACTED;
  }
  return out;
}

/**
 * The configuration manager's documents: what is in force (secrets redacted), an edit checked by
 * the CLI's own validator (`configFromFiles`, the loader of `gru config validate` and `import`,
 * then `validateClusterDocs` over what the cluster would hold), the diff against what is in force,
 * and the write in one transaction (`ClusterStore.importDocs`, as `gru config import`).
 *
 * @module
 */

import type { ClusterStore } from "../../cluster/cluster_store.ts";
import { assertName, clusterKeys, EMPTY_DOCUMENT } from "../../cluster/keys.ts";
import { type ConfigEntry, configFromFiles } from "../../config/config_files.ts";
import { formatPath, formatProblem, type Problem, problem } from "../../config/problem.ts";
import { type DocSource, type DocSources, validateClusterDocs } from "../../config/validate.ts";
import { errorMessage } from "../../domain/errors.ts";
import { excerpt } from "../../domain/excerpt.ts";
import type { Analytic, ClusterDocs, ServiceDescriptor } from "../../domain/model.ts";
import { lineDiff } from "./diff.ts";
import { type DocKind, locate, pretty, redactDoc, restoreRedacted } from "./doc_text.ts";
import { HttpError } from "./context.ts";

/** An edit as posted: the kind, the name (services and analytics), the text. */
export interface DocEdit {
  kind: DocKind;
  name?: string | undefined;
  text: string;
}

/** A problem as the console shows it. */
export interface ConsoleProblem {
  path: string;
  message: string;
  severity: "error" | "warning";
  /** Set when the problem is in another document than the edited one. */
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

/** Largest document text accepted. */
export const MAX_TEXT = 256 * 1024;

/**
 * Reads the body of a validate, put or delete request.
 *
 * @param route The route, for errors.
 * @param body The decoded JSON.
 * @param needText Whether `text` is required (not for a delete).
 * @returns The edit.
 * @throws {HttpError} 400 naming the field and what was expected.
 */
export function parseEdit(route: string, body: unknown, needText = true): DocEdit {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(
      400,
      `${route}: expected a JSON object {kind, name?, text}, found ${excerpt(body)}`,
    );
  }
  const b = body as Record<string, unknown>;
  const kinds = ["config", "policy", "service", "analytic"];
  if (!kinds.includes(b.kind as string)) {
    throw new HttpError(
      400,
      `${route}: expected kind to be one of ${kinds.join(", ")}, found ${excerpt(b.kind)}`,
    );
  }
  const kind = b.kind as DocKind;
  let name: string | undefined;
  if (kind === "service" || kind === "analytic") {
    if (typeof b.name !== "string") {
      throw new HttpError(
        400,
        `${route}: expected name, the ${kind}'s name, found ${excerpt(b.name)}`,
      );
    }
    try {
      assertName(kind, b.name);
    } catch (err) {
      throw new HttpError(400, `${route}: ${errorMessage(err)}`);
    }
    name = b.name;
  }
  const text = b.text ?? "";
  if (needText && (typeof text !== "string" || text.length > MAX_TEXT)) {
    throw new HttpError(
      400,
      `${route}: expected text, the document as JSON (at most ${MAX_TEXT} characters)`,
    );
  }
  return { kind, name, text: typeof text === "string" ? text : "" };
}

/** The stored documents the console validates against (the ones that parse). */
interface Stored {
  docs: Required<Pick<ClusterDocs, "services" | "analytics">> & ClusterDocs;
  sources: DocSources;
  refused: { kind: DocKind; name: string; error: string }[];
  defaults: ("config" | "policy")[];
}

async function readStored(store: ClusterStore, cluster: string): Promise<Stored> {
  await store.requireCluster(cluster);
  const k = clusterKeys(cluster);
  const [rawConfig, rawPolicy, services, analytics] = await Promise.all([
    store.kv.get(k.config),
    store.kv.get(k.policy),
    store.checkServices(cluster),
    store.checkAnalytics(cluster),
  ]);
  const present = (raw: string | undefined) =>
    raw !== undefined && raw.trim() !== EMPTY_DOCUMENT && raw.trim() !== "";
  const refused: Stored["refused"] = [];
  const docs: Stored["docs"] = { services: [], analytics: [] };
  const defaults: Stored["defaults"] = [];
  for (
    const [kind, raw, read] of [
      ["config", rawConfig, () => store.getConfig(cluster)],
      ["policy", rawPolicy, () => store.getPolicy(cluster)],
    ] as const
  ) {
    if (!present(raw)) defaults.push(kind);
    try {
      const value = await read();
      if (kind === "config") docs.config = value as ClusterDocs["config"];
      else docs.policy = value as ClusterDocs["policy"];
    } catch (err) {
      refused.push({ kind, name: kind, error: errorMessage(err) });
    }
  }
  const etcd = (key: string): DocSource => ({ file: `etcd:${key}`, pathOf: formatPath });
  const serviceSources = new Map<string, DocSource>();
  const analyticSources = new Map<string, DocSource>();
  for (const s of services) {
    if (s.value) {
      docs.services.push(s.value);
      serviceSources.set(s.value.name, etcd(s.key));
    } else refused.push({ kind: "service", name: s.name, error: s.error });
  }
  const unloaded = new Set<string>();
  for (const a of analytics) {
    if (a.value) {
      docs.analytics.push(a.value);
      analyticSources.set(a.value.name, etcd(a.key));
    } else {
      refused.push({ kind: "analytic", name: a.name, error: a.error });
      unloaded.add(a.name);
    }
  }
  const sources: DocSources = {
    config: etcd(k.config),
    policy: etcd(k.policy),
    services: serviceSources,
    analytics: analyticSources,
    unloadedAnalytics: unloaded,
  };
  return { docs, sources, refused, defaults };
}

/** `GET /api/documents`: every document in force, secrets redacted. */
export async function readDocuments(store: ClusterStore, cluster: string) {
  const { docs, refused, defaults } = await readStored(store, cluster);
  return {
    config: docs.config === undefined ? null : redactDoc("config", docs.config),
    policy: docs.policy ?? null,
    services: Object.fromEntries(docs.services.map((s) => [s.name, redactDoc("service", s)])),
    analytics: Object.fromEntries(docs.analytics.map((a) => [a.name, a])),
    defaults,
    refused: refused.map((r) => ({ ...r, error: r.error.slice(0, 300) })),
  };
}

function fileOf(edit: DocEdit): string {
  switch (edit.kind) {
    case "config":
      return "config.json";
    case "policy":
      return "policy.json";
    case "service":
      return `services/${edit.name}.json`;
    case "analytic":
      return `analytics/${edit.name}.json`;
  }
}

function storedOf(stored: Stored, edit: DocEdit): unknown {
  if (edit.kind === "config") return stored.docs.config;
  if (edit.kind === "policy") return stored.docs.policy;
  const set: { name: string }[] = edit.kind === "service"
    ? stored.docs.services
    : stored.docs.analytics;
  return set.find((d) => d.name === edit.name);
}

function replaced<T extends { name: string }>(set: readonly T[], name: string, doc?: T): T[] {
  const out = set.filter((d) => d.name !== name);
  if (doc) out.push(doc);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** What checking an edit found: its problems, the diff, and (when valid) what to write. */
export interface Checked {
  ok: boolean;
  problems: ConsoleProblem[];
  diff: string;
  /** The documents to import, when there is no error. */
  write?: ClusterDocs | undefined;
  /** The stored document of the edit, if any. */
  existed: boolean;
}

function shown(p: Problem, file: string, text: string): ConsoleProblem {
  const mine = p.file === file;
  const at = mine ? locate(text, p.path, p.message) : undefined;
  return {
    path: p.path,
    message: p.message,
    severity: p.severity,
    ...(mine ? {} : { file: p.file }),
    ...(at ?? {}),
  };
}

/**
 * Checks an edit (or, with `remove`, the deletion of a service or analytic) against what the
 * cluster holds: the problems of the edited document (each at its JSON path, located in the text),
 * the problems it would cause in other documents, and the diff against what is in force.
 *
 * @param store The cluster store.
 * @param cluster The cluster.
 * @param edit The edit.
 * @param remove Check deleting `edit.name` instead.
 * @returns What was found; `write` holds the documents to import when `ok`.
 */
export async function checkEdit(
  store: ClusterStore,
  cluster: string,
  edit: DocEdit,
  remove = false,
): Promise<Checked> {
  const stored = await readStored(store, cluster);
  const file = fileOf(edit);
  const before = storedOf(stored, edit);
  let value: unknown;
  const problems: Problem[] = [];
  if (!remove) {
    const entries = new Map<string, ConfigEntry>([[file, { kind: "file", text: edit.text }]]);
    if (edit.kind === "service") entries.set("services", { kind: "directory" });
    if (edit.kind === "analytic") entries.set("analytics", { kind: "directory" });
    const loaded = await configFromFiles({ dir: "console", kind: "directory", entries }, {
      crossCheck: false,
    });
    problems.push(...loaded.problems);
    const d = loaded.docs;
    value = edit.kind === "config"
      ? d.config
      : edit.kind === "policy"
      ? d.policy
      : edit.kind === "service"
      ? d.services?.[0]
      : d.analytics?.[0];
    if (
      value !== undefined && edit.name !== undefined &&
      (value as { name: string }).name !== edit.name
    ) {
      problems.push(problem({ file, path: "$.name" }, {
        expected:
          `"${edit.name}", the name of the ${edit.kind} being edited (create a new one to rename)`,
        found: excerpt((value as { name: string }).name, 60),
      }));
      value = undefined;
    }
    if (value !== undefined) {
      const restored = restoreRedacted(value, before);
      for (const path of restored.missing) {
        problems.push(problem({ file, path: formatPath(path) }, {
          expected: "a value (<redacted> keeps a stored value, and none is stored here)",
          found: `"<redacted>"`,
        }));
      }
      value = restored.missing.length > 0 ? undefined : restored.value;
    }
  } else if (before === undefined) {
    throw new HttpError(
      404,
      `DELETE /api/documents: expected name to be a stored ${edit.kind}; no ${
        excerpt(edit.name, 60)
      }`,
    );
  }
  const after: ClusterDocs = { ...stored.docs };
  const sources: DocSources = { ...stored.sources };
  const src: DocSource = { file, pathOf: formatPath };
  const write: ClusterDocs = {};
  if (value !== undefined || remove) {
    if (edit.kind === "config") after.config = write.config = value as ClusterDocs["config"];
    if (edit.kind === "policy") after.policy = write.policy = value as ClusterDocs["policy"];
    if (edit.kind === "service") {
      const doc = value as ServiceDescriptor | undefined;
      after.services = replaced(stored.docs.services, edit.name!, doc);
      if (doc) write.services = [{ ...doc, remote: clusterKeys(cluster).service(doc.name) }];
      sources.services = new Map([
        ...stored.sources.services ?? [],
        ...(doc ? [[doc.name, src] as const] : []),
      ]);
    }
    if (edit.kind === "analytic") {
      const doc = value as Analytic | undefined;
      after.analytics = replaced(stored.docs.analytics, edit.name!, doc);
      if (doc) write.analytics = [doc];
      sources.analytics = new Map([
        ...stored.sources.analytics ?? [],
        ...(doc ? [[doc.name, src] as const] : []),
      ]);
    }
    // Problems the cluster already had are not this edit's; new ones anywhere are.
    const had = new Set(
      (await validateClusterDocs(stored.docs, stored.sources)).map(formatProblem),
    );
    for (const p of await validateClusterDocs(after, sources)) {
      if (p.file === file || !had.has(formatProblem(p))) problems.push(p);
    }
  }
  const unique = [...new Map(problems.map((p) => [formatProblem(p), p])).values()];
  const ok = (value !== undefined || remove) && !unique.some((p) => p.severity === "error");
  const redacted = (v: unknown) => v === undefined ? "" : pretty(redactDoc(edit.kind, v));
  const diff = value === undefined && !remove
    ? ""
    : lineDiff(redacted(before), remove ? "" : redacted(value));
  return {
    ok,
    problems: unique.map((p) => shown(p, file, edit.text)),
    diff,
    write: ok ? write : undefined,
    existed: before !== undefined,
  };
}

/** A valid service document to start from. */
export function serviceTemplate(): Record<string, unknown> {
  return {
    name: "new-service",
    type: "webserver",
    image: "nginx:1.27-alpine",
    remote: "",
    discoveryPort: "80",
    analytics: [],
    constraints: {},
    minInstances: 0,
    maxInstances: 3,
    configuration: { cpuNumber: 1, memory: "128M", env: {}, ports: { "80": "8000-8099" } },
  };
}

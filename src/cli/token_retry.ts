/**
 * Agent calls that survive a token rotation: a client sends the token it read from etcd; when an
 * agent answers 401 (the token changed since, and the old one's grace is over), the token is
 * read again and the call is tried once more with the new one.
 *
 * @module
 */

import { UnauthorizedError } from "../domain/errors.ts";

/**
 * A runner of agent calls with the cluster token.
 *
 * @param options The token read first, how to read it again, and how to make a client for a
 *   token.
 * @returns `run(op)`: calls `op` with a client; on 401 re-reads the token and, when it changed,
 *   calls `op` once more with a client for the new token.
 *
 * @example
 * ```ts ignore
 * const run = tokenRetrying({ token, read: () => store.token(c), client: (t) => agents(t) });
 * await run((agent) => agent.get(address, "/node"));
 * ```
 */
export function tokenRetrying<A>(options: {
  token: string | undefined;
  read: () => Promise<string | undefined>;
  client: (token: string | undefined) => A;
}): <T>(op: (agent: A) => Promise<T>) => Promise<T> {
  let token = options.token;
  let agent = options.client(token);
  let rereading: Promise<void> | undefined;
  return async <T>(op: (agent: A) => Promise<T>): Promise<T> => {
    const used = agent;
    try {
      return await op(used);
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
      if (used === agent) {
        // One re-read for every call that failed at the same time.
        rereading ??= options.read().then((fresh) => {
          if (fresh !== token) {
            token = fresh;
            agent = options.client(fresh);
          }
        }, () => {}).finally(() => rereading = undefined);
        await rereading;
      }
      if (used === agent) throw err;
      return await op(agent);
    }
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Queryable } from './client.js';

type BeforeCommit = (tx: Queryable) => Promise<void>;

const hooks = new AsyncLocalStorage<BeforeCommit>();

/**
 * Runs `fn` so that every transaction it opens, however deep in the services, runs `hook` as its
 * last statement before it commits: what the hook writes commits with the change or not at all.
 */
export function withBeforeCommit<T>(hook: BeforeCommit, fn: () => T): T {
  return hooks.run(hook, fn);
}

/** `work` followed by the hook of the calling context, if there is one. */
export function withCommitHook<T>(work: (tx: Queryable) => Promise<T>): (tx: Queryable) => Promise<T> {
  const hook = hooks.getStore();
  if (!hook) return work;
  return async (tx) => {
    const result = await work(tx);
    await hook(tx);
    return result;
  };
}

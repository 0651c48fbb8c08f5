import type { Queryable } from './client.js';

/**
 * Runs `work` inside a savepoint of the open transaction `tx`: if it throws, what it wrote is
 * undone and the transaction goes on (a failed statement would otherwise abort all of it).
 * Used where one request makes many independent changes, each of which may be refused alone.
 */
export async function inSavepoint<T>(tx: Queryable, work: () => Promise<T>): Promise<T> {
  await tx.query('savepoint entry');
  try {
    const result = await work();
    await tx.query('release savepoint entry');
    return result;
  } catch (error) {
    await tx.query('rollback to savepoint entry');
    throw error;
  }
}

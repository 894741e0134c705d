import type { ServerConfig } from '../config/config.ts';
import { openDatabase } from '../store/database.ts';
import type { MigrationProgress } from '../store/migrations/index.ts';
import { createStore, type Store } from '../store/store.ts';

/**
 * The configured database's store for a command that needs no server runtime (migrate, audit,
 * agents): migrated first (`progress` hears of each migration applied), closed once `fn` is done.
 */
export async function withCommandStore<T>(config: ServerConfig, fn: (store: Store) => Promise<T>, progress?: MigrationProgress): Promise<T> {
  const store = createStore(openDatabase(config.databaseUrl, { synchronous: config.sqliteSynchronous, poolSize: 2 }));
  try {
    await store.migrate(progress);
    return await fn(store);
  } finally {
    await store.close();
  }
}

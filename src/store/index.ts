/** The store (DESIGN.md §6): `createPlanStore` opens PGlite in a folder, or PostgreSQL at a URL. */
import type { PlanStore } from './plan-store.js';
import { SqlPlanStore } from './sql-plan-store.js';
import { openPg, openPglite } from './sql-client.js';

export * from './plan-store.js';
export * from './outbox.js';
export { documentTextOf } from './plan-rows.js';
export { StatisticsKeeper, type StatisticsKeeping } from './statistics.js';

/**
 * Where the store keeps its data: PGlite, embedded, in `dataDir` (created when missing; one process
 * at a time), or the PostgreSQL server at `databaseUrl` (several processes may share it), its statements
 * prepared by name unless `prepare` is false (src/store/sql-client.ts).
 */
export type PlanStoreOptions =
  | { readonly dataDir: string }
  | {
      readonly databaseUrl: string;
      readonly prepare?: boolean;
      /** Told once when the pool's statement names are used up (`StatementNames`): a log's warning. */
      readonly onStatementNamesFull?: (max: number) => void;
    };

/** Opens the store; call `migrate()` before using it (every start may: it applies only what is new). */
export async function createPlanStore(options: PlanStoreOptions): Promise<PlanStore> {
  const client =
    'databaseUrl' in options
      ? openPg(options.databaseUrl, {
          ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
          ...(options.onStatementNamesFull === undefined ? {} : { onStatementNamesFull: options.onStatementNamesFull }),
        })
      : await openPglite(options.dataDir);
  return new SqlPlanStore(client);
}

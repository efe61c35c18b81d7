/** The store on PGlite, embedded: the contract in a fresh folder per store, and a folder reopened. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planResourceIds } from '../../src/fhir/index.js';
import { createPlanStore } from '../../src/store/index.js';
import { openPglite } from '../../src/store/sql-client.js';
import { SqlPlanStore } from '../../src/store/sql-plan-store.js';
import { readExample } from '../support/examples.js';
import { planStoreContract } from './contract.js';

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'sip-store-'));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

planStoreContract('PGlite', async () => {
  const folder = await freshFolder();
  const client = await openPglite(join(folder, 'data'));
  const store = new SqlPlanStore(client);
  await store.migrate();
  return {
    store,
    sql: client,
    dispose: async () => {
      await store.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
});

describe('PlanStore on PGlite in a folder', () => {
  it('applies migration 10 without lz4, which PGlite is built without: large values stay pglz', async () => {
    const client = await openPglite(join(await freshFolder(), 'data'));
    const store = new SqlPlanStore(client);
    try {
      await store.migrate();
      const applied = await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE version = 10');
      expect(applied).toEqual([{ version: 10 }]);
      const plan = { ...readExample('adult-psychiatry-addiction.json'), version: 1 };
      await store.create(plan, 'system', planResourceIds(plan));
      expect(await client.query('SELECT pg_column_compression(document) AS method FROM plan_versions WHERE plan_id = $1', [plan.id])).toEqual([{ method: 'pglz' }]);
    } finally {
      await store.close();
    }
  });

  it('keeps plans and the audit log across close and reopen', async () => {
    const dataDir = join(await freshFolder(), 'nested', 'data');
    const plan = { ...readExample('representative-god-man.json'), version: 1 };
    const first = await createPlanStore({ dataDir });
    await first.migrate();
    const created = await first.create(plan, 'system', planResourceIds(plan));
    const next = { ...plan, version: 2, notes: 'Before the restart' };
    await first.update(next, 1, 'system', planResourceIds(next));
    await first.audit({ at: '2025-10-28T09:00:00.000Z', organization: 'SE2321000164-1000', action: 'create', what: 'POST /sip/plans', outcome: 'success' });
    await first.close();

    const second = await createPlanStore({ dataDir });
    try {
      await second.migrate();
      expect(await second.get(plan.id, 1)).toEqual(created);
      expect((await second.get(plan.id))?.plan.notes).toBe('Before the restart');
      expect((await second.search({ personIdentifier: plan.individual.identifier.value })).total).toBe(1);
      expect(await second.auditLog({ organization: 'SE2321000164-1000' })).toEqual([
        { id: expect.stringMatching(/^[1-9][0-9]*$/) as unknown, at: '2025-10-28T09:00:00.000Z', organization: 'SE2321000164-1000', action: 'create', what: 'POST /sip/plans', outcome: 'success' },
      ]);
    } finally {
      await second.close();
    }
  });
});

/**
 * `sip-fhir deliveries list | show | retry | skip` on the store directly: the embedded store in a folder
 * (SIP_DATA_DIR) and PostgreSQL (DATABASE_URL, --database-url), with the exit statuses of the other
 * commands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeliveries } from '../../src/cli/deliveries-command.js';
import { main } from '../../src/cli/main.js';
import { OutboxWorker } from '../../src/exchange/index.js';
import { createPlanStore, type Delivery, type PlanStore } from '../../src/store/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres-scratch.js';
import { NOW } from '../support/http-server.js';
import { consentDecision, httpConnector, startReceiver, writeVersions, type TestReceiver } from '../exchange/outbox-support.js';

async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { out: (text: string) => (out += `${text}\n`), err: (text: string) => (err += `${text}\n`) };
  const status = argv[0] === 'deliveries' && Object.keys(env).length > 0 ? await runDeliveries(argv.slice(1), io, env) : await main(argv, io);
  return { status, out, err };
}

/** One delivered and one dead delivery of plan sip-cli-1 in the store. */
async function seed(store: PlanStore, receiver: TestReceiver): Promise<void> {
  receiver.script = (key) => (key.endsWith('/2/kommun-falun') ? { status: 400 } : undefined);
  await writeVersions(store, 'sip-cli-1', 2, ['kommun-falun']);
  const worker = new OutboxWorker({
    outbox: store.outbox,
    audit: (entry) => store.audit(entry),
    receivers: [{ id: 'kommun-falun', organization: '212000-2080' }],
    connectorFor: () => httpConnector(receiver.url),
    decide: consentDecision(),
    clock: () => NOW,
  });
  expect(await worker.runUntilIdle()).toBe(2);
}

describe('sip-fhir deliveries', () => {
  let receiver: TestReceiver;
  let folder: string;
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    receiver = await startReceiver();
    folder = mkdtempSync(join(tmpdir(), 'sip-cli-deliveries-'));
    const embedded = await createPlanStore({ dataDir: join(folder, 'data') });
    await embedded.migrate();
    await seed(embedded, receiver);
    await embedded.close();
    scratch = await createScratchDatabase();
    const server = await createPlanStore({ databaseUrl: scratch.url });
    await server.migrate();
    await seed(server, receiver);
    await server.close();
  }, 120_000);
  afterAll(async () => {
    await receiver.close();
    rmSync(folder, { recursive: true, force: true });
    await scratch.drop();
  }, 120_000);

  it('lists, shows and retries on the embedded store in SIP_DATA_DIR', async () => {
    const env = { SIP_DATA_DIR: join(folder, 'data') };
    const listed = await run(['deliveries', 'list'], env);
    expect(listed).toMatchObject({ status: 0, err: '' });
    expect(listed.out).toBe(
      '1  delivered  sip-cli-1/1  → kommun-falun  attempts 1  last: HTTP 200\n' +
        '2  dead  sip-cli-1/2  → kommun-falun  attempts 1  last: HTTP 400: refused by the receiver: HTTP 400 (HTTP 400)\n',
    );
    const dead = await run(['deliveries', 'list', '--state', 'dead', '--json'], env);
    expect((JSON.parse(dead.out) as { id: string }[]).map((delivery) => delivery.id)).toEqual(['2']);
    const shown = await run(['deliveries', 'show', '2'], env);
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ id: '2', state: 'dead', attempts: 1, lastStatus: 400, receiverId: 'kommun-falun' });
    expect(await run(['deliveries', 'retry', '1'], env)).toEqual({ status: 1, out: '', err: 'sip-fhir deliveries: delivery 1 is delivered; only a dead letter can be retried\n' });
    expect(await run(['deliveries', 'retry', '2'], env)).toEqual({ status: 0, out: 'delivery 2 (sip-cli-1/2 → kommun-falun) is pending again; the worker delivers it\n', err: '' });
    expect(JSON.parse((await run(['deliveries', 'show', '2'], env)).out)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await run(['deliveries', 'show', '9'], env)).toEqual({ status: 1, out: '', err: 'sip-fhir deliveries: there is no delivery 9\n' });
  }, 120_000);

  it('works on PostgreSQL through --database-url and DATABASE_URL', async () => {
    const listed = await run(['deliveries', 'list', '--state', 'dead', '--database-url', scratch.url]);
    expect(listed.status).toBe(0);
    expect(listed.out).toMatch(/^\d+ {2}dead {2}sip-cli-1\/2 {2}→ kommun-falun/);
    const id = listed.out.split(' ')[0] ?? '';
    expect((await run(['deliveries', 'retry', id], { DATABASE_URL: scratch.url })).status).toBe(0);
    expect((await run(['deliveries', 'list', '--state', 'dead'], { DATABASE_URL: scratch.url })).out).toBe('');
  }, 120_000);

  it('skips a dead letter with a reason, on the embedded store and on PostgreSQL, and the audit log says who and why', async () => {
    const embedded = { SIP_DATA_DIR: join(folder, 'skip-data') };
    const embeddedStore = await createPlanStore({ dataDir: join(folder, 'skip-data') });
    await embeddedStore.migrate();
    await seed(embeddedStore, receiver);
    await embeddedStore.close();
    const skipScratch = await createScratchDatabase();
    try {
      const serverStore = await createPlanStore({ databaseUrl: skipScratch.url });
      await serverStore.migrate();
      await seed(serverStore, receiver);
      await serverStore.close();
      for (const env of [embedded, { DATABASE_URL: skipScratch.url }]) {
        const [delivered, dead] = JSON.parse((await run(['deliveries', 'list', '--json'], env)).out) as Delivery[];
        expect([delivered?.state, dead?.state]).toEqual(['delivered', 'dead']);
        const deadId = dead?.id ?? '';
        const deliveredId = delivered?.id ?? '';
        await expect(run(['deliveries', 'skip', deadId], env)).rejects.toThrow(/skip: --reason is required/);
        expect(await run(['deliveries', 'skip', deliveredId, '--reason', 'no longer wanted'], env)).toEqual({
          status: 1,
          out: '',
          err: `sip-fhir deliveries: delivery ${deliveredId} is delivered; only a dead letter can be skipped\n`,
        });
        expect(await run(['deliveries', 'skip', '424242', '--reason', 'no longer wanted'], env)).toEqual({ status: 1, out: '', err: 'sip-fhir deliveries: delivery 424242 does not exist\n' });
        expect(await run(['deliveries', 'skip', deadId, '--reason', 'the receiver refuses version 2 for good', '--operator', 'SE2321000180-9000'], env)).toEqual({
          status: 0,
          out: `delivery ${deadId} (sip-cli-1/2 → kommun-falun) is skipped; the next version to kommun-falun is no longer held back\n`,
          err: '',
        });
        const shown = JSON.parse((await run(['deliveries', 'show', deadId], env)).out) as Delivery;
        expect(shown.state).toBe('skipped');
        expect(shown.lastError).toMatch(/^skipped by SE2321000180-9000 \(sip-fhir deliveries( \(.+\))?\): the receiver refuses version 2 for good; the dead letter: refused by the receiver/);
        expect((await run(['deliveries', 'list', '--state', 'skipped'], env)).out).toMatch(new RegExp(`^${deadId} {2}skipped {2}sip-cli-1/2`));
        expect((await run(['deliveries', 'retry', deadId], env)).status).toBe(1);

        const store = await createPlanStore('DATABASE_URL' in env ? { databaseUrl: env.DATABASE_URL } : { dataDir: env.SIP_DATA_DIR });
        try {
          const entries = await store.auditLog({ organization: 'SE2321000180-9000' });
          expect(entries.map((entry) => [entry.planId, entry.action, entry.what, entry.outcome, entry.detail])).toEqual([
            ['sip-cli-1', 'execute', `skip delivery ${deadId}`, 'success', `skipped plan sip-cli-1 version 2 to receiver kommun-falun (delivery ${deadId}); reason: the receiver refuses version 2 for good`],
          ]);
          expect(entries[0]?.agent).toMatch(/^sip-fhir deliveries/);
        } finally {
          await store.close();
        }
      }
    } finally {
      await skipScratch.drop();
    }
  }, 120_000);

  it('answers usage errors with 2', async () => {
    expect((await run(['deliveries'])).status).toBe(2);
    expect((await run(['deliveries', 'lose', '1'])).err).toMatch(/unknown action "lose"/);
    expect((await run(['deliveries', 'show'])).status).toBe(2);
    expect((await run(['deliveries', 'list', '--state', 'lost'])).err).toMatch(/--state: must be one of pending, delivered, withheld, dead, skipped$/m);
    expect((await run(['deliveries', 'show', '1', '--state', 'dead'])).status).toBe(2);
    expect((await run(['deliveries', 'retry', '1', '--reason', 'why'])).err).toMatch(/--reason and --operator are for skip/);
    expect((await run(['deliveries', 'skip', '1', '--reason', ' '])).err).toMatch(/skip: --reason is required, 1–1000 characters/);
    expect(await run(['deliveries', 'list'], { SIP_DATA_DIR: join(folder, 'nowhere') })).toEqual({
      status: 2,
      out: '',
      err: `sip-fhir deliveries: there is no store in ${join(folder, 'nowhere')} (set SIP_DATA_DIR or --data-dir, or DATABASE_URL)\n`,
    });
    expect((await run(['deliveries', '--help'])).status).toBe(0);
  });
});

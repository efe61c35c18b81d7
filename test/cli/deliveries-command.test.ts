/**
 * `sip-fhir deliveries list | show | retry` on the store directly: the embedded store in a folder
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
import { createPlanStore, type PlanStore } from '../../src/store/index.js';
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

  it('answers usage errors with 2', async () => {
    expect((await run(['deliveries'])).status).toBe(2);
    expect((await run(['deliveries', 'lose', '1'])).err).toMatch(/unknown action "lose"/);
    expect((await run(['deliveries', 'show'])).status).toBe(2);
    expect((await run(['deliveries', 'list', '--state', 'lost'])).err).toMatch(/--state: must be one of pending, delivered, withheld, dead/);
    expect((await run(['deliveries', 'show', '1', '--state', 'dead'])).status).toBe(2);
    expect(await run(['deliveries', 'list'], { SIP_DATA_DIR: join(folder, 'nowhere') })).toEqual({
      status: 2,
      out: '',
      err: `sip-fhir deliveries: there is no store in ${join(folder, 'nowhere')} (set SIP_DATA_DIR or --data-dir, or DATABASE_URL)\n`,
    });
    expect((await run(['deliveries', '--help'])).status).toBe(0);
  });
});

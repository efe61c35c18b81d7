/**
 * `sip-fhir serve`'s delivery settings reach the outbox worker: `SIP_DELIVERY_CONCURRENCY` is how
 * many deliveries one instance attempts at once (it was parsed and checked, then never passed on, so
 * every instance ran the worker's default of 4). A receiver on loopback holds every request
 * unanswered, so the requests it holds are the attempts under way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../src/http/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { startReceiver, type TestReceiver } from '../exchange/outbox-support.js';
import { freshPlan, NOW } from '../support/http-server.js';

describe('serve with SIP_RECEIVERS', () => {
  let folder: string | undefined;
  let receiver: TestReceiver | undefined;
  let server: RunningServer | undefined;
  afterEach(async () => {
    // The receiver first: the held attempts end (a reset connection, a retry later), so the worker can stop.
    await receiver?.close();
    await server?.close();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  async function held(concurrency: number | undefined): Promise<number> {
    folder = mkdtempSync(join(tmpdir(), 'sip-serve-delivery-'));
    receiver = await startReceiver(() => ({ status: 200, holdMs: 60_000 }));
    const receiversFile = join(folder, 'receivers.json');
    // Försäkringskassan, an other actor of the plan whom its consent covers.
    writeFileSync(receiversFile, JSON.stringify({ receivers: [{ id: 'fk', organization: '202100-5521', kind: 'fhir', base: receiver.url, auth: { type: 'none' } }] }));
    server = await startServer(
      serverConfigSchema.parse({ port: 0, dataDir: join(folder, 'data'), loadExamples: false, receiversFile, ...(concurrency === undefined ? {} : { deliveryConcurrency: concurrency }) }),
      { clock: () => NOW, logger: pino({ level: 'silent' }) },
    );
    for (let index = 0; index < 10; index++) await server.store.create(freshPlan(`sip-concurrency-${String(index)}`), 'SE2321000180-1000', [], { deliverTo: ['fk'] });
    // Every slot claims one and waits for the receiver; give idle slots three poll intervals (500 ms) to find work.
    const until = Date.now() + 20_000;
    while (receiver.requests.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return receiver.requests.length;
  }

  it('attempts SIP_DELIVERY_CONCURRENCY deliveries at once', async () => {
    expect(await held(2)).toBe(2);
  }, 60_000);

  it('attempts 4 at once by default', async () => {
    expect(await held(undefined)).toBe(4);
  }, 60_000);
});

/**
 * `sip-fhir deliveries list | show <id> | retry <id> | skip <id> --reason …` — the outbox for operators on the command line
 * (issue #14): works on the store directly, PostgreSQL at DATABASE_URL (`--database-url`) or the
 * embedded store in SIP_DATA_DIR (`--data-dir`, default ./data). The embedded store is one process's
 * at a time: stop the server before using it on the same folder.
 *
 * A skip is written to the audit log like the HTTP route's: organisation `--operator` (default
 * `local-operator`), agent `sip-fhir deliveries` with the OS user, the plan, and the reason.
 *
 * Exit status: 0 done, 1 no such delivery or it cannot be retried or skipped (not a dead letter), 2
 * usage error or no store there, 70 internal error.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  createPlanStore,
  DELIVERY_STATES,
  DeliveryNotRetryableError,
  DeliveryNotSkippableError,
  MAX_SKIP_REASON,
  type Delivery,
  type DeliveryState,
} from '../store/index.js';
import type { CommandIo } from './io.js';
import { UsageError } from './usage-error.js';

export const DELIVERIES_USAGE = `Usage: sip-fhir deliveries <list | show <id> | retry <id> | skip <id> --reason <text>> [options]

The outbox: each plan version's delivery to each receiver, pending, delivered, withheld (consent
said no when sending), dead (a dead letter, with its reason) or skipped (a dead letter given up).

  list            deliveries by id, filtered by the options below
  show <id>       one delivery as JSON: its attempts and the receiver's last answer
  retry <id>      put a dead letter back to pending, attempts reset (the worker delivers it)
  skip <id>       give up a dead letter for good: the receiver never gets this version, and the
                  next version to it is no longer held back (it carries the whole plan)

Options:
  --state <s>           list: ${DELIVERY_STATES.join(', ')}
  --receiver <id>       list: one receiver's deliveries
  --plan <id>           list: one plan's deliveries
  --limit <n>           list: at most n (default 100, at most 1000)
  --json                list: as JSON, one array
  --reason <text>       skip: why the version is given up (required; in the audit log)
  --operator <org>      skip: the operator organisation the audit log names (default local-operator)
  --database-url <url>  DATABASE_URL, a PostgreSQL server
  --data-dir <dir>      SIP_DATA_DIR, the embedded store (default ./data); stop the server first
  -h, --help            show this help

Exit status: 0 done, 1 no such delivery or not a dead letter, 2 usage error or no store there, 70 internal error.`;

/** Who the audit log names for a skip on the command line. */
export const CLI_AGENT = 'sip-fhir deliveries';

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

function line(delivery: Delivery): string {
  const last = [delivery.lastStatus === undefined ? undefined : `HTTP ${String(delivery.lastStatus)}`, delivery.lastError].filter((part) => part !== undefined).join(': ');
  return [
    delivery.id,
    delivery.state,
    `${delivery.planId}/${String(delivery.version)}`,
    `→ ${delivery.receiverId}`,
    `attempts ${String(delivery.attempts)}`,
    ...(delivery.nextAttemptAt === undefined ? [] : [`next ${delivery.nextAttemptAt}`]),
    ...(last === '' ? [] : [`last: ${last}`]),
  ].join('  ');
}

export async function runDeliveries(args: readonly string[], io: CommandIo, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      receiver: { type: 'string' },
      plan: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      reason: { type: 'string' },
      operator: { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(DELIVERIES_USAGE);
    return 0;
  }
  const [action, id, ...rest] = positionals;
  if (action === undefined) throw new UsageError('say list, show <id>, retry <id> or skip <id> --reason <text>');
  if (action !== 'list' && action !== 'show' && action !== 'retry' && action !== 'skip') {
    throw new UsageError(`unknown action "${action}": say list, show <id>, retry <id> or skip <id> --reason <text>`);
  }
  if (action === 'list' ? id !== undefined : id === undefined || rest.length > 0) throw new UsageError(action === 'list' ? `unexpected argument "${id ?? ''}"` : `${action} takes one delivery id`);
  if (action !== 'list' && (values.state ?? values.receiver ?? values.plan ?? values.limit) !== undefined) throw new UsageError(`--state, --receiver, --plan and --limit are for list`);
  if (values.state !== undefined && !DELIVERY_STATES.includes(values.state as DeliveryState)) throw new UsageError(`--state: must be one of ${DELIVERY_STATES.join(', ')}`);
  if (values.limit !== undefined && (!/^\d+$/.test(values.limit) || Number(values.limit) > 1_000)) throw new UsageError('--limit: must be a whole number from 0 to 1000');
  if (action !== 'skip' && (values.reason ?? values.operator) !== undefined) throw new UsageError('--reason and --operator are for skip');
  const reason = values.reason?.trim() ?? '';
  if (action === 'skip' && (reason.length === 0 || reason.length > MAX_SKIP_REASON)) {
    throw new UsageError(`skip: --reason is required, 1–${String(MAX_SKIP_REASON)} characters: why this version is given up`);
  }
  const operator = values.operator?.trim() ?? 'local-operator';
  if (operator.length === 0) throw new UsageError('--operator: must name the operator organisation');

  const databaseUrl = values['database-url'] ?? (env.DATABASE_URL === '' ? undefined : env.DATABASE_URL);
  const dataDir = values['data-dir'] ?? (env.SIP_DATA_DIR === undefined || env.SIP_DATA_DIR === '' ? './data' : env.SIP_DATA_DIR);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new UsageError('--database-url / DATABASE_URL: must be a postgres:// or postgresql:// URL');
  if (databaseUrl === undefined && !existsSync(dataDir)) {
    io.err(`sip-fhir deliveries: there is no store in ${dataDir} (set SIP_DATA_DIR or --data-dir, or DATABASE_URL)`);
    return 2;
  }
  const store = await createPlanStore(databaseUrl === undefined ? { dataDir } : { databaseUrl });
  try {
    await store.migrate();
    if (action === 'list') {
      const deliveries = await store.outbox.list({
        ...(values.state === undefined ? {} : { state: values.state as DeliveryState }),
        ...(values.receiver === undefined ? {} : { receiverId: values.receiver }),
        ...(values.plan === undefined ? {} : { planId: values.plan }),
        ...(values.limit === undefined ? {} : { limit: Number(values.limit) }),
      });
      if (values.json) io.out(JSON.stringify(deliveries, null, 2));
      else for (const delivery of deliveries) io.out(line(delivery));
      return 0;
    }
    if (action === 'show') {
      const delivery = await store.outbox.get(id ?? '');
      if (delivery === undefined) {
        io.err(`sip-fhir deliveries: there is no delivery ${id ?? ''}`);
        return 1;
      }
      io.out(JSON.stringify(delivery, null, 2));
      return 0;
    }
    if (action === 'skip') {
      const user = osUser();
      const agent = user === undefined ? CLI_AGENT : `${CLI_AGENT} (${user})`;
      try {
        const delivery = await store.outbox.skip(id ?? '', { reason, by: `${operator} (${agent})` });
        await store.audit({
          at: new Date().toISOString(),
          organization: operator,
          agent,
          planId: delivery.planId,
          action: 'execute',
          what: `skip delivery ${delivery.id}`,
          outcome: 'success',
          detail: `skipped plan ${delivery.planId} version ${String(delivery.version)} to receiver ${delivery.receiverId} (delivery ${delivery.id}); reason: ${reason}`,
        });
        io.out(`delivery ${delivery.id} (${delivery.planId}/${String(delivery.version)} → ${delivery.receiverId}) is skipped; the next version to ${delivery.receiverId} is no longer held back`);
        return 0;
      } catch (error) {
        if (!(error instanceof DeliveryNotSkippableError)) throw error;
        io.err(`sip-fhir deliveries: ${error.message}`);
        return 1;
      }
    }
    try {
      const delivery = await store.outbox.retry(id ?? '');
      io.out(`delivery ${delivery.id} (${delivery.planId}/${String(delivery.version)} → ${delivery.receiverId}) is pending again; the worker delivers it`);
      return 0;
    } catch (error) {
      if (!(error instanceof DeliveryNotRetryableError)) throw error;
      io.err(`sip-fhir deliveries: ${error.message}`);
      return 1;
    }
  } finally {
    await store.close();
  }
}

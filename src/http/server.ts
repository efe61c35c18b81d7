/**
 * Starts the service: the store (PGlite in the data folder, or PostgreSQL at `DATABASE_URL`), its
 * migrations, the example plans in a new store, authentication, and the HTTP app on a port. Used by
 * `sip-fhir serve` and by the end-to-end tests, which start it on a loopback port.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request } from 'express';
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { Logger } from 'pino';
import { serviceLog, type ServiceLog } from './logger.js';
import { loadExchange, OutboxWorker, type Connector, type Exchange, type OutboxReceiver, type OutboxWorkerOptions, type SendDecision } from '../exchange/index.js';
import { planResourceIds } from '../fhir/index.js';
import { currentDeriver, derivedVersion } from './derived-view.js';
import { parsePlanText, type SendBasis, type SipPlan } from '../sip/index.js';
import { createPlanStore, StatisticsKeeper, type PlanStore, type StatisticsKeeping } from '../store/index.js';
import { createApp, type Caller } from './app.js';
import { createAppServer, listen } from './node-server.js';
import { transactionReaderPool } from './transaction-reader.js';
import { loadMappings } from './inbound-routes.js';
import { authSettingsOf, type ServerConfig } from './config.js';
import { AuthError, allows, createAuthenticator, mayAccess, resolveAuthMode, wwwAuthenticate, type Authenticator } from './auth/index.js';
import { HttpError } from './problem.js';

/** The example plans shipped with the adapter (`examples/*.json`), loaded into a new store. */
const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

/** The municipal systems' mappings shipped with the adapter (`mappings/`), for `POST /exchange/inbound/{mapping}`. */
const MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

export interface RunningServer {
  readonly url: string;
  readonly store: PlanStore;
  readonly authenticator: Authenticator;
  /** The ids of the receivers this server delivers to (none when the exchange is off). */
  readonly receivers: readonly string[];
  /** One line per receiver of the receivers file, for the start-up banner; no secrets. */
  readonly receiverSummary?: readonly string[];
  close(): Promise<void>;
}

/**
 * Loads the example plans when the store holds no plan yet; returns how many were loaded. An example
 * is one recorded version N of its plan, and the store keeps every plan from version 1: versions
 * 1 … N−1 are the example without the approvals of later versions and without its closure, so the
 * approvals the example records name versions that exist.
 */
export async function loadExamples(store: PlanStore): Promise<number> {
  if ((await store.search({ limit: 1 })).total > 0) return 0;
  let loaded = 0;
  for (const file of readdirSync(EXAMPLES_DIR).filter((name) => name.endsWith('.json')).sort()) {
    const parsed = parsePlanText(readFileSync(join(EXAMPLES_DIR, file), 'utf8'));
    if (!parsed.ok) throw new Error(`examples/${file} is not a valid plan: ${parsed.problems.map((problem) => problem.message).join('; ')}`);
    const { plan } = parsed;
    const versionOf = (version: number): SipPlan => {
      const earlier: SipPlan = { ...plan, version, approvals: plan.approvals.filter((approval) => approval.version <= version && approval.withdrawn === undefined) };
      delete earlier.closure;
      return earlier;
    };
    const first = plan.version === 1 ? plan : versionOf(1);
    await store.create(first, 'system', planResourceIds(first), { derived: derivedVersion(first) });
    for (let version = 2; version <= plan.version; version++) {
      const next = version === plan.version ? plan : versionOf(version);
      await store.update(next, version - 1, 'system', planResourceIds(next), { derived: derivedVersion(next) });
    }
    loaded++;
  }
  return loaded;
}

/**
 * The exchange (issue #14): the configured receivers, their connectors, consent at send time and
 * routing. When given with receivers, the server routes each new version to its receivers (queued in
 * the version's transaction) and runs an outbox worker until it closes.
 */
export interface ExchangeOptions {
  readonly receivers: readonly OutboxReceiver[];
  readonly connectorFor: (receiverId: string) => Connector | undefined;
  readonly decide: (plan: SipPlan, receiverId: string, at: Date, basis?: SendBasis) => SendDecision;
  /** The receiver ids a version written by `writtenBy` goes to (routing). */
  readonly route: (plan: SipPlan, writtenBy: string) => readonly string[];
  /** Backoff, attempts, concurrency, polling (outbox-worker.ts has the defaults). */
  readonly worker?: Pick<OutboxWorkerOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxAttempts' | 'concurrency' | 'pollIntervalMs' | 'random'>;
}

/** The caller a request's bearer token names, or 401 (503 when the issuer's keys cannot be fetched). */
function authenticateWith(authenticator: Authenticator): (request: Request) => Promise<Caller> {
  if (authenticator.mode === 'disabled') {
    return () => Promise.resolve({ organization: 'unauthenticated', may: () => true });
  }
  return async (request) => {
    try {
      const verified = await authenticator.verify(request.headers.authorization);
      return {
        organization: verified.organization,
        ...(verified.subject === undefined ? {} : { agent: verified.subject }),
        may: (interaction, resourceType = 'CarePlan') => allows(verified.scopes, resourceType, interaction),
      };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      throw new HttpError(error.status, error.status === 401 ? 'Unauthorized' : 'Service Unavailable', error.message, [], { 'WWW-Authenticate': wwwAuthenticate(error) });
    }
  };
}

/** What a caller may hand `startServer` besides the settings: tests their clock, logger and exchange; a process of several its shared rate-limit counts. */
export interface StartOptions {
  readonly clock?: () => Date;
  readonly logger?: Logger;
  readonly exchange?: ExchangeOptions;
  /** The rate limit's counts, shared by the processes of one server (src/http/processes.ts); this process's memory when not given. */
  readonly rateLimitStore?: RateLimitStore;
}

/**
 * What keeps the store's tables as autovacuum would (src/store/statistics.ts): nothing here where the
 * database's autovacuum does, otherwise a keeper vacuuming and analyzing them every `seconds`. A
 * PostgreSQL server that leaves it to this one is named in the log.
 */
function statisticsKeeper(keeping: StatisticsKeeping, store: PlanStore, seconds: number, logger: Logger): StatisticsKeeper | undefined {
  if (keeping.by === 'autovacuum') return undefined;
  if (keeping.by === 'nobody') {
    logger.warn(
      { setting: 'track_counts' },
      "PostgreSQL's track_counts is off: it counts no changed rows, so neither its autovacuum nor this server can tell when a table's planner statistics are out of date or its dead rows are to be cleared; searches may slow down as plans are added. Turn track_counts on, or run VACUUM ANALYZE regularly",
    );
    return undefined;
  }
  if (keeping.why === 'autovacuum-off') {
    logger.warn(
      { setting: 'autovacuum', analyzeSeconds: seconds },
      seconds === 0
        ? "PostgreSQL's autovacuum is off and SIP_ANALYZE_SECONDS is 0: nothing keeps the store's planner statistics or vacuums its tables; searches may slow down as plans are added. Turn autovacuum on, or run VACUUM ANALYZE regularly"
        : `PostgreSQL's autovacuum is off: this server looks at the store's tables every ${String(seconds)} s (SIP_ANALYZE_SECONDS) and vacuums and analyzes those past autovacuum's thresholds, each at most once an autovacuum_naptime and at autovacuum's cost-based delay, and no other tables. Turn autovacuum on to leave it to PostgreSQL`,
    );
  }
  if (seconds === 0) return undefined;
  return new StatisticsKeeper({
    vacuumDue: (signal) => store.statistics.vacuumDue({ signal }),
    analyzeDue: (signal) => store.statistics.analyzeDue({ signal }),
    intervalMs: seconds * 1000,
    onVacuumed: (vacuumed, millis) => {
      logger.info({ tables: vacuumed.map(({ table }) => table), reasons: vacuumed.map(({ reason }) => reason), millis }, "vacuumed tables past autovacuum's thresholds");
    },
    onAnalyzed: (tables, millis) => {
      logger.info({ tables, millis }, 'analyzed tables whose planner statistics were out of date');
    },
    onError: (error) => {
      logger.warn({ err: error }, "could not vacuum or analyze the store's tables");
    },
  });
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? (() => new Date());
  // The service's own log is batched (logger.ts); a logger handed in (tests) is used as it is.
  let ownLog: ServiceLog | undefined;
  const logger = options.logger ?? (ownLog = serviceLog()).logger;
  const mode = resolveAuthMode(authSettingsOf(config));
  const store = await createPlanStore(
    config.databaseUrl === undefined
      ? { dataDir: config.dataDir }
      : {
          databaseUrl: config.databaseUrl,
          prepare: config.pgPrepare,
          // The store's statements are few and fixed; more than this many texts is a fault to report, and costs every new text its planning.
          onStatementNamesFull: (max) => {
            logger.warn({ max }, `the store has prepared ${String(max)} statement texts, its most: texts new after these are planned by PostgreSQL at every call (slower); the store should not make this many, so please report it`);
          },
        },
  );
  let loadedExchange: Exchange | undefined;
  let keeper: StatisticsKeeper | undefined;
  try {
    await store.migrate({ resourcesOf: planResourceIds });
    if (config.loadExamples) await loadExamples(store);
    const keeping = await store.statistics.keeping();
    const authenticator = await createAuthenticator(mode, { clock, tokenCache: config.tokenCache });
    const mappings = await loadMappings(MAPPINGS_DIR);
    const transactionReader = config.validationWorkers > 0 ? transactionReaderPool(config.validationWorkers) : undefined;
    // The receivers file, when set and no exchange was handed in (tests hand one in): a bad file stops the start with every problem.
    loadedExchange = options.exchange === undefined && config.receiversFile !== undefined ? await loadExchange(config.receiversFile) : undefined;
    const exchange: ExchangeOptions | undefined = options.exchange ?? loadedExchange;
    // On PostgreSQL every instance runs a worker and they share the outbox (claims are row locks held
    // for the attempt); on PGlite the one process runs the one worker (src/store/outbox.ts says why).
    const worker =
      exchange === undefined || exchange.receivers.length === 0
        ? undefined
        : new OutboxWorker({
            // The settings (SIP_DELIVERY_*) unless the exchange handed in says otherwise (tests).
            concurrency: config.deliveryConcurrency,
            maxAttempts: config.deliveryMaxAttempts,
            maxDelayMs: config.deliveryMaxBackoffMs,
            ...exchange.worker,
            outbox: store.outbox,
            audit: (entry) => store.audit(entry),
            receivers: exchange.receivers,
            connectorFor: exchange.connectorFor,
            decide: exchange.decide,
            // Each version's send basis and resource texts, kept when it was written, spare the worker judging and mapping it anew.
            deriver: currentDeriver(),
            clock,
            logger,
          });
    const app = createApp({
      ...(worker === undefined || exchange === undefined ? {} : { routeDeliveries: exchange.route }),
      operators: config.operators,
      ...(transactionReader === undefined ? {} : { transactionReader }),
      store,
      mappings,
      clock,
      logger,
      maxBodyBytes: config.maxBodyBytes,
      rateLimitPerMinute: config.rateLimitPerMinute,
      ...(options.rateLimitStore === undefined ? {} : { rateLimitStore: options.rateLimitStore }),
      authenticate: authenticateWith(authenticator),
      ...(mode.mode === 'external' && mode.tokenEndpoint !== undefined ? { tokenEndpoint: mode.tokenEndpoint } : {}),
      mayAccess: (plan, caller, at) => {
        if (authenticator.mode === 'disabled') return { allowed: true };
        const decision = mayAccess(plan, caller.organization, at);
        return decision.allowed ? { allowed: true, role: decision.role, principals: decision.principals, partyId: decision.partyId } : { allowed: false, reason: decision.message };
      },
    });
    const server = createAppServer(app);
    await listen(server, config.port, config.host);
    worker?.start();
    keeper = statisticsKeeper(keeping, store, config.analyzeSeconds, logger);
    keeper?.start();
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      url: `http://${host}:${String(port)}`,
      store,
      authenticator,
      close: async () => {
        await new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
          server.closeAllConnections();
        });
        await worker?.stop();
        await keeper?.stop();
        await loadedExchange?.close();
        await transactionReader?.close();
        await store.close();
        ownLog?.flush();
      },
      receivers: exchange?.receivers.map((receiver) => receiver.id) ?? [],
      ...(loadedExchange === undefined ? {} : { receiverSummary: loadedExchange.summary }),
    };
  } catch (error) {
    await keeper?.stop();
    await loadedExchange?.close();
    await store.close();
    ownLog?.flush();
    throw error;
  }
}

/**
 * `sip-fhir serve` — starts the adapter as a service: the SIP JSON API on the embedded store (PGlite
 * in the data folder) or a PostgreSQL server, with the example plans loaded into a new store, and
 * bearer-token authentication (the server's own key unless an issuer is configured). Runs until
 * SIGINT or SIGTERM, then closes the store cleanly.
 *
 * Exit status: 0 stopped by a signal, 2 a bad setting (every one is named), a bad receivers file or a port in use.
 */
import { parseArgs } from 'node:util';
import { authDisabledWarning } from '../http/auth/index.js';
import { loadConfig, SETTING_VARIABLES, type ServerConfig } from '../http/config.js';
import { niceHelperThreads } from '../http/helper-threads.js';
import type { CommandIo } from './io.js';

export const SERVE_USAGE = `Usage: sip-fhir serve [options]

Starts the SIP adapter service. Settings come from the environment and these options:

Options:
  --port <n>            ${SETTING_VARIABLES.port}, default 8080 (0: the system picks a free port)
  --host <address>      ${SETTING_VARIABLES.host}, default 127.0.0.1
  --data-dir <dir>      ${SETTING_VARIABLES.dataDir}, default ./data (the embedded store and the local key)
  --database-url <url>  ${SETTING_VARIABLES.databaseUrl}, a PostgreSQL server instead of the embedded store
  --receivers <file>    ${SETTING_VARIABLES.receiversFile}, the systems plans are delivered to (receivers.example.json)
  --no-examples         do not load the example plans into a new store (${SETTING_VARIABLES.loadExamples}=false)
  --auth-disabled       no authentication at all, for local experiments only (${SETTING_VARIABLES.authDisabled})
  --processes <n>       ${SETTING_VARIABLES.processes}, default 1: server processes sharing the port (needs ${SETTING_VARIABLES.databaseUrl})
  -h, --help            show this help

Other settings: ${SETTING_VARIABLES.maxBodyBytes}, ${SETTING_VARIABLES.rateLimitPerMinute}, ${SETTING_VARIABLES.authIssuer},
${SETTING_VARIABLES.authAudience}, ${SETTING_VARIABLES.authJwksUrl}, ${SETTING_VARIABLES.authPublicKey}, ${SETTING_VARIABLES.authOrgClaim}, ${SETTING_VARIABLES.authTokenEndpoint}, ${SETTING_VARIABLES.operators},
${SETTING_VARIABLES.deliveryConcurrency}, ${SETTING_VARIABLES.deliveryMaxAttempts}, ${SETTING_VARIABLES.deliveryMaxBackoffMs} (see the README).

Exit status: 0 stopped by SIGINT or SIGTERM, 2 a bad setting, a bad receivers file or the port is taken.`;

/** An HSA-id of a principal in the example plans (Region Dalarna), for the banner's token command. */
const EXAMPLE_ORG = 'SE2321000180-1000';

/** What `serve` prints once it listens: where everything is, and how to get a token. */
export function banner(url: string, config: ServerConfig, authMode: string, receivers: readonly string[] = []): string {
  const store = config.databaseUrl === undefined ? `embedded PostgreSQL (PGlite) in ${config.dataDir}` : 'PostgreSQL at DATABASE_URL';
  const processes = config.processes === 1 ? [] : [`  processes:  ${String(config.processes)} sharing the port, each with its own pool and outbox worker`];
  return [
    `SIP adapter listening on ${url}`,
    `  store:      ${store}`,
    ...processes,
    `  SIP API:    ${url}/sip/plans`,
    `  FHIR base:  ${url}/fhir (${url}/fhir/metadata)`,
    `  API docs:   ${url}/docs`,
    `  OpenAPI:    ${url}/openapi.json`,
    `  health:     ${url}/health`,
    authMode === 'disabled'
      ? '  auth:       DISABLED'
      : authMode === 'local'
        ? [
            `  auth:       bearer tokens signed by this server's key in ${config.dataDir}; get one with`,
            `              npx sip-fhir token --data-dir ${config.dataDir} --org ${EXAMPLE_ORG} --scope "system/*.*"`,
            `              curl -H "Authorization: Bearer $TOKEN" ${url}/sip/plans`,
          ].join('\n')
        : [
            '  auth:       bearer tokens from the configured issuer',
            ...(config.authTokenEndpoint === undefined
              ? [`              (set ${SETTING_VARIABLES.authTokenEndpoint} to name its token endpoint to SMART clients)`]
              : [`              its token endpoint ${config.authTokenEndpoint}, named at ${url}/fhir/.well-known/smart-configuration`]),
          ].join('\n'),
    receivers.length === 0
      ? `  exchange:   no receivers (set ${SETTING_VARIABLES.receiversFile} to a receivers file, see receivers.example.json)`
      : [`  exchange:   ${String(receivers.length)} receiver(s) from ${config.receiversFile ?? ''}, deliveries at ${url}/exchange/deliveries`, ...receivers.map((line) => `              ${line}`)].join('\n'),
  ].join('\n');
}

export async function runServe(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      receivers: { type: 'string' },
      'no-examples': { type: 'boolean', default: false },
      'auth-disabled': { type: 'boolean', default: false },
      processes: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(SERVE_USAGE);
    return 0;
  }
  const settings = loadConfig(process.env, {
    port: values.port,
    host: values.host,
    dataDir: values['data-dir'],
    databaseUrl: values['database-url'],
    receiversFile: values.receivers,
    processes: values.processes,
    ...(values['no-examples'] ? { loadExamples: false } : {}),
    ...(values['auth-disabled'] ? { authDisabled: true } : {}),
  });
  if (!settings.ok) {
    io.err(['sip-fhir serve: the settings are not valid:', ...settings.problems.map((problem) => `  ${problem}`)].join('\n'));
    return 2;
  }
  // Before the server starts: its event loop first, the helpers in the time left (src/http/helper-threads.ts).
  niceHelperThreads(settings.config.helperNice);
  if (settings.config.processes > 1) return serveInProcesses(settings.config, io);
  const { startServer } = await import('../http/server.js');
  let server;
  try {
    server = await startServer(settings.config);
  } catch (error) {
    const refusal = startRefusal(error, settings.config);
    if (refusal === undefined) throw error;
    io.err(refusal);
    return 2;
  }
  if (server.authenticator.mode === 'disabled') io.err(server.authenticator.warning);
  io.err(banner(server.url, settings.config, server.authenticator.mode, server.receiverSummary));
  await stopSignal();
  await server.close();
  return 0;
}

/** What `serve` says of an error that stops the start (exit 2): a bad receivers file, a port in use; otherwise undefined. */
function startRefusal(error: unknown, config: ServerConfig): string | undefined {
  if (error instanceof Error && error.name === 'ReceiversConfigError') return `sip-fhir serve: ${error.message}`;
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return `sip-fhir serve: port ${String(config.port)} on ${config.host} is in use; choose another with --port or ${SETTING_VARIABLES.port}`;
  }
  return undefined;
}

/** Resolves at the first SIGINT or SIGTERM. */
function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `SIP_PROCESSES` > 1 (src/http/processes.ts): this command runs again in each server process
 * (node:cluster forks it with the same arguments and environment), where it serves; in the primary
 * it starts them, prints the banner once all listen, and closes them at SIGINT or SIGTERM.
 */
async function serveInProcesses(config: ServerConfig, io: CommandIo): Promise<number> {
  const [{ default: cluster }, { runServerProcess, startPrimary }, { serviceLog }] = await Promise.all([import('node:cluster'), import('../http/processes.js'), import('../http/logger.js')]);
  if (cluster.isWorker) return runServerProcess(config);
  const log = serviceLog();
  let processes;
  try {
    processes = await startPrimary(config, log.logger);
  } catch (error) {
    log.flush();
    const refusal = startRefusal(error, config);
    if (refusal === undefined) throw error;
    io.err(refusal);
    return 2;
  }
  if (processes.authMode === 'disabled') io.err(authDisabledWarning());
  io.err(banner(processes.url, config, processes.authMode, processes.receiverSummary));
  await stopSignal();
  await processes.close();
  log.flush();
  return 0;
}

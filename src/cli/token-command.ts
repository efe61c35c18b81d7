/**
 * `sip-fhir token --org <HSA-id> --scope "<scopes>"` — prints a bearer token signed with the
 * server's local key (made in the data folder on first use), for trying the service when no issuer
 * is configured. The server accepts such tokens only in local mode.
 *
 * Exit status: 0 the token is printed on stdout, 2 usage error (a bad HSA-id, scope or TTL included)
 * or a key file that cannot be used.
 */
import { parseArgs } from 'node:util';
import { checkLocalTokenRequest, issueLocalToken, loadOrCreateLocalKey, LocalKeyError, LocalTokenError, MAX_LOCAL_TTL_SECONDS } from '../http/auth/index.js';
import type { CommandIo } from './io.js';
import { UsageError } from './usage-error.js';

export const TOKEN_USAGE = `Usage: sip-fhir token --org <HSA-id> --scope "<scopes>" [options]

Prints a bearer token (JWT, ES256) signed with the server's local key, which is made in the data
folder on first use (file mode 0600). The server accepts such tokens when no issuer is configured.

Options:
  --org <HSA-id>      the calling organisation's HSA-id, e.g. SE2321000180-1000 (claim "hsa_id")
  --scope <scopes>    SMART system scopes, space-separated: v1 system/CarePlan.read, system/*.write,
                      system/*.*, or v2 system/CarePlan.rs, system/*.cruds (no ?restrictions)
  --data-dir <dir>    the server's data folder (default SIP_DATA_DIR, else ./data: the folder
                      \`sip-fhir serve\` uses, so its key signs the token)
  --ttl <seconds>     how long the token is valid (default 3600, at most ${MAX_LOCAL_TTL_SECONDS})
  --subject <id>      the token's sub (default the HSA-id)
  -h, --help          show this help

Exit status: 0 the token is printed, 2 usage error or a key file that cannot be used.`;

/**
 * The data folder whose key signs the token: `--data-dir`, else `SIP_DATA_DIR`, else `./data` — the
 * folder `sip-fhir serve` takes from the same setting, so that a token made in the shell the server
 * was started from verifies (with `./data` alone, a server started with `SIP_DATA_DIR` set answered
 * every such token 401: another key had been made in `./data` for it).
 */
export function tokenDataDir(given: string | undefined, env: NodeJS.ProcessEnv): string {
  if (given !== undefined) return given;
  return env.SIP_DATA_DIR === undefined || env.SIP_DATA_DIR === '' ? './data' : env.SIP_DATA_DIR;
}

export async function runToken(args: readonly string[], io: CommandIo, now: () => Date = () => new Date(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      org: { type: 'string' },
      scope: { type: 'string' },
      'data-dir': { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      subject: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(TOKEN_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
  if (values.org === undefined) throw new UsageError('--org <HSA-id> is required');
  if (values.scope === undefined) throw new UsageError('--scope "<scopes>" is required');
  if (!/^\d+$/.test(values.ttl)) throw new UsageError(`--ttl: must be a whole number of seconds from 1 to ${MAX_LOCAL_TTL_SECONDS}`);
  const request = {
    org: values.org,
    scopes: values.scope,
    ttlSeconds: Number(values.ttl),
    ...(values.subject === undefined ? {} : { subject: values.subject }),
  };
  try {
    // Before the key: a wrong command line must not create a key file.
    checkLocalTokenRequest(request);
  } catch (error) {
    if (error instanceof LocalTokenError) throw new UsageError(error.message);
    throw error;
  }
  let key;
  try {
    key = await loadOrCreateLocalKey(tokenDataDir(values['data-dir'], env));
  } catch (error) {
    if (error instanceof LocalKeyError) {
      io.err(`sip-fhir token: ${error.message}`);
      return 2;
    }
    throw error;
  }
  io.out(await issueLocalToken(request, key, now()));
  return 0;
}

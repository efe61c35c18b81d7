/**
 * The server's settings, from the environment and the command line, validated with zod at start-up:
 * every bad setting is named with what is wrong, all of them at once, before anything starts.
 */
import { z } from 'zod';
import { AuthSettingsError, resolveAuthMode, type AuthSettings } from './auth/index.js';

const MIB = 1024 * 1024;

/** A size like `5MiB`, `512KiB` or a number of bytes. */
const sizeSchema = z
  .union([z.number(), z.string()])
  .transform((value, context) => {
    const match = /^\s*(\d+)\s*(B|KiB|MiB)?\s*$/i.exec(String(value));
    if (match === null) {
      context.addIssue({ code: 'custom', message: 'must be a size in bytes, or with KiB or MiB, e.g. 5MiB' });
      return z.NEVER;
    }
    const unit = (match[2] ?? 'B').toLowerCase();
    return Number(match[1]) * (unit === 'mib' ? MIB : unit === 'kib' ? 1024 : 1);
  });

const flagSchema = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((value) => value === true || value === 'true' || value === '1' || value === 'yes');

export const serverConfigSchema = z.object({
  /** `SIP_PORT`: the TCP port; 0 lets the system choose (tests). */
  port: z.coerce.number().int('must be a whole number').min(0, 'must be 0–65535').max(65_535, 'must be 0–65535').default(8080),
  /** `SIP_HOST`: the address to listen on; loopback unless told otherwise. */
  host: z.string().min(1).default('127.0.0.1'),
  /** `SIP_DATA_DIR`: the embedded store (PGlite) and the local signing key live here. */
  dataDir: z.string().min(1, 'must name a folder').default('./data'),
  /** `DATABASE_URL`: a real PostgreSQL instead of the embedded store. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /**
   * `SIP_PG_PREPARE`: prepare the store's statements by name on each PostgreSQL connection, so they are
   * planned once per connection (src/store/sql-client.ts); turn off behind a pooler that does not keep
   * a session's prepared statements (PgBouncer in transaction mode before 1.21).
   */
  pgPrepare: flagSchema.default(true),
  /** `SIP_MAX_BODY`: the largest request body accepted (413 above it). */
  maxBodyBytes: sizeSchema.default(5 * MIB),
  /** `SIP_RATE_LIMIT`: requests per minute from one address before 429. */
  rateLimitPerMinute: z.coerce.number().int().min(1, 'must be at least 1').default(1_200),
  /** `SIP_TOKEN_CACHE`: verified bearer tokens remembered (src/http/auth/verify.ts); 0 verifies every signature. */
  tokenCache: z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').max(100_000, 'must be at most 100000').default(1_000),
  /**
   * `SIP_PROCESSES`: server processes sharing the port (src/http/processes.ts), each with its own event
   * loop, store pool, validators and outbox worker. More than one needs `DATABASE_URL`: the embedded
   * store lives in one process.
   */
  processes: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(64, 'must be at most 64').default(1),
  /** `SIP_VALIDATION_WORKERS`: worker threads that validate `POST /fhir` transactions (src/http/transaction-reader.ts); 0 validates on the event loop. */
  validationWorkers: z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').max(64, 'must be at most 64').default(0),
  /**
   * `SIP_ANALYZE_SECONDS`: how often the server looks for tables of its store that autovacuum would
   * vacuum or analyze and does so, on a database whose autovacuum does not (the embedded store, or a
   * PostgreSQL server with `autovacuum = off`; src/store/statistics.ts); 0 never does. A table it did
   * less than the server's `autovacuum_naptime` ago waits, as between two of autovacuum's rounds; on
   * PostgreSQL its `VACUUM` and `ANALYZE` run with autovacuum's cost-based delay.
   */
  analyzeSeconds: z.coerce.number().int('must be a whole number of seconds').min(0, 'must be 0 or more').max(3_600, 'must be at most 3600 (an hour)').default(10),
  /**
   * `SIP_HELPER_NICE`: the nice value of the server's threads other than its event loop (V8's
   * collector and compiler helpers, libuv's pool), set at start on Linux (src/http/helper-threads.ts),
   * so that a concurrent collection does not keep the event loop from a core; 0 leaves them alone.
   */
  helperNice: z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').max(19, 'must be at most 19').default(10),
  /** `SIP_LOAD_EXAMPLES`: load the example plans into a new, empty store. */
  loadExamples: flagSchema.default(true),
  /** `SIP_AUTH_DISABLED`: no authentication at all — for local experiments only, and loudly so. */
  authDisabled: flagSchema.default(false),
  /** `SIP_AUTH_ISSUER`: the expected `iss` of tokens from an external authorisation server. */
  authIssuer: z.string().min(1).optional(),
  /** `SIP_AUTH_AUDIENCE`: the expected `aud`, comma-separated when several. */
  authAudience: z.string().min(1).optional(),
  /** `SIP_AUTH_JWKS_URL`: the issuer's JSON Web Key Set. */
  authJwksUrl: z.url({ message: 'must be a URL' }).optional(),
  /** `SIP_AUTH_PUBLIC_KEY`: the issuer's public key (PEM), instead of a JWKS. */
  authPublicKey: z.string().min(1).optional(),
  /** `SIP_AUTH_ORG_CLAIM`: the token claim holding the calling organisation's HSA-id. */
  authOrgClaim: z.string().min(1).optional(),
  /**
   * `SIP_AUTH_TOKEN_ENDPOINT`: the external issuer's OAuth 2.0 token endpoint, named to SMART clients at
   * `/fhir/.well-known/smart-configuration` and in the CapabilityStatement (src/http/smart-configuration.ts).
   */
  authTokenEndpoint: z.url({ message: 'must be a URL' }).optional(),
  /** `SIP_OPERATORS`: the organisations (HSA-ids, comma-separated) that may list, inspect and retry deliveries; none by default. */
  operators: z
    .union([z.array(z.string()), z.string()])
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((id) => id.trim()).filter((id) => id !== ''))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, 'each must be an HSA-id or organisationsnummer')))
    .default([]),
  /** `SIP_RECEIVERS`: the receivers file (receivers.example.json); without it nothing is delivered. */
  receiversFile: z.string().min(1, 'must name a file').optional(),
  /** `SIP_DELIVERY_CONCURRENCY`: deliveries attempted at once by this instance (keep below the PostgreSQL pool's 10). */
  deliveryConcurrency: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(8, 'must be at most 8').default(4),
  /** `SIP_DELIVERY_MAX_ATTEMPTS`: attempts before a delivery that keeps failing is a dead letter. */
  deliveryMaxAttempts: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(12),
  /**
   * `SIP_DELIVERY_MAX_BACKOFF_MS`: the longest wait between two attempts of a delivery (the backoff's
   * cap; the first waits up to 1 s and each later one up to twice as long). A `Retry-After` asking for
   * more is still honoured.
   */
  deliveryMaxBackoffMs: z.coerce.number().int('must be a whole number of milliseconds').min(1, 'must be at least 1 ms').max(3_600_000, 'must be at most 3600000 (an hour)').default(300_000),
}).refine((config) => config.processes === 1 || config.databaseUrl !== undefined, {
  path: ['processes'],
  message: 'must be 1 on the embedded store (PGlite is one process\'s); set DATABASE_URL to run several',
});
export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** The environment variable of each setting, for messages and the README's settings table. */
export const SETTING_VARIABLES: Readonly<Record<keyof ServerConfig, string>> = {
  port: 'SIP_PORT',
  host: 'SIP_HOST',
  dataDir: 'SIP_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  pgPrepare: 'SIP_PG_PREPARE',
  maxBodyBytes: 'SIP_MAX_BODY',
  rateLimitPerMinute: 'SIP_RATE_LIMIT',
  tokenCache: 'SIP_TOKEN_CACHE',
  processes: 'SIP_PROCESSES',
  validationWorkers: 'SIP_VALIDATION_WORKERS',
  analyzeSeconds: 'SIP_ANALYZE_SECONDS',
  helperNice: 'SIP_HELPER_NICE',
  loadExamples: 'SIP_LOAD_EXAMPLES',
  authDisabled: 'SIP_AUTH_DISABLED',
  authIssuer: 'SIP_AUTH_ISSUER',
  authAudience: 'SIP_AUTH_AUDIENCE',
  authJwksUrl: 'SIP_AUTH_JWKS_URL',
  authPublicKey: 'SIP_AUTH_PUBLIC_KEY',
  authOrgClaim: 'SIP_AUTH_ORG_CLAIM',
  authTokenEndpoint: 'SIP_AUTH_TOKEN_ENDPOINT',
  operators: 'SIP_OPERATORS',
  receiversFile: 'SIP_RECEIVERS',
  deliveryConcurrency: 'SIP_DELIVERY_CONCURRENCY',
  deliveryMaxAttempts: 'SIP_DELIVERY_MAX_ATTEMPTS',
  deliveryMaxBackoffMs: 'SIP_DELIVERY_MAX_BACKOFF_MS',
};

export type ConfigResult = { ok: true; config: ServerConfig } | { ok: false; problems: string[] };

/**
 * The settings from the environment, overridden by command-line values (already named by setting).
 * Empty environment variables count as unset.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, overrides: Partial<Record<keyof ServerConfig, unknown>> = {}): ConfigResult {
  const raw: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(SETTING_VARIABLES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  const parsed = serverConfigSchema.safeParse(raw);
  if (parsed.success) {
    const auth = authSettingsProblem(parsed.data);
    return auth === undefined ? { ok: true, config: parsed.data } : { ok: false, problems: [auth] };
  }
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '') as keyof ServerConfig;
      const variable = SETTING_VARIABLES[key];
      return `${variable} (${key}) ${issue.message}; got ${JSON.stringify(raw[key])}`;
    }),
  };
}

/** What the authentication settings of `config` say to src/http/auth (`resolveAuthMode`). */
export function authSettingsOf(config: ServerConfig): AuthSettings {
  return {
    authDisabled: config.authDisabled,
    dataDir: config.dataDir,
    ...(config.authIssuer === undefined ? {} : { issuer: config.authIssuer }),
    ...(config.authAudience === undefined ? {} : { audience: config.authAudience.split(',').map((audience) => audience.trim()) }),
    ...(config.authJwksUrl === undefined ? {} : { jwksUrl: config.authJwksUrl }),
    ...(config.authPublicKey === undefined ? {} : { publicKey: config.authPublicKey }),
    ...(config.authOrgClaim === undefined ? {} : { orgClaim: config.authOrgClaim }),
    ...(config.authTokenEndpoint === undefined ? {} : { tokenEndpoint: config.authTokenEndpoint }),
  };
}

/** The settings' names as src/http/auth says them, and the variables that set them. */
const AUTH_SETTING_NAMES: readonly (readonly [string, keyof ServerConfig])[] = [
  ['issuer', 'authIssuer'],
  ['audience', 'authAudience'],
  ['jwksUrl', 'authJwksUrl'],
  ['publicKey', 'authPublicKey'],
  ['orgClaim', 'authOrgClaim'],
  ['tokenEndpoint', 'authTokenEndpoint'],
  ['authDisabled', 'authDisabled'],
];

/**
 * Why the authentication settings name no consistent mode (an issuer without an audience, a token
 * endpoint without an issuer …), said with the variables that set them; undefined when they do. Checked
 * with the other settings, so a half configuration stops the start as a bad setting (exit 2), before
 * the store is opened.
 */
function authSettingsProblem(config: ServerConfig): string | undefined {
  try {
    resolveAuthMode(authSettingsOf(config));
    return undefined;
  } catch (error) {
    if (!(error instanceof AuthSettingsError)) throw error;
    const names = AUTH_SETTING_NAMES.map(([name, key]) => `${name} is ${SETTING_VARIABLES[key]}`).join(', ');
    return `the authentication settings do not fit together: ${error.message} (${names}; see the README, "Authentication")`;
  }
}

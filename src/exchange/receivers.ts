/**
 * The receivers of the exchange (issue #14, "What to build" 1; DESIGN.md §5): each system a plan
 * version may be delivered to — a FHIR R4 server of a region, or a municipal system reached through a
 * mapping in `mappings/` over HTTP or by a file drop — with its organisation (which consent judges) and
 * how the adapter authenticates to it.
 *
 * The file is read once at start-up (`SIP_RECEIVERS`) and refused whole when anything in it is wrong,
 * every problem named by its JSON pointer (`/receivers/2/auth/tokenUrl: must be an https or http URL`),
 * so an operator fixes them all in one go. Comments are allowed (JSONC), as in `receivers.example.json`.
 *
 * Secrets may be written inline, but are meant to be references: `{ "env": "NAME" }` (an environment
 * variable) or `{ "file": "path" }` (a file, relative to the receivers file; its content trimmed). They
 * are resolved at load, so a missing variable stops the start-up rather than the first delivery, and no
 * message ever shows a secret's value.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK, importPKCS8, type JWK } from 'jose';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { hsaIdSchema, organisationsnummerSchema } from '../sip/index.js';
import { MAPPING_FILE } from './mapping/index.js';

/** Signing algorithms SMART Backend Services requires a server to support (RS384 and ES384). */
export const SMART_ALGORITHMS = ['RS384', 'ES384'] as const;
export type SmartAlgorithm = (typeof SMART_ALGORITHMS)[number];

/** How long a receiver may take to answer one request, unless its `timeoutMs` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** A key as `jose` signs with it (a `CryptoKey` from `importPKCS8`/`importJWK`). */
export type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

/** How the adapter proves who it is to a receiver, with every secret resolved. */
export type ReceiverAuth =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: string }
  | {
      readonly type: 'client-credentials';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope?: string;
      /** `basic`: HTTP Basic (RFC 6749 §2.3.1, which servers must support); `post`: in the form. */
      readonly clientAuthentication: 'basic' | 'post';
    }
  | {
      readonly type: 'smart-backend';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly scope: string;
      readonly alg: SmartAlgorithm;
      readonly kid: string;
      readonly privateKey: SigningKey;
    };

interface ReceiverBase {
  readonly id: string;
  /** HSA-id or organisationsnummer (normalised to NNNNNN-NNNN): what consent judges the receiver as. */
  readonly organization: string;
  readonly timeoutMs: number;
  readonly auth: ReceiverAuth;
}

/** A FHIR R4 server: transaction Bundles are posted to its base URL. */
export interface FhirReceiver extends ReceiverBase {
  readonly kind: 'fhir';
  /** The base URL, without a trailing slash. */
  readonly base: string;
  readonly mapping?: undefined;
}

/** A system with its own format: the plan is translated by `mappings/<mapping>/`, then posted or dropped in a folder. */
export interface MappingReceiver extends ReceiverBase {
  readonly kind: 'mapping';
  readonly mapping: string;
  /** Where the document is posted; exactly one of `endpoint` and `folder`. */
  readonly endpoint?: string;
  /** An absolute folder the document is written into. */
  readonly folder?: string;
}

export type Receiver = FhirReceiver | MappingReceiver;

/** Raised when the receivers file cannot be used; `problems` has one line per bad setting. */
export class ReceiversConfigError extends Error {
  override readonly name = 'ReceiversConfigError';
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super(`${file}: ${String(problems.length)} problem${problems.length === 1 ? '' : 's'} in the receivers configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

const HTTP_URL_MESSAGE = 'must be an https or http URL';

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const httpUrl = z.string({ error: HTTP_URL_MESSAGE }).refine(isHttpUrl, HTTP_URL_MESSAGE);
const nonEmpty = (what: string) => z.string({ error: `must be ${what}` }).trim().min(1, `must be ${what}`);

/** A secret: inline, or a reference to an environment variable or a file. */
const secretSchema = z.union([z.string().min(1), z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })], {
  error: 'must be a non-empty string, { "env": "NAME" } or { "file": "path" }',
});
type SecretSetting = z.infer<typeof secretSchema>;

const organizationSchema = z.string({ error: 'must be an HSA-id or an organisationsnummer' }).transform((value, ctx) => {
  if (hsaIdSchema.safeParse(value).success) return value;
  const parsed = organisationsnummerSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: `must be an HSA-id (like SE2321000016-ABC1) or a valid organisationsnummer (like 212000-0142): "${value}" is neither` });
  return z.NEVER;
});

const authSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({ type: z.literal('bearer'), token: secretSchema }),
    z.strictObject({
      type: z.literal('client-credentials'),
      tokenUrl: httpUrl,
      clientId: nonEmpty('the client id'),
      clientSecret: secretSchema,
      scope: nonEmpty('a space-separated list of scopes').optional(),
      clientAuthentication: z.enum(['basic', 'post'], { error: 'must be "basic" or "post"' }).default('basic'),
    }),
    z.strictObject({
      type: z.literal('smart-backend'),
      tokenUrl: httpUrl,
      clientId: nonEmpty('the client id'),
      scope: nonEmpty('a space-separated list of scopes, such as "system/CarePlan.write"'),
      alg: z.enum(SMART_ALGORITHMS, { error: 'must be "RS384" or "ES384" (SMART Backend Services)' }),
      kid: nonEmpty('the key id the token server knows the public key by'),
      privateKey: secretSchema,
    }),
  ],
  { error: 'must be one of "none", "bearer", "client-credentials", "smart-backend"' },
);

const common = {
  id: z.string({ error: 'must be a non-empty id' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  organization: organizationSchema,
  timeoutMs: z.number({ error: 'must be a whole number of milliseconds' }).int('must be a whole number of milliseconds').min(1, 'must be at least 1 ms').max(600_000, 'must be at most 600 000 ms (ten minutes)').default(DEFAULT_TIMEOUT_MS),
  auth: authSchema,
};

const receiverSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ ...common, kind: z.literal('fhir'), base: httpUrl }),
    z.strictObject({
      ...common,
      kind: z.literal('mapping'),
      mapping: z.string({ error: 'must be the name of a mapping folder in mappings/' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be the name of a mapping folder in mappings/'),
      endpoint: httpUrl.optional(),
      folder: nonEmpty('a folder path').optional(),
    }),
  ],
  { error: 'must be "fhir" or "mapping"' },
);

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  receivers: z.array(receiverSchema, { error: 'must be a list of receivers' }),
});
type ReceiverSetting = z.infer<typeof receiverSchema>;

/** `["receivers", 2, "auth"]` → `/receivers/2/auth` (RFC 6901). */
export function jsonPointer(segments: readonly PropertyKey[]): string {
  return segments.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The value at a path of parsed JSON, or undefined. */
function valueAt(json: unknown, segments: readonly PropertyKey[]): unknown {
  let value = json;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** One line per problem; zod's issues do not carry the input, so a missing value is looked up in `json`. */
function describeIssue(json: unknown, issue: z.core.$ZodIssue): string[] {
  const pointer = jsonPointer(issue.path);
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${jsonPointer([...issue.path, key])}: is not a setting here`);
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(json, issue.path) === undefined) return [`${pointer}: is required`];
  return [`${pointer}: ${issue.message}`];
}

export interface LoadReceiversOptions {
  /** Where mapping folders are (default: the package's `mappings/`). */
  readonly mappingsDir?: string;
  /** The environment `{ "env": … }` references are read from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The package's `mappings/`, beside `dist/` and `src/` alike. */
export const DEFAULT_MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

interface Context {
  readonly baseDir: string;
  readonly mappingsDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly problems: string[];
}

async function resolveSecret(setting: SecretSetting, pointer: string, context: Context): Promise<string | undefined> {
  if (typeof setting === 'string') return setting;
  if ('env' in setting) {
    const value = context.env[setting.env];
    if (value === undefined || value.trim() === '') {
      context.problems.push(`${pointer}/env: the environment variable ${setting.env} is not set (or empty)`);
      return undefined;
    }
    return value.trim();
  }
  const file = path.resolve(context.baseDir, setting.file);
  try {
    const value = (await readFile(file, 'utf8')).trim();
    if (value === '') context.problems.push(`${pointer}/file: ${file} is empty`);
    return value === '' ? undefined : value;
  } catch (error) {
    context.problems.push(`${pointer}/file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    return undefined;
  }
}

/** A private key given as a JWK (JSON text) or a PKCS#8 PEM, imported for `alg`. */
async function importPrivateKey(text: string, alg: SmartAlgorithm): Promise<SigningKey | string> {
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as JWK;
      if (typeof jwk.d !== 'string') return 'is a public JWK: the private key (with "d") is needed to sign';
      const key = await importJWK(jwk, alg);
      return key instanceof Uint8Array ? `is not a key for ${alg}` : key;
    }
    if (!text.includes('-----BEGIN PRIVATE KEY-----')) return 'must be a JWK or a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"; convert others with "openssl pkcs8 -topk8 -nocrypt")';
    return await importPKCS8(text, alg);
  } catch (error) {
    return `cannot be read as a private key for ${alg} (${error instanceof Error ? error.message : String(error)})`;
  }
}

async function resolveAuth(setting: ReceiverSetting['auth'], pointer: string, context: Context): Promise<ReceiverAuth | undefined> {
  switch (setting.type) {
    case 'none':
      return setting;
    case 'bearer': {
      const token = await resolveSecret(setting.token, `${pointer}/token`, context);
      return token === undefined ? undefined : { type: 'bearer', token };
    }
    case 'client-credentials': {
      const clientSecret = await resolveSecret(setting.clientSecret, `${pointer}/clientSecret`, context);
      if (clientSecret === undefined) return undefined;
      return { ...setting, clientSecret };
    }
    case 'smart-backend': {
      const text = await resolveSecret(setting.privateKey, `${pointer}/privateKey`, context);
      if (text === undefined) return undefined;
      const key = await importPrivateKey(text, setting.alg);
      if (typeof key === 'string') {
        context.problems.push(`${pointer}/privateKey: ${key}`);
        return undefined;
      }
      return { ...setting, privateKey: key };
    }
  }
}

async function mappingExists(mappingsDir: string, name: string): Promise<boolean> {
  try {
    await access(path.join(mappingsDir, name, MAPPING_FILE));
    return true;
  } catch {
    return false;
  }
}

async function resolveReceiver(setting: ReceiverSetting, pointer: string, context: Context): Promise<Receiver | undefined> {
  const auth = await resolveAuth(setting.auth, `${pointer}/auth`, context);
  const base = { id: setting.id, organization: setting.organization, timeoutMs: setting.timeoutMs };
  if (setting.kind === 'fhir') return auth === undefined ? undefined : { ...base, auth, kind: 'fhir', base: setting.base.replace(/\/+$/, '') };
  let ok = auth !== undefined;
  if (!(await mappingExists(context.mappingsDir, setting.mapping))) {
    context.problems.push(`${pointer}/mapping: no mapping "${setting.mapping}" in ${context.mappingsDir} (no ${path.join(setting.mapping, MAPPING_FILE)})`);
    ok = false;
  }
  if ((setting.endpoint === undefined) === (setting.folder === undefined)) {
    context.problems.push(`${pointer}: must have exactly one of "endpoint" (an HTTP URL to post to) and "folder" (a folder to drop files in)`);
    ok = false;
  }
  if (setting.folder !== undefined && setting.auth.type !== 'none') {
    context.problems.push(`${pointer}/auth: a folder drop has no authentication: must be { "type": "none" }`);
    ok = false;
  }
  if (!ok || auth === undefined) return undefined;
  return {
    ...base,
    auth,
    kind: 'mapping',
    mapping: setting.mapping,
    ...(setting.endpoint === undefined ? {} : { endpoint: setting.endpoint }),
    ...(setting.folder === undefined ? {} : { folder: path.resolve(context.baseDir, setting.folder) }),
  };
}

/**
 * Checks parsed receivers settings (the content of the file) and resolves their secrets. Relative
 * `file` references and folders are taken from `baseDir`. Throws `ReceiversConfigError` with every
 * problem when anything is wrong.
 */
export async function parseReceivers(json: unknown, baseDir: string, options: LoadReceiversOptions = {}, file = '(receivers)'): Promise<Receiver[]> {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new ReceiversConfigError(file, parsed.error.issues.flatMap((issue) => describeIssue(json, issue)));
  const context: Context = { baseDir, mappingsDir: options.mappingsDir ?? DEFAULT_MAPPINGS_DIR, env: options.env ?? process.env, problems: [] };
  const firstIndex = new Map<string, number>();
  parsed.data.receivers.forEach((receiver, index) => {
    const first = firstIndex.get(receiver.id);
    if (first === undefined) firstIndex.set(receiver.id, index);
    else context.problems.push(`/receivers/${String(index)}/id: "${receiver.id}" is already the id of /receivers/${String(first)}`);
  });
  // One after the other, so the problems come in the order of the file.
  const receivers: (Receiver | undefined)[] = [];
  for (const [index, receiver] of parsed.data.receivers.entries()) receivers.push(await resolveReceiver(receiver, `/receivers/${String(index)}`, context));
  if (context.problems.length > 0) throw new ReceiversConfigError(file, context.problems);
  return receivers.filter((receiver): receiver is Receiver => receiver !== undefined);
}

/**
 * Reads and checks the receivers file (JSON with comments allowed). Throws `ReceiversConfigError`
 * naming every problem by its JSON pointer when the file cannot be used.
 */
export async function loadReceivers(file: string, options: LoadReceiversOptions = {}): Promise<Receiver[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReceiversConfigError(file, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
  const errors: ParseError[] = [];
  const json: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const lineOf = (offset: number): number => text.slice(0, offset).split('\n').length;
    throw new ReceiversConfigError(file, errors.map((error) => `line ${String(lineOf(error.offset))}: ${printParseErrorCode(error.error)}`));
  }
  return parseReceivers(json, path.dirname(path.resolve(file)), options, file);
}

/**
 * What may be logged or shown of a receiver: its id, organisation, kind, where it is reached and the
 * type of its auth — never a secret (a `Receiver` holds them resolved, so log this, not the receiver).
 */
export function receiverSummary(receiver: Receiver): { id: string; organization: string; kind: Receiver['kind']; target: string; mapping?: string; auth: ReceiverAuth['type'] } {
  const target = receiver.kind === 'fhir' ? receiver.base : (receiver.endpoint ?? `folder ${receiver.folder ?? ''}`);
  return {
    id: receiver.id,
    organization: receiver.organization,
    kind: receiver.kind,
    target,
    ...(receiver.kind === 'mapping' ? { mapping: receiver.mapping } : {}),
    auth: receiver.auth.type,
  };
}

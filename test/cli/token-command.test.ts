import { chmodSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runToken, tokenDataDir } from '../../src/cli/token-command.js';
import { allows, createTokenVerifier, LOCAL_ALGORITHM, LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_KEY_FILE, loadOrCreateLocalKey } from '../../src/http/auth/index.js';
import { scratchFolder } from '../support/scratch-folders.js';

const NOW = new Date('2026-03-12T10:00:00Z');
const ORG = 'SE2120000449-HSJV';

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) });
  return { status, out, err };
}

const tempDir = (): string => scratchFolder('sip-token-');

async function verifyWithLocalKey(dataDir: string, token: string, at: Date): Promise<ReturnType<ReturnType<typeof createTokenVerifier>>> {
  const localKey = await loadOrCreateLocalKey(dataDir);
  const verify = createTokenVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_AUDIENCE], key: { localKey }, algorithms: [LOCAL_ALGORITHM], clockToleranceSeconds: 30, clock: () => at });
  return verify(`Bearer ${token}`);
}

describe('sip-fhir token', () => {
  it('prints a token that verifies with the local key and carries the organisation and scopes', async () => {
    const dataDir = path.join(tempDir(), 'data');
    let out = '';
    const status = await runToken(['--org', ORG, '--scope', 'system/CarePlan.rs system/*.write', '--data-dir', dataDir, '--ttl', '120', '--subject', 'tester'], { out: (text) => (out += text), err: () => undefined }, () => NOW);
    expect(status).toBe(0);
    expect(statSync(path.join(dataDir, LOCAL_KEY_FILE)).mode & 0o777).toBe(0o600);
    const caller = await verifyWithLocalKey(dataDir, out, NOW);
    expect(caller).toMatchObject({ organization: ORG, subject: 'tester', expiresAt: new Date(NOW.getTime() + 120_000) });
    expect(caller.scopes.grants.map((grant) => grant.scope)).toEqual(['system/CarePlan.rs', 'system/*.write']);
    expect(allows(caller.scopes, 'CarePlan', 'read')).toBe(true);
    expect(allows(caller.scopes, 'Goal', 'create')).toBe(true);
    expect(allows(caller.scopes, 'Goal', 'read')).toBe(false);
  });

  it('runs from the command line: one line on stdout, nothing on stderr, the same key next time', async () => {
    const dataDir = tempDir();
    const first = await run('token', '--org', ORG, '--scope', 'system/*.rs', '--data-dir', dataDir);
    const second = await run('token', '--org', ORG, '--scope', 'system/*.rs', '--data-dir', dataDir);
    for (const result of [first, second]) {
      expect(result.status).toBe(0);
      expect(result.err).toBe('');
      expect(result.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      const token = result.out.trim();
      const { iat, exp } = decodeJwt(token);
      expect(exp).toBe((iat ?? 0) + 3600);
      // Verified at the instant the token says it was issued: the clock stays fixed.
      const caller = await verifyWithLocalKey(dataDir, token, new Date((iat ?? 0) * 1000));
      expect(caller).toMatchObject({ organization: ORG, subject: ORG });
    }
  });

  it('signs with the key in SIP_DATA_DIR when no --data-dir is given, as the server started with it does', async () => {
    const serverDir = tempDir();
    const elsewhere = tempDir();
    let out = '';
    const status = await runToken(['--org', ORG, '--scope', 'system/*.rs'], { out: (text) => (out += text), err: () => undefined }, () => NOW, { SIP_DATA_DIR: serverDir });
    expect(status).toBe(0);
    expect(existsSync(path.join(serverDir, LOCAL_KEY_FILE))).toBe(true);
    await expect(verifyWithLocalKey(serverDir, out, NOW)).resolves.toMatchObject({ organization: ORG });
    // A key of another folder does not verify it.
    await expect(verifyWithLocalKey(elsewhere, out, NOW)).rejects.toThrow(/signature/);
  });

  it('takes --data-dir over SIP_DATA_DIR, and ./data when neither is set', () => {
    expect(tokenDataDir('/srv/given', { SIP_DATA_DIR: '/srv/env' })).toBe('/srv/given');
    expect(tokenDataDir(undefined, { SIP_DATA_DIR: '/srv/env' })).toBe('/srv/env');
    expect(tokenDataDir(undefined, { SIP_DATA_DIR: '' })).toBe('./data');
    expect(tokenDataDir(undefined, {})).toBe('./data');
  });

  const USAGE_ERRORS: readonly { name: string; args: readonly string[]; message: RegExp }[] = [
    { name: 'no --org', args: ['--scope', 'system/*.rs'], message: /--org <HSA-id> is required/ },
    { name: 'no --scope', args: ['--org', ORG], message: /--scope "<scopes>" is required/ },
    { name: 'an org that is not an HSA-id', args: ['--org', 'Falu kommun', '--scope', 'system/*.rs'], message: /--org: HSA-id must look like/ },
    { name: 'a scope the parser refuses', args: ['--org', ORG, '--scope', 'system/CarePlan.sr'], message: /--scope: "system\/CarePlan.sr" is not a scope/ },
    { name: 'a patient scope', args: ['--org', ORG, '--scope', 'patient/*.read'], message: /not a system\/ scope/ },
    { name: 'a TTL that is not a number', args: ['--org', ORG, '--scope', 'system/*.rs', '--ttl', '1h'], message: /--ttl/ },
    { name: 'a TTL over a day', args: ['--org', ORG, '--scope', 'system/*.rs', '--ttl', '90000'], message: /--ttl/ },
    { name: 'an unknown option', args: ['--org', ORG, '--scope', 'system/*.rs', '--audience', 'x'], message: /Unknown option '--audience'/ },
    { name: 'an argument', args: ['--org', ORG, '--scope', 'system/*.rs', 'extra'], message: /unexpected argument "extra"/ },
  ];
  for (const usage of USAGE_ERRORS) {
    it(`exits 2 with usage on stderr for ${usage.name}, and makes no key`, async () => {
      const dataDir = path.join(tempDir(), 'data');
      const { status, out, err } = await run('token', ...usage.args, '--data-dir', dataDir);
      expect(status).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(usage.message);
      expect(err).toContain('Run "sip-fhir token --help" for usage.');
      expect(existsSync(dataDir)).toBe(false);
    });
  }

  it('prints its usage with --help, and is listed in the command overview', async () => {
    const help = await run('token', '--help');
    expect(help.status).toBe(0);
    expect(help.out).toContain('Usage: sip-fhir token --org <HSA-id> --scope "<scopes>"');
    const overview = await run('--help');
    expect(overview.out).toContain('token --org <HSA-id> --scope');
  });

  it('exits 2 when the key file is readable by others', async () => {
    const dataDir = tempDir();
    await loadOrCreateLocalKey(dataDir);
    chmodSync(path.join(dataDir, LOCAL_KEY_FILE), 0o640);
    const { status, out, err } = await run('token', '--org', ORG, '--scope', 'system/*.rs', '--data-dir', dataDir);
    expect(status).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^sip-fhir token: .*readable by others/);
  });
});

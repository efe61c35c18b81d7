/**
 * Runs SUSHI (fsh-sushi, pinned in package.json) on the FSH sources in `profiles/`, offline.
 *
 * SUSHI looks for the R4 core package `hl7.fhir.r4.core#4.0.1` in `$HOME/.fhir/packages/` and would
 * download it from the FHIR package registry, which a build must not need. The package is assembled
 * here instead, in the gitignored `.sushi/home/`, from the official npm package `hl7.fhir.r4.examples`
 * (the same 4.0.1 StructureDefinitions, ValueSets, CodeSystems and SearchParameters, one file each),
 * and SUSHI runs with `HOME` pointing there. Its registry look-ups (its own latest version, and the
 * packages it adds to every project: hl7.terminology.r4, hl7.fhir.uv.tools.r4,
 * hl7.fhir.uv.extensions.r4) go to a proxy that refuses at once, so the output never depends on
 * whether the network happens to be there; SUSHI warns about them and builds.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const PROFILES_DIR = join(REPO_DIR, 'profiles');
/** The FSH sources: `profiles/sushi-config.yaml` and `profiles/input/fsh/*.fsh`. */
export const FSH_DIR = join(PROFILES_DIR, 'input', 'fsh');
const WORK_DIR = join(REPO_DIR, '.sushi');
const HOME_DIR = join(WORK_DIR, 'home');
const CORE_PACKAGE_DIR = join(HOME_DIR, '.fhir', 'packages', 'hl7.fhir.r4.core#4.0.1', 'package');
/** Where SUSHI writes; its resources end up in `fsh-generated/resources/` under it. */
const OUT_DIR = join(WORK_DIR, 'out');
const CORE_KINDS = ['StructureDefinition-', 'ValueSet-', 'CodeSystem-', 'SearchParameter-'];
/** A port nothing listens on: connections are refused at once. */
const REFUSING_PROXY = 'http://127.0.0.1:9';

/** Builds `hl7.fhir.r4.core#4.0.1` in SUSHI's package cache from `hl7.fhir.r4.examples`, once. */
export function assembleCorePackage(): void {
  const manifest = join(CORE_PACKAGE_DIR, 'package.json');
  if (existsSync(manifest)) return;
  rmSync(CORE_PACKAGE_DIR, { recursive: true, force: true });
  mkdirSync(CORE_PACKAGE_DIR, { recursive: true });
  const examples = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
  for (const file of readdirSync(examples)) {
    if (!CORE_KINDS.some((kind) => file.startsWith(kind))) continue;
    // SUSHI's package loader skips symbolic links; a hard link costs no space, a copy works anywhere.
    try {
      linkSync(join(examples, file), join(CORE_PACKAGE_DIR, file));
    } catch {
      copyFileSync(join(examples, file), join(CORE_PACKAGE_DIR, file));
    }
  }
  // Written last: its presence marks a complete package.
  writeFileSync(manifest, `${JSON.stringify({ name: 'hl7.fhir.r4.core', version: '4.0.1', fhirVersions: ['4.0.1'], type: 'fhir.core' }, null, 2)}\n`);
}

export interface SushiRun {
  /** File name → JSON text, as SUSHI wrote it. */
  readonly resources: ReadonlyMap<string, string>;
  /** SUSHI's console output, for the record when it fails. */
  readonly log: string;
}

/** Runs `sushi build --snapshot` on `profiles/`; throws with SUSHI's log when it reports errors. */
export function runSushi(): SushiRun {
  assembleCorePackage();
  rmSync(OUT_DIR, { recursive: true, force: true });
  const app = join(dirname(require.resolve('fsh-sushi/package.json')), 'dist', 'app.js');
  const result = spawnSync(process.execPath, [app, 'build', PROFILES_DIR, '--snapshot', '--out', OUT_DIR], {
    env: { ...process.env, HOME: HOME_DIR, HTTPS_PROXY: REFUSING_PROXY, HTTP_PROXY: REFUSING_PROXY, https_proxy: REFUSING_PROXY, http_proxy: REFUSING_PROXY, NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const log = `${result.stdout}${result.stderr}`;
  const errors = /(\d+) Errors?/.exec(log)?.[1];
  if (result.status !== 0 || errors === undefined || errors !== '0') throw new Error(`SUSHI failed (exit ${String(result.status)}):\n${log}`);
  const dir = join(OUT_DIR, 'fsh-generated', 'resources');
  const resources = new Map<string, string>();
  for (const file of readdirSync(dir).sort()) if (file.endsWith('.json')) resources.set(file, readFileSync(join(dir, file), 'utf8'));
  return { resources, log };
}

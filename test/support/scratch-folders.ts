/**
 * Scratch folders for a test file's real files, removed when the file's tests have run, so that a test
 * run leaves nothing behind in the system's temporary folder (a CI run had left some 120 of them).
 *
 * The removal is an `afterAll` registered when this module is first imported by a test file, which is
 * while vitest collects that file: each test file has its own copy of this module (vitest isolates
 * test files, its default), so each removes its own folders once all of its tests have run, whether
 * they passed or not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

afterAll(() => {
  for (const folder of made.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A new folder in the system's temporary folder, named `prefix` and six random characters, removed with all it holds after the test file. */
export function scratchFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  made.push(folder);
  return folder;
}

/**
 * The build leaves `dist/cli/bin.js` executable. npm sets a bin's mode only when it links it, so a bin
 * linked once (in `npx`'s cache, or by `npm link`) and then built anew by tsc, which writes files
 * 0644, answered "sip-fhir: Permission denied" (seen with `npx sip-fhir token` in a fresh clone at a
 * path cloned before). `npm ci` builds through `prepare`, so the file is there in every clean clone.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the built command line', () => {
  it('is executable by its owner, its group and others', () => {
    const mode = statSync(resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js')).mode;
    expect(mode & 0o111).toBe(0o111);
  });
});

/**
 * What a `POST /fhir` transaction holds while its plan is recorded: not the parsed Bundle. The route
 * keeps only what recording needs of the entries (src/http/fhir-write-routes.ts `takeTransaction`),
 * so the Bundle is garbage once read and does not live through the store's round trips, where the
 * scavenges that happen meanwhile promoted it to the old space (docs/performance.md, "What a
 * transaction leaves behind").
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('POST /fhir while the plan is recorded', () => {
  it('no longer holds the parsed Bundle, and the write still goes through', async () => {
    // global.gc and WeakRef's verdict need --expose-gc, so the check runs in a node of its own.
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/support/released-bundle-child.ts'], { timeout: 50_000 });
    expect(JSON.parse(stdout)).toEqual({ readers: 1, releasedWhileRecording: true, status: 200 });
  }, 60_000);
});

/**
 * The differential tests of the validator's native checks (test/validation/native-*.test.ts): a
 * native check and fhirpath.js's compiled form of the expression it replaces, run on the same node,
 * must agree; what each check decided, and how often it left a node to fhirpath.js, is tallied so a
 * test can require every check to be seen failing as well as passing.
 */
import { expect } from 'vitest';
import type { NativeCheck } from '../../src/validation/native.js';

type Json = Record<string, unknown>;
/** What a constraint's FHIRPath sees as `%resource` and `%rootResource`. */
type Env = Parameters<NativeCheck>[1];

/** A native check beside fhirpath.js's compiled form of its expression. */
export interface NativeCase {
  readonly key: string;
  readonly native: NativeCheck;
  readonly compiled: (node: unknown, env: Env) => unknown[];
}

export class NativeAgreement {
  /** Per key, the answers the native check gave (true, false). */
  readonly decided = new Map<string, Set<boolean>>();
  /** Per key, how often the native check left the node to fhirpath.js. */
  readonly undecided = new Map<string, number>();

  /** Holds the native answer on `node` equal to fhirpath.js's (a constraint fails only on a single false), naming the node when not. */
  compare(check: NativeCase, node: Json, env: Env): void {
    const native = check.native(node, env);
    if (native === undefined) {
      this.undecided.set(check.key, (this.undecided.get(check.key) ?? 0) + 1);
      return;
    }
    let result: unknown[];
    try {
      result = check.compiled(node, env);
    } catch {
      // fhirpath.js gives no answer to compare with (it throws on JSON the R4 schema refuses anyway).
      return;
    }
    expect(native, `${check.key} on ${JSON.stringify(node).slice(0, 800)}`).toBe(!(result.length === 1 && result[0] === false));
    const seen = this.decided.get(check.key) ?? new Set<boolean>();
    seen.add(native);
    this.decided.set(check.key, seen);
  }
}

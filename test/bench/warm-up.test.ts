import { describe, expect, it } from 'vitest';
import { warmUp } from '../../bench/support.js';

/** A slice that answers `each` requests a call and counts its calls, taking `ms` of wall time. */
function slices(each: number, ms = 0): { slice: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return {
    slice: async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return each;
    },
    calls: () => calls,
  };
}

describe("warmUp: a scenario's uncounted warm-up before bench:http's and bench:fhir-write's rounds", () => {
  it('runs slices until their requests add up to the number asked for, and no further', async () => {
    const { slice, calls } = slices(400);
    const { answered } = await warmUp(slice, { requests: 1_500, maxSeconds: 60 });
    // 400, 800, 1,200 fall short; 1,600 reaches it.
    expect(calls()).toBe(4);
    expect(answered).toBe(1_600);
  });

  it('stops when the time is up, however few were answered', async () => {
    const { slice, calls } = slices(1, 20);
    const { answered, seconds } = await warmUp(slice, { requests: 1_000_000, maxSeconds: 0.1 });
    expect(calls()).toBeGreaterThanOrEqual(2);
    expect(calls()).toBeLessThan(20);
    expect(answered).toBe(calls());
    expect(seconds).toBeGreaterThanOrEqual(0.1);
  });

  it('runs one slice at least, even when nothing more is asked for', async () => {
    const { slice, calls } = slices(0);
    expect(await warmUp(slice, { requests: 0, maxSeconds: 0 })).toMatchObject({ answered: 0 });
    expect(calls()).toBe(1);
  });
});

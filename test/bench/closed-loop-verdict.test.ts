import { describe, expect, it } from 'vitest';
import { closedLoopVerdict, type ClosedLoopFigures } from '../../bench/support.js';

const transactions: ClosedLoopFigures = { name: 'fhir-tx', what: 'transactions', rate: 270, worstP99: 66, connections: 10, aimRate: 100, judgedBy: 'fhir-tx @100/s' };

describe("closedLoopVerdict: bench:http's line for a closed-loop scenario against issue #11's aim of a rate with a p99", () => {
  it('is NOT met below the aim’s rate, whatever the p99', () => {
    expect(closedLoopVerdict({ ...transactions, rate: 81, worstP99: 12 })).toBe("closed loop, 10 connections (fhir-tx): NOT met, below the aim's 100 transactions/s (81/s, worst p99 12 ms)");
  });

  it('is met at the aim’s rate or above with p99 ≤ 50 ms, the reads’ rate written with its thousands', () => {
    expect(closedLoopVerdict({ name: 'sip-read', what: 'reads', rate: 4928.4, worstP99: 5, connections: 10, aimRate: 2000 })).toBe(
      'closed loop, 10 connections (sip-read): met, ≥ 2,000 reads/s with p99 ≤ 50 ms (4928/s, worst p99 5 ms)',
    );
    expect(closedLoopVerdict({ ...transactions, rate: 100, worstP99: 50 })).toContain(': met, ≥ 100 transactions/s');
  });

  it('gives a longer p99 above the aim’s rate as the queue it is, by Little’s law, and names the scenario that judges the aim', () => {
    expect(closedLoopVerdict(transactions)).toBe(
      "closed loop, 10 connections (fhir-tx): 270/s, worst p99 66 ms — the rate is 2.7× the aim's; the p99 is 10 connections queued at that rate " +
        `(37 ms on average by Little's law), not the latency at the aim's rate, which "fhir-tx @100/s" judges`,
    );
  });

  it('neither says met nor names a judging scenario when the run has none at the aim’s rate', () => {
    const line = closedLoopVerdict({ name: 'sip-create', what: 'creates', rate: 500, worstP99: 63, connections: 10, aimRate: 100 });
    expect(line).toBe("closed loop, 10 connections (sip-create): 500/s, worst p99 63 ms — the rate is 5.0× the aim's; the p99 is 10 connections queued at that rate (20 ms on average by Little's law), not the latency at the aim's rate");
    expect(line).not.toMatch(/\bmet\b/);
  });
});

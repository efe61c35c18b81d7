/**
 * How every route of the service runs: as the caller its token names, with the token's scopes
 * checked for the interaction, and with how it ended written to the audit log (Patientdatalagen:
 * who read or changed what, about whom, when) before the answer leaves. Shared by the SIP API and
 * the FHIR facade.
 *
 * Where the entry goes: a route that records a plan version hands its success entry to the store
 * with the version ({@link VersionAudit}), which appends it in the version's transaction — the
 * version's commit is the entry's, one commit where there were two (docs/performance.md, branch
 * `i11-audit-tx`). Every other entry (reads, searches, refusals, failures, a write that recorded
 * nothing new) goes through `store.audit`, the batching audit writer (src/store/audit-writer.ts).
 * Either way the answer leaves only once its entry is committed.
 */
import type { Request, Response } from 'express';
import type { AuditEntry } from '../store/plan-store.js';
import { unstorableText, type AppDependencies, type Caller } from './app.js';
import { HttpError } from './problem.js';

/** The plan and person a call concerned, filled in by the route as soon as it knows them. */
export interface AuditSubject {
  planId?: string;
  person?: string;
  /** The action to audit, when the route learns it only as it runs (a FHIR transaction creates or updates). */
  action?: AuditEntry['action'];
}

type Interaction = Parameters<Caller['may']>[0];

/**
 * The call's success entry for the store write that records a plan version, so that it is appended
 * in the version's transaction (`VersionWriteOptions.audit`).
 */
export interface VersionAudit {
  /**
   * Runs `write` — the store's create or update of the version — with the call's success entry as it
   * stands now (the subject's plan, person and action filled in), its detail `status`: the status the
   * route will answer. Once `write` resolves the entry is committed with the version, and the call is
   * not audited again when it answers that status. When `write` throws, its transaction and the entry
   * with it rolled back, and the failure is audited like every other.
   */
  recording<T>(status: number, write: (entry: AuditEntry) => Promise<T>): Promise<T>;
}

export type AuditedRun = (request: Request, response: Response, caller: Caller, subject: AuditSubject, versionAudit: VersionAudit) => Promise<void>;

/**
 * Route handlers that authenticate, check the scopes, run, and audit. `mapError` turns errors of the
 * layers below into HTTP errors before the outcome is judged and the error passed on. A route that
 * knows only as it runs which interaction it is (a FHIR transaction creates or updates) names the
 * interactions it may be in `interactions`: the token must allow one of them up front, and the route
 * checks the one it turns out to be.
 */
export function auditedRoutes(
  dependencies: Pick<AppDependencies, 'store' | 'authenticate'>,
  mapError: (error: unknown) => unknown = (error) => error,
  /** What the token's scopes must grant the interaction on: the plans (`CarePlan`) or the audit log (`AuditEvent`). */
  resourceType = 'CarePlan',
) {
  const granted = resourceType === 'CarePlan' ? 'plans' : resourceType;
  return (action: AuditEntry['action'], run: AuditedRun, interactions?: readonly Interaction[]) =>
    async (request: Request, response: Response): Promise<void> => {
      // The audit log keeps what was asked; text PostgreSQL cannot store (U+0000, an unpaired
      // surrogate) is replaced there, and refused before it reaches the store.
      const what = storable(`${request.method} ${request.baseUrl}${request.path === '/' && request.baseUrl !== '' ? '' : request.path}`);
      const subject: AuditSubject = {};
      let caller: Caller | undefined;
      /** The status the success entry committed with a version (VersionAudit) named, once it is committed. */
      let recorded: string | undefined;
      const answer = holdAnswer(response);
      try {
        const unstorable = unstorableText({ ...request.params }) ?? unstorableText({ ...(request.query as Record<string, unknown>) });
        if (unstorable !== undefined) throw new HttpError(400, 'Bad Request', `The path or query holds U+0000 or an unpaired surrogate (${unstorable})`);
        const authenticated = await dependencies.authenticate(request);
        caller = authenticated;
        const interaction = action === 'search' || action === 'read' || action === 'create' ? action : 'update';
        if (interactions !== undefined && !interactions.some((allowed) => authenticated.may(allowed, resourceType))) {
          throw new HttpError(
            403,
            'Forbidden',
            `The token's scopes allow none of ${interactions.join(', ')} on ${granted} (system/${resourceType}.read or .write, or the SMART v2 letters ${interactions.map((allowed) => allowed.charAt(0)).join(', ')})`,
          );
        }
        if (interactions === undefined && !caller.may(interaction, resourceType)) {
          throw new HttpError(
            403,
            'Forbidden',
            `The token's scopes do not allow ${interaction} of ${granted} (system/${resourceType}.${interaction === 'read' || interaction === 'search' ? 'read' : 'write'}, or system/${resourceType}.${interaction.charAt(0)} in SMART v2)`,
          );
        }
        await run(request, response, authenticated, subject, {
          async recording(status, write) {
            const result = await write(auditEntry(authenticated, subject.action ?? action, what, subject, 'success', String(status)));
            recorded = String(status);
            return result;
          },
        });
        // A conditional read whose ETag or date still holds is answered 304 by Express as it sends (req.fresh,
        // https://hl7.org/fhir/R4/http.html#cread); the log says so, after access and consent were judged as for a 200.
        const status = String(request.fresh ? 304 : response.statusCode);
        // Committed with the version already, saying this status: not written twice. An answer other than
        // the one the entry named is written too, so the log always holds the status the caller got.
        if (recorded !== status) await dependencies.store.audit(auditEntry(caller, subject.action ?? action, what, subject, 'success', status));
      } catch (error) {
        // An answer the route made is not sent: the error is, after its own audit entry. After a version
        // was recorded with its success entry (VersionAudit), this entry follows it: the log says both
        // that the version was recorded and that the caller was answered with this error.
        answer.drop();
        const mapped = mapError(error);
        const status = mapped instanceof HttpError ? mapped.status : 500;
        await dependencies.store.audit(auditEntry(caller, subject.action ?? action, what, subject, status === 401 || status === 403 ? 'refused' : 'failed', String(status)));
        throw mapped;
      }
      answer.send();
    };
}

/**
 * Holds back what a route sends (`response.send`, which `response.json` calls too) until `send()` is
 * called, so the answer leaves only after its audit entry is committed: an answered request whose
 * entry a crash could still lose would be a read of patient data nobody can account for
 * (Patientdatalagen 4 kap. 3 §). `drop()` forgets the held answer, for an error answered instead.
 */
function holdAnswer(response: Response): { send: () => void; drop: () => void } {
  const original = response.send.bind(response);
  let held: { body: unknown } | undefined;
  response.send = ((body?: unknown) => {
    held = { body };
    return response;
  }) as Response['send'];
  const restore = (): void => {
    response.send = original;
  };
  return {
    send: () => {
      restore();
      if (held !== undefined) original(held.body);
    },
    drop: () => {
      restore();
      held = undefined;
    },
  };
}

/** The text with U+0000 and unpaired surrogates replaced by U+FFFD, as PostgreSQL can store it. */
function storable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function auditEntry(caller: Caller | undefined, action: AuditEntry['action'], what: string, subject: AuditSubject, outcome: AuditEntry['outcome'], detail: string): AuditEntry {
  return {
    at: new Date().toISOString(),
    organization: caller?.organization ?? 'anonymous',
    ...(caller?.agent === undefined ? {} : { agent: caller.agent }),
    ...(subject.planId === undefined ? {} : { planId: subject.planId }),
    ...(subject.person === undefined ? {} : { personIdentifier: subject.person }),
    action,
    what,
    outcome,
    detail,
  };
}

/**
 * The outbox for operators (issue #14 point 2): list deliveries by state, receiver and plan, inspect
 * one (attempts and the receiver's last answer), put a dead letter back to pending, or give it up.
 *
 *   GET  /exchange/deliveries?state=&receiver=&plan=&after=&limit=
 *   GET  /exchange/deliveries/{id}
 *   POST /exchange/deliveries/{id}/retry
 *   POST /exchange/deliveries/{id}/skip     {"reason": "…"}
 *
 * Only organisations listed in `SIP_OPERATORS` may call them (none by default: nobody); others get
 * 403. Every call is in the audit log like any other; a skip's entry also names the plan, the
 * version, the receiver and the reason given — a refused skip's too (404, 409: what it asked to give
 * up, the state that made it refused, and the reason the operator gave). Errors are problem documents (RFC 9457), as on the
 * rest of the non-FHIR API.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { DELIVERY_STATES, DeliveryNotRetryableError, DeliveryNotSkippableError, MAX_SKIP_REASON, type OutboxStore } from '../store/index.js';
import type { AuditEntry } from '../store/plan-store.js';
import type { AppDependencies, Caller } from './app.js';
import { HttpError } from './problem.js';

const listQuerySchema = z.strictObject({
  state: z.enum(DELIVERY_STATES as [string, ...string[]]).optional(),
  receiver: z.string().min(1).max(128).optional(),
  plan: z.string().min(1).max(200).optional(),
  after: z.string().regex(/^[1-9]\d{0,18}$/, 'must be a delivery id').optional(),
  limit: z.coerce.number().int().min(0).max(1_000).optional(),
});

const skipBodySchema = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required: why this version is given up')
    .max(MAX_SKIP_REASON)
    // Text PostgreSQL cannot keep (U+0000, an unpaired surrogate) is refused here, not by the store.
    .refine((text) => !text.includes('\u0000') && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text), 'holds U+0000 or an unpaired surrogate, which the store cannot keep'),
});

/** What a route adds to its audit entry beside the call itself. */
interface AuditNote {
  readonly planId?: string;
  /** Appended to the status in `detail`. */
  readonly detail?: string;
}

/** The most bytes a skip's body may have: a reason of 1000 characters, with room. */
const MAX_SKIP_BODY = 16 * 1024;

/**
 * The skip's small JSON body, read here: these routes come before the app's JSON reader, which
 * would refuse a retry's bare POST. Without a JSON Content-Type there is no body (undefined).
 */
async function readBody(request: Request): Promise<unknown> {
  if (request.is('application/json') !== 'application/json') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SKIP_BODY) throw new HttpError(413, 'Payload Too Large', `The body may have at most ${String(MAX_SKIP_BODY)} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, 'Bad Request', `The body must be a JSON object {"reason": "…"}: ${error instanceof Error ? error.message : 'it is not JSON'}`);
  }
}

export function deliveryRouter(dependencies: Pick<AppDependencies, 'store' | 'authenticate' | 'clock'> & { readonly operators: readonly string[]; readonly outbox: OutboxStore }): Router {
  const { store, outbox, clock } = dependencies;
  const operators = new Set(dependencies.operators);
  const router = Router();

  /** Authenticates, checks the caller is an operator, runs, and audits how it ended. */
  const operatorRoute =
    (
      action: AuditEntry['action'],
      /** `refusing`: what the audit entry says if the route then answers with an error (a refused skip's reason). */
      run: (request: Request, response: Response, caller: Caller, refusing: (note: AuditNote) => void) => Promise<AuditNote | undefined>,
    ) =>
    async (request: Request, response: Response): Promise<void> => {
      let caller: Caller | undefined;
      let outcome: AuditEntry['outcome'] = 'success';
      let detail = '200';
      let note: AuditNote | undefined;
      try {
        caller = await dependencies.authenticate(request);
        if (!operators.has(caller.organization)) {
          throw new HttpError(403, 'Forbidden', `Organisation ${caller.organization} is not an operator of the exchange (SIP_OPERATORS lists who is)`);
        }
        note = await run(request, response, caller, (refusal) => {
          note = refusal;
        });
        detail = note?.detail === undefined ? String(response.statusCode) : `${String(response.statusCode)}: ${note.detail}`;
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 500;
        outcome = status === 401 || status === 403 ? 'refused' : 'failed';
        detail = note?.detail === undefined ? String(status) : `${String(status)}: ${note.detail}`;
        throw error;
      } finally {
        await store.audit({
          at: clock().toISOString(),
          organization: caller?.organization ?? 'anonymous',
          ...(caller?.agent === undefined ? {} : { agent: caller.agent }),
          ...(note?.planId === undefined ? {} : { planId: note.planId }),
          action,
          what: `${request.method} ${request.baseUrl}${request.path}`,
          outcome,
          detail,
        });
      }
    };

  router.get(
    '/deliveries',
    operatorRoute('search', async (request, response) => {
      const query = listQuerySchema.safeParse(request.query);
      if (!query.success) throw new HttpError(400, 'Bad Request', query.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '));
      const { state, receiver, plan, after, limit } = query.data;
      const deliveries = await outbox.list({
        ...(state === undefined ? {} : { state: state as (typeof DELIVERY_STATES)[number] }),
        ...(receiver === undefined ? {} : { receiverId: receiver }),
        ...(plan === undefined ? {} : { planId: plan }),
        ...(after === undefined ? {} : { afterId: after }),
        ...(limit === undefined ? {} : { limit }),
      });
      response.json({ deliveries });
      return undefined;
    }),
  );

  router.get(
    '/deliveries/:id',
    operatorRoute('read', async (request, response) => {
      const id = String(request.params.id);
      const delivery = await outbox.get(id);
      if (delivery === undefined) throw new HttpError(404, 'Not Found', `There is no delivery ${id}`);
      response.json(delivery);
      return undefined;
    }),
  );

  router.post(
    '/deliveries/:id/retry',
    operatorRoute('execute', async (request, response) => {
      const id = String(request.params.id);
      try {
        response.json(await outbox.retry(id));
        return undefined;
      } catch (error) {
        if (!(error instanceof DeliveryNotRetryableError)) throw error;
        throw error.state === undefined ? new HttpError(404, 'Not Found', `There is no delivery ${id}`) : new HttpError(409, 'Conflict', `Delivery ${id} is ${error.state}; only a dead letter can be retried`);
      }
    }),
  );

  /**
   * Gives up a dead letter (issue #14): the receiver will never get this version, and later versions
   * to it are no longer held back. Only a dead letter can be skipped; a reason is required, and it is
   * kept on the delivery and in the audit entry with who skipped it.
   */
  router.post(
    '/deliveries/:id/skip',
    operatorRoute('execute', async (request, response, caller, refusing) => {
      const id = String(request.params.id);
      const body = skipBodySchema.safeParse(await readBody(request));
      if (!body.success) {
        throw new HttpError(400, 'Bad Request', body.error.issues.map((issue) => `${issue.path.length === 0 ? 'body' : `/${issue.path.join('/')}`}: ${issue.message}`).join('; '));
      }
      const by = caller.agent === undefined || caller.agent === caller.organization ? caller.organization : `${caller.organization} (${caller.agent})`;
      try {
        const delivery = await outbox.skip(id, { reason: body.data.reason, by });
        response.json(delivery);
        return {
          planId: delivery.planId,
          detail: `skipped plan ${delivery.planId} version ${String(delivery.version)} to receiver ${delivery.receiverId} (delivery ${id}); reason: ${body.data.reason}`,
        };
      } catch (error) {
        if (!(error instanceof DeliveryNotSkippableError)) throw error;
        // The refused attempt is audited with what was asked and why: an operator who tried to give
        // up a delivery that was not a dead letter (one a worker was delivering, or already ended).
        const target = error.state === undefined ? undefined : await outbox.get(id);
        refusing({
          ...(target === undefined ? {} : { planId: target.planId }),
          detail:
            target === undefined
              ? `refused to skip delivery ${id}, which does not exist; reason given: ${body.data.reason}`
              : `refused to skip plan ${target.planId} version ${String(target.version)} to receiver ${target.receiverId} (delivery ${id}): it is ${target.state}, only a dead letter can be skipped; reason given: ${body.data.reason}`,
        });
        throw error.state === undefined ? new HttpError(404, 'Not Found', `There is no delivery ${id}`) : new HttpError(409, 'Conflict', `Delivery ${id} is ${error.state}; only a dead letter can be skipped`);
      }
    }),
  );
  return router;
}

/**
 * The outbox for operators (issue #14 point 2): list deliveries by state, receiver and plan, inspect
 * one (attempts and the receiver's last answer), and put a dead letter back to pending.
 *
 *   GET  /exchange/deliveries?state=&receiver=&plan=&after=&limit=
 *   GET  /exchange/deliveries/{id}
 *   POST /exchange/deliveries/{id}/retry
 *
 * Only organisations listed in `SIP_OPERATORS` may call them (none by default: nobody); others get
 * 403. Every call is in the audit log like any other. Errors are problem documents (RFC 9457).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { DELIVERY_STATES, DeliveryNotRetryableError, type OutboxStore } from '../store/index.js';
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

export function deliveryRouter(dependencies: Pick<AppDependencies, 'store' | 'authenticate' | 'clock'> & { readonly operators: readonly string[]; readonly outbox: OutboxStore }): Router {
  const { store, outbox, clock } = dependencies;
  const operators = new Set(dependencies.operators);
  const router = Router();

  /** Authenticates, checks the caller is an operator, runs, and audits how it ended. */
  const operatorRoute =
    (action: AuditEntry['action'], run: (request: Request, response: Response, caller: Caller) => Promise<void>) =>
    async (request: Request, response: Response): Promise<void> => {
      let caller: Caller | undefined;
      let outcome: AuditEntry['outcome'] = 'success';
      let detail = '200';
      try {
        caller = await dependencies.authenticate(request);
        if (!operators.has(caller.organization)) {
          throw new HttpError(403, 'Forbidden', `Organisation ${caller.organization} is not an operator of the exchange (SIP_OPERATORS lists who is)`);
        }
        await run(request, response, caller);
        detail = String(response.statusCode);
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 500;
        outcome = status === 401 || status === 403 ? 'refused' : 'failed';
        detail = String(status);
        throw error;
      } finally {
        await store.audit({
          at: clock().toISOString(),
          organization: caller?.organization ?? 'anonymous',
          ...(caller?.agent === undefined ? {} : { agent: caller.agent }),
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
    }),
  );

  router.get(
    '/deliveries/:id',
    operatorRoute('read', async (request, response) => {
      const id = String(request.params.id);
      const delivery = await outbox.get(id);
      if (delivery === undefined) throw new HttpError(404, 'Not Found', `There is no delivery ${id}`);
      response.json(delivery);
    }),
  );

  router.post(
    '/deliveries/:id/retry',
    operatorRoute('execute', async (request, response) => {
      const id = String(request.params.id);
      try {
        response.json(await outbox.retry(id));
      } catch (error) {
        if (!(error instanceof DeliveryNotRetryableError)) throw error;
        throw error.state === undefined ? new HttpError(404, 'Not Found', `There is no delivery ${id}`) : new HttpError(409, 'Conflict', `Delivery ${id} is ${error.state}; only a dead letter can be retried`);
      }
    }),
  );
  return router;
}

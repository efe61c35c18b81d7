/**
 * The municipal inbound path (issue #14, "What to build" point 4): `POST /exchange/inbound/{mapping}`
 * takes a municipal system's export in the system's own format — JSON for a mapping with
 * `format: json`, XML for `format: xml` (mappings/README.md) — and records it as a plan version,
 * beside `POST /fhir`, which takes the region's transaction Bundles:
 *
 * 1. the export is translated by the mapping (`translateInbound`): every issue names the mapping
 *    rule and the place in the source (a JSON pointer, or for XML an element path such as
 *    `Export/SipArende/Insats[2]/@_status`, with its line), and the SIP rules are applied at the
 *    instant the export says its plan was last changed;
 * 2. the plan as it would be recorded is mapped to FHIR and validated against the SIP Bundle profile;
 * 3. it is recorded by the core `POST /fhir` uses (src/http/record-plan.ts): version 1 when the plan
 *    is new here, the next version when it states something new, nothing when it states the same
 *    (a replayed export creates nothing), in one database transaction.
 *
 * The answer is an OperationOutcome (application/fhir+json): what was accepted (plan, version,
 * created 201 / updated 200 / unchanged 200) and every warning and loss note of the mapping; or
 * the refusal with every problem and its location — 400 for a body that is not well-formed JSON or
 * XML (line and column), 413 above the body limit, 415 for a media type the mapping does not take,
 * 404 for a mapping the adapter does not have, 422 for a translation, rule or profile error. Every
 * call is in the audit log (src/http/audited-route.ts).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import express, { Router } from 'express';
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { DEFAULT_MAPPING_OPTIONS, PROFILE, RULE_CODE_SYSTEM, planEntries, planToBundle, resourceIdOf } from '../fhir/index.js';
import { formatIssue, isError, loadMapping, MAPPING_FILE, translateInbound, type Mapping, type MappingIssue } from '../exchange/index.js';
import type { Problem } from '../sip/index.js';
import { createValidator, hasErrors } from '../validation/index.js';
import { asHttpError, unstorableText, type AppDependencies } from './app.js';
import { auditedRoutes } from './audited-route.js';
import { HttpError, OutcomeError } from './problem.js';
import { recordPlan, type RecordRefusals } from './record-plan.js';
import { etagOf, ifMatchVersion } from './sip-routes.js';

/** Where the endpoint is mounted. */
export const INBOUND_BASE = '/exchange/inbound';

/** What an export is answered: 201 when it made a plan new to the adapter, 200 otherwise (the entry written with a version names the same). */
const INBOUND_STATUS = { created: 201, updated: 200, unchanged: 200 } as const;

/** The media types a mapping's format takes (RFC 7303 for XML, RFC 8259 for JSON). */
export const INBOUND_MEDIA_TYPES: Readonly<Record<Mapping['document']['format'], readonly string[]>> = {
  json: ['application/json'],
  xml: ['application/xml', 'text/xml'],
};

/**
 * Every mapping in `folder` (each sub-folder holding a `mapping.json`), by name; a mapping that does
 * not load refuses the start-up with its problems (`MappingLoadError`), so a broken mapping is found
 * before the first export arrives, not by it.
 */
export async function loadMappings(folder: string): Promise<ReadonlyMap<string, Mapping>> {
  const entries = await readdir(folder, { withFileTypes: true });
  const mappings = new Map<string, Mapping>();
  for (const entry of entries.filter((candidate) => candidate.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const inside = await readdir(join(folder, entry.name));
    if (!inside.includes(MAPPING_FILE)) continue;
    const mapping = await loadMapping(join(folder, entry.name));
    mappings.set(mapping.name, mapping);
  }
  return mappings;
}

/** The OperationOutcome issue type of a mapping issue (https://hl7.org/fhir/R4/valueset-issue-type.html). */
function issueType(issue: MappingIssue): OperationOutcomeIssue['code'] {
  if (issue.code === 'source.malformed') return 'structure';
  if (issue.code === 'mapping.not-carried' || issue.code === 'mapping.loss-not-checked') return 'informational';
  if (issue.code === 'mapping.value-unknown') return 'code-invalid';
  if (issue.code.startsWith('mapping.') || issue.code.startsWith('source.')) return 'value';
  if (issue.code.startsWith('schema.')) return 'invalid';
  return 'business-rule';
}

/**
 * Where an issue stands, as `OperationOutcome.issue.location` strings: the place in the source
 * (the XML element path, or the JSON pointer, `(document)` for the whole), then its line (and
 * column), then — for a problem of the plan the mapping does not trace to a source field — the
 * JSON pointer into the SIP plan, written `plan /goals/0`.
 */
function locationsOf(issue: MappingIssue): string[] {
  const source = issue.source;
  const locations: string[] = [];
  const path = source?.xmlPath ?? source?.pointer;
  if (path !== undefined) locations.push(path === '' ? '(document)' : path);
  if (source?.line !== undefined) locations.push(`line ${String(source.line)}${source.column === undefined ? '' : `, column ${String(source.column)}`}`);
  if (path === undefined && issue.planPointer !== undefined) locations.push(`plan ${issue.planPointer === '' ? '(document)' : issue.planPointer}`);
  return locations;
}

/** A mapping issue as an OperationOutcome issue: its stable code (a SIP rule's in the rules' code system), message and locations. */
export function mappingOutcomeIssue(issue: MappingIssue): OperationOutcomeIssue {
  const isRule = !/^(mapping|source|schema)\./.test(issue.code);
  const locations = locationsOf(issue);
  return {
    severity: issue.severity,
    code: issueType(issue),
    details: { coding: [{ ...(isRule ? { system: RULE_CODE_SYSTEM } : {}), code: issue.code }], text: issue.message },
    diagnostics: formatIssue(issue),
    ...(locations.length === 0 ? {} : { location: locations }),
  };
}

/** A SIP rule problem of the plan about to be recorded, located by its JSON pointer in the plan. */
function problemIssue(problem: Problem): OperationOutcomeIssue {
  return mappingOutcomeIssue({ severity: problem.severity, code: problem.code, message: problem.message, planPointer: problem.pointer });
}

function outcome(issues: readonly OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [...issues] };
}

/** The export's body as text, read here (not by the app's JSON reader) so XML is taken too; errors as the HTTP errors they are. */
function readBody(request: Request, response: Response, limit: number): Promise<string> {
  const parse = express.text({ type: () => true, limit });
  return new Promise((resolve, reject) => {
    const done = (error?: unknown): void => {
      if (error !== undefined && error !== null) {
        reject(asHttpError(error) ?? (error instanceof Error ? error : new Error('the request body could not be read')));
        return;
      }
      const body: unknown = request.body;
      resolve(typeof body === 'string' ? body : '');
    };
    // Express's request is the IncomingMessage the server made, extended: what body-parser reads.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    parse(request, response, done);
  });
}

/** The mappings' names, for a 404 that says what there is. */
function known(mappings: ReadonlyMap<string, Mapping>): string {
  return mappings.size === 0 ? 'the adapter has no mappings' : `the mappings are ${[...mappings.keys()].join(', ')}`;
}

export function inboundRouter(dependencies: AppDependencies): Router {
  const mappings = dependencies.mappings ?? new Map<string, Mapping>();
  const validator = dependencies.validator ?? createValidator();
  const router = Router();
  const route = auditedRoutes(dependencies);

  const refusals: RecordRefusals = {
    rules: (problems) => new OutcomeError(422, 'Unprocessable Content', outcome(problems.map(problemIssue))),
    // Not reached: approvals of earlier versions are dropped (and reported) on this path.
    earlierApproval: (planId) => new HttpError(422, 'Unprocessable Content', `Plan "${planId}" is new here, and an approval in it names an earlier version the adapter never had`),
    closure: (planId) =>
      new OutcomeError(
        422,
        'Unprocessable Content',
        outcome([
          {
            severity: 'error',
            code: 'business-rule',
            diagnostics: `The export closes plan "${planId}" or changes its closure; a plan the adapter holds is closed through POST /sip/plans/${planId}/closure; nothing was recorded`,
            location: ['plan /closure'],
          },
        ]),
      ),
  };

  router.post(
    '/:mapping',
    route(
      'update',
      async (request, response, caller, subject, versionAudit) => {
        const name = String(request.params.mapping);
        const mapping = mappings.get(name);
        if (mapping === undefined) throw new HttpError(404, 'Not Found', `No mapping "${name}" here; ${known(mappings)}`);
        const types = INBOUND_MEDIA_TYPES[mapping.document.format];
        if (request.is([...types]) === false || request.is([...types]) === null) {
          throw new HttpError(415, 'Unsupported Media Type', `The mapping "${name}" takes ${mapping.document.format.toUpperCase()}: send the body as ${types.join(' or ')}; got ${request.headers['content-type'] ?? 'no Content-Type'}`);
        }
        const header = request.get('If-Match');
        const expected = ifMatchVersion(header);
        if (header !== undefined && expected === undefined) throw new HttpError(400, 'Bad Request', `If-Match must be an ETag such as W/"3"; got ${header}`);
        const text = await readBody(request, response, dependencies.maxBodyBytes);

        const translated = translateInbound(mapping, text);
        // The mapping file as the caller knows it (`modern-case-api/mapping.json`), not the server's folder.
        const mappingIssues = translated.issues.map((issue) => mappingOutcomeIssue(issue.file === undefined ? issue : { ...issue, file: `${name}/${MAPPING_FILE}` }));
        if (translated.issues.some((issue) => issue.code === 'source.malformed')) throw new OutcomeError(400, 'Bad Request', outcome(mappingIssues));
        const plan = translated.plan;
        if (plan === undefined || translated.issues.some(isError)) throw new OutcomeError(422, 'Unprocessable Content', outcome(mappingIssues));
        // Checked before the plan names the audit entry, which the store could not keep either.
        const unstorable = unstorableText(plan);
        if (unstorable !== undefined) {
          throw new OutcomeError(400, 'Bad Request', outcome([{ severity: 'error', code: 'invalid', diagnostics: 'The export holds text the store cannot keep (U+0000 or an unpaired surrogate)', location: [`plan ${unstorable}`] }]));
        }
        subject.planId = plan.id;
        subject.person = plan.individual.identifier.value;

        let profileWarnings: OperationOutcomeIssue[] = [];
        const recorded = await recordPlan(dependencies, {
          incoming: plan,
          caller,
          subject,
          versionAudit,
          answers: INBOUND_STATUS,
          ...(expected === undefined ? {} : { expectedVersion: expected }),
          earlierApprovals: 'drop',
          refusals,
          prepare: (step) => {
            // What is recorded is what the facade serves: its FHIR view must meet the SIP profiles.
            if (step.kind === 'unchanged') return;
            const validation = validator.validate(planToBundle(step.plan, DEFAULT_MAPPING_OPTIONS), { profiles: [PROFILE.bundle] });
            const issues = validation.issue.filter((issue) => issue.severity !== 'information');
            if (hasErrors(validation)) {
              throw new OutcomeError(
                422,
                'Unprocessable Content',
                outcome([
                  {
                    severity: 'error',
                    code: 'invalid',
                    diagnostics: `The plan translated by the mapping "${name}" does not meet the SIP profiles as FHIR (each issue below is located in the FHIR Bundle of the plan); nothing was recorded`,
                  },
                  ...issues,
                  ...mappingIssues,
                ]),
              );
            }
            profileWarnings = issues;
          },
        });

        const { stored, result } = recorded;
        const carePlan = planEntries(stored.plan, DEFAULT_MAPPING_OPTIONS).find((entry) => entry.resourceType === 'CarePlan');
        const carePlanId = carePlan === undefined ? undefined : resourceIdOf(carePlan.key.fullUrl);
        const where = carePlanId === undefined ? undefined : `/fhir/CarePlan/${carePlanId}/_history/${String(stored.version)}`;
        const said = {
          created: `plan "${stored.plan.id}" recorded as version ${String(stored.version)} (a plan new to the adapter)`,
          updated: `plan "${stored.plan.id}" recorded as version ${String(stored.version)}`,
          unchanged: `plan "${stored.plan.id}" states what its version ${String(stored.version)} states; nothing was recorded`,
        }[result];
        const accepted: OperationOutcomeIssue = {
          severity: 'information',
          code: 'informational',
          details: { coding: [{ code: result }], text: said },
          diagnostics: `${result}: ${said}`,
          ...(where === undefined ? {} : { location: [where] }),
        };
        const dropped: OperationOutcomeIssue[] = recorded.droppedApprovals.map((approval) => ({
          severity: 'warning',
          code: 'informational',
          details: { coding: [{ code: 'inbound.approval-not-carried' }], text: `the approval by ${approval.principal} of revision ${String(approval.version)} names a version the adapter never had` },
          diagnostics: `The approval by ${approval.principal} of the export's revision ${String(approval.version)} was not recorded: plan "${stored.plan.id}" is new here, and the adapter holds no such version; the principal approves this version through POST /sip/plans/${stored.plan.id}/approvals`,
          location: ['plan /approvals'],
        }));
        response.setHeader('ETag', etagOf(stored.version));
        if (where !== undefined) response.setHeader(result === 'created' ? 'Location' : 'Content-Location', where);
        response
          .status(INBOUND_STATUS[result])
          .type('application/fhir+json')
          .send(JSON.stringify(outcome([accepted, ...mappingIssues, ...dropped, ...profileWarnings])));
      },
      ['create', 'update'],
    ),
  );

  router.all('/:mapping', (request) => {
    throw new HttpError(405, 'Method Not Allowed', `${request.method} ${INBOUND_BASE}/${request.params.mapping} is not supported: POST the system's export`, [], { Allow: 'POST' });
  });

  return router;
}

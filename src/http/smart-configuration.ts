/**
 * SMART discovery: where a SMART Backend Services client gets its token for this FHIR base
 * (SMART App Launch 2.2, "Conformance", https://hl7.org/fhir/smart-app-launch/conformance.html, and
 * "Backend Services", step 2, https://hl7.org/fhir/smart-app-launch/backend-services.html).
 *
 * - `GET /fhir/.well-known/smart-configuration` answers the discovery document, without a token (a
 *   client reads it before it has one) and as `application/json` whatever the `Accept` header says, as
 *   the specification requires.
 * - The CapabilityStatement's `rest.security` names the token endpoint too, in the `oauth-uris`
 *   extension that SMART 1.0 clients read (deprecated since SMART 2.0, still what many clients look
 *   for first — fhir-kit-client races the two).
 *
 * The server verifies tokens; it does not issue them. So the document exists only when the operator
 * names the external issuer's token endpoint (`SIP_AUTH_TOKEN_ENDPOINT`): the token endpoint is
 * REQUIRED in it, and a server signing its own tokens (the local key, `sip-fhir token`) has none. Such
 * a server answers 404 with an OperationOutcome that says where its tokens come from.
 */
import type { CapabilityStatementRestSecurity } from 'fhir/r4.js';
import type { RequestHandler } from 'express';
import { HttpError } from './problem.js';

/** Where the discovery document is, from the server's root: the FHIR base `/fhir` and the well-known path. */
export const SMART_CONFIGURATION_PATH = '/fhir/.well-known/smart-configuration';

/** The SMART 1.0 extension on `CapabilityStatement.rest.security` that names the OAuth endpoints. */
export const OAUTH_URIS_EXTENSION = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

/**
 * The scopes a client may ask the issuer for, each granting something here (src/http/auth/scopes.ts):
 * the plans are read and searched with `CarePlan` read scopes and recorded with `CarePlan` write
 * scopes, and the audit log is read with `AuditEvent` ones; SMART v1 and v2 syntax alike. Wider ones
 * (`system/*.rs`, `system/*.*`) are honoured too but not offered.
 */
export const SCOPES_SUPPORTED: readonly string[] = ['system/CarePlan.rs', 'system/CarePlan.cu', 'system/AuditEvent.rs', 'system/CarePlan.read', 'system/CarePlan.write', 'system/AuditEvent.read'];

/** The members of a SMART discovery document this server says (SMART App Launch 2.2, "Metadata"). */
export interface SmartConfiguration {
  readonly token_endpoint: string;
  readonly grant_types_supported: readonly string[];
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly capabilities: readonly string[];
}

/**
 * The discovery document for tokens from `tokenEndpoint`: SMART Backend Services — the client
 * credentials grant with a signed JWT as the client's credential (`private_key_jwt`,
 * `client-confidential-asymmetric`) — and the scopes in v1 and v2 syntax (`permission-v1`,
 * `permission-v2`). No `authorization_endpoint`, no launch and no patient or user permissions: only
 * `system/` scopes grant anything here. The issuer's signing algorithms are not said: they are the
 * issuer's to name, not this server's.
 */
export function smartConfiguration(tokenEndpoint: URL): SmartConfiguration {
  return {
    token_endpoint: tokenEndpoint.href,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    scopes_supported: SCOPES_SUPPORTED,
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}

/** `security` with the `oauth-uris` extension naming `tokenEndpoint` (its `token` member), or as it is when there is none. */
export function withTokenEndpoint(security: CapabilityStatementRestSecurity, tokenEndpoint: URL | undefined): CapabilityStatementRestSecurity {
  if (tokenEndpoint === undefined) return security;
  return { ...security, extension: [...(security.extension ?? []), { url: OAUTH_URIS_EXTENSION, extension: [{ url: 'token', valueUri: tokenEndpoint.href }] }] };
}

/** Answers {@link SMART_CONFIGURATION_PATH}: the document for `tokenEndpoint`, or 404 saying why there is none. */
export function smartConfigurationRoute(tokenEndpoint: URL | undefined): RequestHandler {
  const text = tokenEndpoint === undefined ? undefined : JSON.stringify(smartConfiguration(tokenEndpoint));
  return (_request, response, next) => {
    if (text === undefined) {
      next(
        new HttpError(
          404,
          'Not Found',
          'This server names no OAuth token endpoint: with its own signing key its tokens come from `sip-fhir token`; with an external issuer, SIP_AUTH_TOKEN_ENDPOINT names the issuer\'s token endpoint here',
        ),
      );
      return;
    }
    response.status(200).type('application/json').send(text);
  };
}

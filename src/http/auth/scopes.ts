/**
 * SMART Backend Services scopes (SMART App Launch 2.x, "Scopes and Launch Context"): what a token's
 * `scope` claim lets the caller do. Only `system/` scopes grant anything — the service has no
 * patient or user context — and every other scope (`openid`, `patient/…`, `user/…`, a scope an
 * identity provider adds for itself) is ignored, never an error, so a token from a real IdP still
 * works. The CLI (`sip-fhir token`) is stricter and refuses anything ignored.
 *
 * - v1 syntax: `system/<Type>.read` (read and search), `.write` (create, update, delete), `.*` (all);
 * - v2 syntax: `system/<Type>.<cruds>`, the letters of create, read, update, delete and search, in
 *   that order, each at most once (`rs`, `cud`, `cruds`);
 * - `<Type>` is a FHIR resource type or `*` for every type.
 *
 * A v2 scope with a restriction (`system/Observation.rs?category=laboratory`) grants **nothing**:
 * the restriction narrows what the token may see and the service cannot enforce it, so honouring
 * the scope without it would grant more than the issuer meant. It is reported as ignored.
 */

export const INTERACTIONS = ['create', 'read', 'update', 'delete', 'search'] as const;
export type Interaction = (typeof INTERACTIONS)[number];

/** What one granted scope allows. */
export interface ScopeGrant {
  /** The scope as written. */
  readonly scope: string;
  /** A FHIR resource type, or `*` for all of them. */
  readonly resourceType: string;
  readonly interactions: ReadonlySet<Interaction>;
}

export type IgnoredReason = 'notSystemScope' | 'malformed' | 'restrictionUnsupported';

export interface IgnoredScope {
  readonly scope: string;
  readonly reason: IgnoredReason;
}

export interface ParsedScopes {
  readonly grants: readonly ScopeGrant[];
  readonly ignored: readonly IgnoredScope[];
}

const V1: Readonly<Record<string, readonly Interaction[]>> = {
  read: ['read', 'search'],
  write: ['create', 'update', 'delete'],
  '*': INTERACTIONS,
};

const LETTERS: Readonly<Record<string, Interaction>> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** `c?r?u?d?s?`, not empty: the v2 permission letters in the order the specification requires. */
const V2 = /^(?=[cruds])c?r?u?d?s?$/;

/** A FHIR resource type name (R4 names are letters only) or the wildcard. */
const RESOURCE_TYPE = /^(\*|[A-Z][A-Za-z]{0,63})$/;

/** Parses one scope: what it grants, or why it grants nothing. */
export function parseScope(scope: string): ScopeGrant | IgnoredScope {
  if (!scope.startsWith('system/')) return { scope, reason: 'notSystemScope' };
  const body = scope.slice('system/'.length);
  const query = body.indexOf('?');
  const target = query === -1 ? body : body.slice(0, query);
  const dot = target.indexOf('.');
  if (dot === -1) return { scope, reason: 'malformed' };
  const resourceType = target.slice(0, dot);
  const permissions = target.slice(dot + 1);
  if (!RESOURCE_TYPE.test(resourceType)) return { scope, reason: 'malformed' };
  const v1 = Object.hasOwn(V1, permissions) ? V1[permissions] : undefined;
  let interactions: readonly Interaction[];
  if (v1 !== undefined) {
    // Restrictions are v2 syntax only.
    if (query !== -1) return { scope, reason: 'malformed' };
    interactions = v1;
  } else if (V2.test(permissions)) {
    if (query !== -1) return { scope, reason: 'restrictionUnsupported' };
    // The pattern has checked the letters; keep those named.
    interactions = Object.entries(LETTERS)
      .filter(([letter]) => permissions.includes(letter))
      .map(([, interaction]) => interaction);
  } else {
    return { scope, reason: 'malformed' };
  }
  return { scope, resourceType, interactions: new Set(interactions) };
}

/** Parses a `scope` claim: scopes separated by spaces (RFC 6749 §3.3); extra whitespace is tolerated. */
export function parseScopes(scope: string): ParsedScopes {
  const grants: ScopeGrant[] = [];
  const ignored: IgnoredScope[] = [];
  for (const item of scope.split(/\s+/).filter((part) => part !== '')) {
    const parsed = parseScope(item);
    if ('reason' in parsed) ignored.push(parsed);
    else grants.push(parsed);
  }
  return { grants, ignored };
}

/** Whether some granted scope allows `interaction` on `resourceType`. */
export function allows(scopes: ParsedScopes, resourceType: string, interaction: Interaction): boolean {
  return scopes.grants.some((grant) => (grant.resourceType === '*' || grant.resourceType === resourceType) && grant.interactions.has(interaction));
}

/** A scope that grants nothing, explained for a person (the CLI's usage error). */
export function describeIgnored(ignored: IgnoredScope): string {
  switch (ignored.reason) {
    case 'notSystemScope':
      return `"${ignored.scope}" is not a system/ scope (SMART Backend Services grants only system/<Type>.<permissions>)`;
    case 'restrictionUnsupported':
      return `"${ignored.scope}" has a restriction (?…), which this service cannot enforce, so it would grant nothing`;
    case 'malformed':
      return `"${ignored.scope}" is not a scope: use system/<Type|*>.read|write|* (v1) or system/<Type|*>.<cruds> (v2, letters in that order)`;
  }
}

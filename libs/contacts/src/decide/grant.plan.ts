import type { AccessRoleInput, ApprovalBypass, RoleCatalogue } from '../contact.commands.js';
import { fieldError, type FieldError } from '../contact.errors.js';
import type { ContactEvent, RoleGranted } from '../contact.events.js';
import { formatAtom, parseAtom } from '../contact.rules.js';
import type { Grant } from '../contact.state.js';
import { grantIsLive } from '../contact.time.js';

/** How the roles a create or an update names become grants: the checks, the terms, and the events. */

export function grantProblems(roles: AccessRoleInput[], catalogue: RoleCatalogue, now: Date): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  roles.forEach((role, i) => {
    const reference = typeof role === 'string' ? role : role.reference;
    const at = typeof role === 'string' ? `/contact/accessRoles/${i}` : `/contact/accessRoles/${i}/reference`;
    if (!catalogue.has(reference)) {
      errors.push(fieldError(at, 'unknown_access_role', `no access role has the reference "${reference}"`));
    } else if (seen.has(reference)) {
      errors.push(fieldError(at, 'duplicate_access_role', `access role "${reference}" is given more than once`));
    }
    seen.add(reference);
    if (typeof role !== 'string' && role.expires != null) {
      const expires = parseAtom(role.expires);
      if (!expires) {
        errors.push(
          fieldError(`/contact/accessRoles/${i}/expires`, 'invalid_date', 'must be an ATOM date, e.g. 2030-01-01T00:00:00+00:00'),
        );
      } else if (expires.getTime() <= now.getTime()) {
        errors.push(fieldError(`/contact/accessRoles/${i}/expires`, 'expires_in_past', 'must be in the future'));
      }
    }
  });
  return errors;
}

/**
 * `status:"active"` on a role whose approval method is `email` or `admin` skips that approval: a
 * decision for a client holding `roles`, not for any `contacts` client. A grant already active
 * (and not expired) asks for nothing new. The errors point at each such `status`.
 */
export function bypassProblems(
  roles: AccessRoleInput[],
  catalogue: RoleCatalogue,
  current: Grant[],
  approvalBypassBy: ApprovalBypass | undefined,
  now: Date,
): FieldError[] {
  if (approvalBypassBy != null) return [];
  const active = new Set(current.filter((g) => g.status === 'active' && grantIsLive(g, now)).map((g) => g.reference));
  const errors: FieldError[] = [];
  roles.forEach((role, i) => {
    if (typeof role === 'string' || role.status !== 'active' || active.has(role.reference)) return;
    if ((catalogue.get(role.reference) ?? 'none') === 'none') return;
    errors.push(
      fieldError(
        `/contact/accessRoles/${i}/status`,
        'insufficient_scope',
        `activating "${role.reference}" without its approval needs the scope roles`,
      ),
    );
  });
  return errors;
}

/**
 * Evance: `accessRoles` in an update is the whole set to keep. Grants left out are revoked, new
 * ones granted as on creation, and a kept grant whose expiry or status the request changes is
 * granted again with its new terms. An active grant stays active; a grant already past its expiry
 * counts as gone.
 */
export function replaceGrants(
  current: Grant[],
  wanted: AccessRoleInput[],
  catalogue: RoleCatalogue,
  approvalBypassBy: ApprovalBypass | undefined,
  now: Date,
): ContactEvent[] {
  const live = new Map(current.filter((g) => grantIsLive(g, now)).map((g) => [g.reference, g]));
  const wantedRefs = new Set(wanted.map((r) => (typeof r === 'string' ? r : r.reference)));
  const events: ContactEvent[] = [];
  for (const g of current) {
    if (!wantedRefs.has(g.reference)) events.push({ type: 'RoleRevoked', data: { reference: g.reference, reason: 'removed' } });
  }
  for (const role of wanted) {
    const next = grant(role, catalogue, approvalBypassBy);
    const existing = live.get(next.data.reference);
    if (!existing) {
      events.push(next);
      continue;
    }
    const status = existing.status === 'active' ? 'active' : next.data.status;
    const terms: RoleGranted['data'] = {
      reference: existing.reference,
      status,
      expires: next.data.expires,
      pendingReason: status === 'active' ? null : existing.pendingReason,
      ...(existing.status !== 'active' && next.data.bypassedBy !== undefined ? { bypassedBy: next.data.bypassedBy } : {}),
    };
    if (terms.expires !== existing.expires || terms.status !== existing.status) events.push({ type: 'RoleGranted', data: terms });
  }
  return events;
}

/** The grant a role asks for; one that skips its approval names the client that may skip it (`bypassProblems` ran first). */
export function grant(role: AccessRoleInput, catalogue: RoleCatalogue, approvalBypassBy: ApprovalBypass | undefined): RoleGranted {
  const reference = typeof role === 'string' ? role : role.reference;
  const expiresAt = typeof role === 'string' || role.expires == null ? null : parseAtom(role.expires);
  const bypass = typeof role !== 'string' && role.status === 'active';
  const method = catalogue.get(reference) ?? 'none';
  const active = bypass || method === 'none';
  const bypassedBy = bypass && method !== 'none' ? approvalBypassBy : null;
  return {
    type: 'RoleGranted',
    data: {
      reference,
      status: active ? 'active' : 'pending',
      expires: expiresAt ? formatAtom(expiresAt) : null,
      pendingReason: active ? null : method === 'email' ? 'email_verification' : 'admin_approval',
      ...(bypassedBy != null ? { bypassedBy } : {}),
    },
  };
}

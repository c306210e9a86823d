import type {
  AcceptInvite,
  AccessRoleInput,
  DecideGrant,
  ExpireGrant,
  AddressInput,
  ContactCommand,
  ContactInput,
  ContactPatch,
  CreateContact,
  NewInvite,
  RecordInviteSent,
  RoleCatalogue,
  UpdateContact,
} from './contact.commands.js';
import {
  ContactAlreadyExists,
  ContactNotFound,
  ContactRejected,
  fieldError,
  GrantNotFound,
  InviteUnusable,
  type FieldError,
} from './contact.errors.js';
import {
  CONTACT_TYPES,
  type AddressData,
  type ContactEvent,
  type ContactUpdated,
  type InviteIssued,
  type RoleGranted,
} from './contact.events.js';
import { COMPANY_MAX_LENGTH, formatAtom, looksLikeHtml, parseAtom } from './contact.rules.js';
import type { Contact, ContactState, Grant } from './contact.state.js';

export function decide(command: ContactCommand, state: ContactState, now: Date): ContactEvent[] {
  switch (command.type) {
    case 'CreateContact':
      return create(command, state, now);
    case 'UpdateContact':
      return update(command, state, now);
    case 'RecordInviteSent':
      return recordInviteSent(command, state);
    case 'AcceptInvite':
      return acceptInvite(command, state, now);
    case 'ExpireGrant':
      return expireGrant(command, state, now);
    case 'ApproveGrant':
    case 'RejectGrant':
      return decideGrant(command, state, now);
    default: {
      const unhandled: never = command;
      throw new Error(`unhandled command ${(unhandled as { type: string }).type}`);
    }
  }
}

export interface CreateOptions {
  passwordGiven: boolean;
  invite: boolean;
}

/**
 * Every rule a create is judged by, for the service to run before it spends time hashing a
 * password; `decide` runs the same check again on the command.
 */
export function checkCreate(input: ContactInput, options: CreateOptions, catalogue: RoleCatalogue, now: Date): FieldError[] {
  const errors: FieldError[] = [];
  const required = (field: keyof ContactInput, label: string): void => {
    const value = input[field];
    if (typeof value !== 'string' || value.trim() === '') {
      errors.push(fieldError(`/contact/${field}`, 'required', `${label} is required for a ${input.type}`));
    }
  };
  switch (input.type) {
    case 'user':
      required('firstname', 'firstname');
      required('lastname', 'lastname');
      required('email', 'email');
      if (!options.passwordGiven && !options.invite) {
        errors.push(fieldError('/contact/password', 'required', 'a user needs a password unless invite is true'));
      }
      break;
    case 'guest':
      required('firstname', 'firstname');
      required('lastname', 'lastname');
      required('email', 'email');
      break;
    case 'branch':
      required('company', 'company');
      required('email', 'email');
      break;
    case 'recipient':
      required('email', 'email');
      break;
    default:
      errors.push(fieldError('/contact/type', 'type_not_allowed', 'type must be one of user, guest, branch, recipient'));
      return errors;
  }
  if (options.invite && input.type !== 'user') {
    errors.push(fieldError('/invite', 'invite_not_allowed', 'only a user can be invited to set a password'));
  }
  if (typeof input.company === 'string') errors.push(...companyProblems(input.company, '/contact/company'));
  if (typeof input.address?.company === 'string') errors.push(...companyProblems(input.address.company, '/contact/address/company'));
  if (input.type === 'user') errors.push(...grantProblems(input.accessRoles ?? [], catalogue, now));
  return errors;
}

function companyProblems(company: string, field: string): FieldError[] {
  if (company.length > COMPANY_MAX_LENGTH) {
    return [fieldError(field, 'too_long', `must be at most ${COMPANY_MAX_LENGTH} characters`)];
  }
  if (looksLikeHtml(company)) return [fieldError(field, 'html_not_allowed', 'must not contain HTML')];
  return [];
}

function grantProblems(roles: AccessRoleInput[], catalogue: RoleCatalogue, now: Date): FieldError[] {
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

function create(command: CreateContact, state: ContactState, now: Date): ContactEvent[] {
  if (state !== null) throw new ContactAlreadyExists(command.contactId);
  const { input } = command;
  const errors = checkCreate(
    input,
    { passwordGiven: command.passwordHash !== null, invite: command.invite !== null },
    command.catalogue,
    now,
  );
  if (errors.length > 0) throw new ContactRejected(errors);

  // Branches ignore password and names; only users hold a password or roles (Evance).
  const isBranch = input.type === 'branch';
  const events: ContactEvent[] = [
    {
      type: 'ContactCreated',
      data: {
        contactId: command.contactId,
        contactType: input.type,
        firstname: isBranch ? null : clean(input.firstname),
        lastname: isBranch ? null : clean(input.lastname),
        email: (input.email ?? '').trim(),
        company: clean(input.company),
      },
    },
  ];
  if (input.type === 'user' && command.passwordHash !== null) {
    events.push({ type: 'PasswordSet', data: { passwordHash: command.passwordHash } });
  }
  if (input.address) {
    events.push({ type: 'PrimaryAddressSet', data: { address: toAddress(command.addressId, input.address) } });
  }
  const tags = uniqueTags(input.tags?.contact ?? []);
  if (tags.length > 0) events.push({ type: 'TagsSet', data: { tags } });
  if (input.type === 'user') {
    for (const role of input.accessRoles ?? []) events.push(grant(role, command.catalogue));
    if (command.invite) events.push(issue(command.invite, events.length + 1));
  }
  return events;
}

export interface UpdateOptions {
  passwordGiven: boolean;
  invite: boolean;
}

/** Every rule an update is judged by, on the values it sends (a create's rules, plus no change of type). */
export function checkUpdate(
  contact: Contact,
  patch: ContactPatch,
  options: UpdateOptions,
  catalogue: RoleCatalogue,
  now: Date,
): FieldError[] {
  const errors: FieldError[] = [];
  if (patch.type !== undefined && !(CONTACT_TYPES as readonly string[]).includes(patch.type)) {
    errors.push(fieldError('/contact/type', 'type_not_allowed', 'type must be one of user, guest, branch, recipient'));
  } else if (patch.type !== undefined && patch.type !== contact.type) {
    // Evance documents no way to turn one kind of contact into another; its rules differ by type.
    errors.push(fieldError('/contact/type', 'type_change_not_allowed', `a ${contact.type} cannot become a ${patch.type}`));
  }
  const required = (field: 'firstname' | 'lastname' | 'email' | 'company'): void => {
    if (!(field in patch)) return;
    const value = patch[field];
    if (typeof value !== 'string' || value.trim() === '') {
      errors.push(fieldError(`/contact/${field}`, 'required', `a ${contact.type} cannot be left without ${field}`));
    }
  };
  required('email');
  if (contact.type === 'user' || contact.type === 'guest') {
    required('firstname');
    required('lastname');
  }
  if (contact.type === 'branch') required('company');
  if (options.invite) {
    if (contact.type !== 'user') {
      errors.push(fieldError('/invite', 'invite_not_allowed', 'only a user can be invited to set a password'));
    } else if (contact.invite?.status === 'accepted') {
      errors.push(fieldError('/invite', 'invite_already_accepted', 'this user has accepted an invite already'));
    }
  }
  if (typeof patch.company === 'string') errors.push(...companyProblems(patch.company, '/contact/company'));
  if (typeof patch.address?.company === 'string') errors.push(...companyProblems(patch.address.company, '/contact/address/company'));
  if (contact.type === 'user' && Array.isArray(patch.accessRoles)) errors.push(...grantProblems(patch.accessRoles, catalogue, now));
  return errors;
}

function update(command: UpdateContact, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  const { patch } = command;
  const errors = checkUpdate(
    state,
    patch,
    { passwordGiven: command.passwordHash !== null, invite: command.invite !== null },
    command.catalogue,
    now,
  );
  if (errors.length > 0) throw new ContactRejected(errors);

  const events: ContactEvent[] = [];
  const changed: ContactUpdated['data'] = {};
  const fields = state.type === 'branch' ? (['email', 'company'] as const) : (['firstname', 'lastname', 'email', 'company'] as const);
  for (const field of fields) {
    if (!(field in patch)) continue;
    const value = field === 'email' ? (patch.email ?? '').trim() : clean(patch[field]);
    if (value !== state[field]) changed[field] = value as never;
  }
  if (Object.keys(changed).length > 0) events.push({ type: 'ContactUpdated', data: changed });
  if (state.type === 'user' && command.passwordHash !== null) {
    events.push({ type: 'PasswordSet', data: { passwordHash: command.passwordHash } });
  }
  if (patch.address) {
    const address = state.address ? mergeAddress(state, state.address, patch.address) : toAddress(command.addressId, patch.address);
    if (!sameAddress(address, state.address)) events.push({ type: 'PrimaryAddressSet', data: { address } });
  }
  if (patch.tags) {
    const tags = uniqueTags(patch.tags.contact);
    if (tags.join('\u0000') !== state.tags.join('\u0000')) events.push({ type: 'TagsSet', data: { tags } });
  }
  if (state.type === 'user' && Array.isArray(patch.accessRoles)) {
    events.push(...replaceGrants(state.grants, patch.accessRoles, command.catalogue, now));
  }
  if (state.type === 'user' && command.invite) events.push(issue(command.invite, state.version + events.length + 1));
  return events;
}

/** The invite issued as the stream's `version`th event: its token is derived from that version. */
function issue(invite: NewInvite, version: number): InviteIssued {
  return { type: 'InviteIssued', data: { tokenHash: invite.tokenHashAt(version), expiresAt: invite.expiresAt } };
}

/** Recording a sent invite twice, or one that was superseded or accepted meanwhile, records nothing. */
function recordInviteSent(command: RecordInviteSent, state: ContactState): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  const invite = state.invite;
  if (invite?.tokenHash !== command.tokenHash || invite.status !== 'pending') return [];
  return [{ type: 'InviteSent', data: { tokenHash: command.tokenHash } }];
}

/**
 * Accepting an invite sets the password and verifies the email (the person read the mail), so
 * grants waiting for email verification become active. Grants past their expiry stay as they are.
 */
function acceptInvite(command: AcceptInvite, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new InviteUnusable('unknown');
  const invite = state.invite;
  if (invite === null) throw new InviteUnusable('unknown');
  if (invite.tokenHash !== command.tokenHash) throw new InviteUnusable('superseded');
  if (invite.status === 'accepted') throw new InviteUnusable('used');
  if (new Date(invite.expiresAt).getTime() <= now.getTime()) throw new InviteUnusable('expired');
  const events: ContactEvent[] = [
    { type: 'PasswordSet', data: { passwordHash: command.passwordHash } },
    { type: 'InviteAccepted', data: { tokenHash: command.tokenHash } },
  ];
  for (const g of state.grants) {
    if (g.status !== 'pending' || g.pendingReason !== 'email_verification') continue;
    if (g.expires !== null && new Date(g.expires).getTime() <= now.getTime()) continue;
    events.push({ type: 'RoleActivated', data: { reference: g.reference, by: 'email' } });
  }
  return events;
}

/**
 * Revokes a grant whose time is up. A grant since revoked, or given another expiry, is left alone
 * (the job was for terms that no longer hold), and so is one whose time has not come.
 */
function expireGrant(command: ExpireGrant, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  const grant = state.grants.find((g) => g.reference === command.reference);
  if (!grant || grant.expires === null || grant.expires !== command.expires) return [];
  if (new Date(grant.expires).getTime() > now.getTime()) return [];
  return [{ type: 'RoleRevoked', data: { reference: grant.reference, reason: 'expired' } }];
}

/** An administrator's decision on a grant waiting for approval (DESIGN §6 approve/reject). */
function decideGrant(command: DecideGrant, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  const grant = state.grants.find((g) => g.reference === command.reference);
  if (!grant || (grant.expires !== null && new Date(grant.expires).getTime() <= now.getTime())) {
    throw new GrantNotFound(command.contactId, command.reference);
  }
  if (grant.status !== 'pending') {
    throw new ContactRejected(
      [fieldError('', 'grant_not_pending', `the grant of ${grant.reference} is ${grant.status}, not waiting for a decision`)],
      'conflict',
    );
  }
  if (command.type === 'RejectGrant') return [{ type: 'RoleRevoked', data: { reference: grant.reference, reason: 'rejected' } }];
  // An `email` grant is proof the person reads that mailbox: only accepting the invite activates it.
  if (grant.pendingReason === 'email_verification') {
    throw new ContactRejected(
      [fieldError('', 'grant_awaits_email_verification', `the grant of ${grant.reference} becomes active when the email is verified`)],
      'conflict',
    );
  }
  return [{ type: 'RoleActivated', data: { reference: grant.reference, by: 'admin' } }];
}

/**
 * Evance: `accessRoles` in an update is the whole set to keep. Grants left out are revoked, new
 * ones granted as on creation, and a kept grant whose expiry or status the request changes is
 * granted again with its new terms. An active grant stays active; a grant already past its expiry
 * counts as gone.
 */
function replaceGrants(current: Grant[], wanted: AccessRoleInput[], catalogue: RoleCatalogue, now: Date): ContactEvent[] {
  const live = new Map(
    current.filter((g) => g.expires === null || new Date(g.expires).getTime() > now.getTime()).map((g) => [g.reference, g]),
  );
  const wantedRefs = new Set(wanted.map((r) => (typeof r === 'string' ? r : r.reference)));
  const events: ContactEvent[] = [];
  for (const g of current) {
    if (!wantedRefs.has(g.reference)) events.push({ type: 'RoleRevoked', data: { reference: g.reference, reason: 'removed' } });
  }
  for (const role of wanted) {
    const next = grant(role, catalogue);
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
    };
    if (terms.expires !== existing.expires || terms.status !== existing.status) events.push({ type: 'RoleGranted', data: terms });
  }
  return events;
}

const ADDRESS_FIELDS = ['firstname', 'lastname', 'company', 'line1', 'line2', 'line3', 'city', 'region', 'countryCode', 'zip'] as const;

const INHERITED_FIELDS = ['firstname', 'lastname', 'company'] as const;

/**
 * Only the fields sent change; the address keeps its id. A name the address shows by inheritance,
 * sent back as shown (a contact read, edited and posted back), stays inherited: otherwise it would
 * be pinned and no longer follow the contact's own name.
 */
function mergeAddress(contact: Contact, current: AddressData, sent: AddressInput): AddressData {
  const given = toAddress(current.id, sent);
  const merged: AddressData = { ...current };
  for (const field of ADDRESS_FIELDS) if (field in sent) merged[field] = given[field];
  for (const field of INHERITED_FIELDS) {
    if (current[field] === null && given[field] === contact[field]) merged[field] = null;
  }
  return merged;
}

function sameAddress(a: AddressData, b: AddressData | null): boolean {
  return b !== null && a.id === b.id && ADDRESS_FIELDS.every((f) => a[f] === b[f]);
}

function grant(role: AccessRoleInput, catalogue: RoleCatalogue): RoleGranted {
  const reference = typeof role === 'string' ? role : role.reference;
  const expiresAt = typeof role === 'string' || role.expires == null ? null : parseAtom(role.expires);
  const bypass = typeof role !== 'string' && role.status === 'active';
  const method = catalogue.get(reference) ?? 'none';
  const active = bypass || method === 'none';
  return {
    type: 'RoleGranted',
    data: {
      reference,
      status: active ? 'active' : 'pending',
      expires: expiresAt ? formatAtom(expiresAt) : null,
      pendingReason: active ? null : method === 'email' ? 'email_verification' : 'admin_approval',
    },
  };
}

function clean(value: string | null | undefined): string | null {
  if (value == null) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function toAddress(id: string, a: NonNullable<ContactInput['address']>): AddressData {
  return {
    id,
    firstname: clean(a.firstname),
    lastname: clean(a.lastname),
    company: clean(a.company),
    line1: clean(a.line1),
    line2: clean(a.line2),
    line3: clean(a.line3),
    city: clean(a.city),
    region: clean(a.region),
    countryCode: clean(a.countryCode)?.toUpperCase() ?? null,
    zip: clean(a.zip),
  };
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t !== ''))];
}

import type { AccessRoleInput, ContactCommand, ContactInput, CreateContact, RoleCatalogue } from './contact.commands.js';
import { ContactAlreadyExists, ContactRejected, fieldError, type FieldError } from './contact.errors.js';
import type { AddressData, ContactEvent, RoleGranted } from './contact.events.js';
import { COMPANY_MAX_LENGTH, formatAtom, looksLikeHtml, parseAtom } from './contact.rules.js';
import type { ContactState } from './contact.state.js';

export function decide(command: ContactCommand, state: ContactState, now: Date): ContactEvent[] {
  switch (command.type) {
    case 'CreateContact':
      return create(command, state, now);
    default: {
      const unhandled: never = command.type;
      throw new Error(`unhandled command ${String(unhandled)}`);
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
        errors.push(fieldError(`/contact/accessRoles/${i}/expires`, 'invalid_date', 'must be an ATOM date, e.g. 2030-01-01T00:00:00+00:00'));
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
    if (command.invite) events.push({ type: 'InviteIssued', data: command.invite });
  }
  return events;
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

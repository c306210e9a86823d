import type { ContactInput, CreateContact, RoleCatalogue } from '../contact.commands.js';
import { ApprovalBypassForbidden, ContactAlreadyExists, ContactRejected, fieldError, type FieldError } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';
import { toAddress } from './contact.address.js';
import { clean, companyProblems, uniqueTags } from './contact.fields.js';
import { bypassProblems, grant, grantProblems } from './grant.plan.js';
import { issueInvite } from './issue-invite.js';

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

export function createContact(command: CreateContact, state: ContactState, now: Date): ContactEvent[] {
  if (state !== null) throw new ContactAlreadyExists(command.contactId);
  const { input } = command;
  const errors = checkCreate(
    input,
    { passwordGiven: command.passwordHash !== null, invite: command.invite !== null },
    command.catalogue,
    now,
  );
  if (errors.length > 0) throw new ContactRejected(errors);
  if (input.type === 'user') {
    const forbidden = bypassProblems(input.accessRoles ?? [], command.catalogue, [], command.approvalBypassBy, now);
    if (forbidden.length > 0) throw new ApprovalBypassForbidden(forbidden);
  }

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
    for (const role of input.accessRoles ?? []) events.push(grant(role, command.catalogue, command.approvalBypassBy));
    if (command.invite) events.push(issueInvite(command.invite, events.length + 1));
  }
  return events;
}

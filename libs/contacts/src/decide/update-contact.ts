import type { ContactPatch, RoleCatalogue, UpdateContact } from '../contact.commands.js';
import {
  ApprovalBypassForbidden,
  ContactIsDeleted,
  ContactNotFound,
  ContactRejected,
  fieldError,
  type FieldError,
} from '../contact.errors.js';
import { CONTACT_TYPES, type ContactEvent, type ContactUpdated, type InviteRetired } from '../contact.events.js';
import type { Contact, ContactState } from '../contact.state.js';
import { mergeAddress, sameAddress, toAddress } from './contact.address.js';
import { clean, companyProblems, uniqueTags } from './contact.fields.js';
import { bypassProblems, grantProblems, replaceGrants } from './grant.plan.js';
import { issueInvite } from './issue-invite.js';

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
  // A user who accepted an invite may get another: it verifies the email again (pending `email` grants).
  if (options.invite && contact.type !== 'user') {
    errors.push(fieldError('/invite', 'invite_not_allowed', 'only a user can be invited to set a password'));
  }
  if (typeof patch.company === 'string') errors.push(...companyProblems(patch.company, '/contact/company'));
  if (typeof patch.address?.company === 'string') errors.push(...companyProblems(patch.address.company, '/contact/address/company'));
  if (contact.type === 'user' && Array.isArray(patch.accessRoles)) errors.push(...grantProblems(patch.accessRoles, catalogue, now));
  return errors;
}

export function updateContact(command: UpdateContact, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  if (state.deleted !== undefined) throw new ContactIsDeleted(command.contactId, state.deleted);
  const { patch } = command;
  const errors = checkUpdate(
    state,
    patch,
    { passwordGiven: command.passwordHash !== null, invite: command.invite !== null },
    command.catalogue,
    now,
  );
  if (errors.length > 0) throw new ContactRejected(errors);
  if (state.type === 'user' && Array.isArray(patch.accessRoles)) {
    const forbidden = bypassProblems(patch.accessRoles, command.catalogue, state.grants, command.approvalBypassBy, now);
    if (forbidden.length > 0) throw new ApprovalBypassForbidden(forbidden);
  }

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
  const retired = retiredInvite(state, changed.email !== undefined, state.type === 'user' && command.passwordHash !== null);
  if (retired) events.push(retired);
  if (patch.address) {
    const address = state.address ? mergeAddress(state, state.address, patch.address) : toAddress(command.addressId, patch.address);
    if (!sameAddress(address, state.address)) events.push({ type: 'PrimaryAddressSet', data: { address } });
  }
  if (patch.tags) {
    const tags = uniqueTags(patch.tags.contact);
    if (tags.join('\u0000') !== state.tags.join('\u0000')) events.push({ type: 'TagsSet', data: { tags } });
  }
  if (state.type === 'user' && Array.isArray(patch.accessRoles)) {
    events.push(...replaceGrants(state.grants, patch.accessRoles, command.catalogue, command.approvalBypassBy, now));
  }
  if (state.type === 'user' && command.invite) events.push(issueInvite(command.invite, state.version + events.length + 1));
  return events;
}

/**
 * An invite belongs to the address it was sent to: a new email, or a password set through the API,
 * retires a pending one (its link would otherwise let whoever reads the old mailbox set a password).
 */
function retiredInvite(contact: Contact, emailChanged: boolean, passwordSet: boolean): InviteRetired | null {
  const invite = contact.invite;
  if (invite === null || invite.status === 'accepted' || !(emailChanged || passwordSet)) return null;
  return { type: 'InviteRetired', data: { tokenHash: invite.tokenHash, reason: emailChanged ? 'email_changed' : 'password_set' } };
}

import type { AddressData, ContactType, GrantStatus, PendingReason } from './contact.events.js';
import { formatAtom } from './contact.rules.js';
import type { Contact } from './contact.state.js';
import { grantIsLive, hasPassed } from './contact.time.js';

/** An address as shown: the same fields as stored, with the inherited names filled in. */
export type AddressView = AddressData;

export interface AccessRoleView {
  reference: string;
  status: GrantStatus;
  expires: string | null;
  pendingReason?: PendingReason;
}

export type InviteStatus = 'pending' | 'sent' | 'accepted' | 'expired';

/** A contact as the API returns it (DESIGN §6). */
export interface ContactView {
  id: string;
  type: ContactType;
  firstname: string | null;
  lastname: string | null;
  email: string;
  company: string | null;
  address: AddressView | null;
  accessRoles: AccessRoleView[];
  tags: { contact: string[] };
  hasPassword: boolean;
  invite: { status: InviteStatus; expiresAt: string } | null;
  version: number;
  created: string;
  updated: string;
}

/**
 * The contact as a client sees it. Stored as-is in the read table; `atMoment` then applies the
 * clock, so a grant past its expiry is never shown, even before the worker revokes it.
 */
export function toContactView(contact: Contact): ContactView {
  const address = contact.address;
  return {
    id: contact.id,
    type: contact.type,
    firstname: contact.firstname,
    lastname: contact.lastname,
    email: contact.email,
    company: contact.company,
    address: address && {
      id: address.id,
      // An address inherits the contact's names and company unless it was given its own.
      firstname: address.firstname ?? contact.firstname,
      lastname: address.lastname ?? contact.lastname,
      company: address.company ?? contact.company,
      line1: address.line1,
      line2: address.line2,
      line3: address.line3,
      city: address.city,
      region: address.region,
      countryCode: address.countryCode,
      zip: address.zip,
    },
    accessRoles: contact.grants.map((g) => ({
      reference: g.reference,
      status: g.status,
      expires: g.expires,
      ...(g.pendingReason ? { pendingReason: g.pendingReason } : {}),
    })),
    tags: { contact: [...contact.tags] },
    hasPassword: contact.passwordHash !== null,
    invite: contact.invite && { status: contact.invite.status, expiresAt: contact.invite.expiresAt },
    version: contact.version,
    created: formatAtom(contact.created, 'seconds'),
    updated: formatAtom(contact.updated, 'seconds'),
  };
}

/** The view as of `now`: expired grants are gone and an unaccepted invite past its time is `expired`. */
export function atMoment(view: ContactView, now: Date): ContactView {
  const invite =
    view.invite && view.invite.status !== 'accepted' && hasPassed(view.invite.expiresAt, now)
      ? { ...view.invite, status: 'expired' as const }
      : view.invite;
  const accessRoles = view.accessRoles.filter((r) => grantIsLive(r, now));
  if (invite === view.invite && accessRoles.length === view.accessRoles.length) return view;
  return { ...view, accessRoles, invite };
}

import { ERASED } from './contact.erasure.js';
import type { AddressData, ContactType, GrantStatus, InviteRetiredReason, PendingReason, Recorded } from './contact.events.js';

export interface Grant {
  reference: string;
  status: GrantStatus;
  expires: string | null;
  pendingReason: PendingReason | null;
}

export interface Invite {
  tokenHash: string;
  expiresAt: string;
  status: 'pending' | 'sent' | 'accepted';
}

/** An invite retired before it was accepted: its link answers that it no longer works. */
export interface RetiredInvite {
  tokenHash: string;
  /** `contact_deleted`: the contact was deleted while the invite was pending (no `InviteRetired` of its own) */
  reason: InviteRetiredReason | 'contact_deleted';
}

export interface Erasure {
  erasedAt: string;
  reason: string;
}

export interface Contact {
  id: string;
  type: ContactType;
  firstname: string | null;
  lastname: string | null;
  email: string;
  company: string | null;
  address: AddressData | null;
  /** keyed by role reference, in the order they were granted */
  grants: Grant[];
  tags: string[];
  passwordHash: string | null;
  invite: Invite | null;
  /** the last invite retired (absent on contacts that never had one retired) */
  retiredInvite?: RetiredInvite;
  /** when it was deleted (absent while it lives): commands on it are refused, reads answer that it is gone */
  deleted?: string;
  /** when and why the person's data was erased (absent unless it was): every personal field then reads `[erased]` */
  erased?: Erasure;
  version: number;
  created: string;
  updated: string;
}

/**
 * The version of what `evolve` makes of a stream. A stored snapshot carries the version that folded
 * it, and one of another version is folded again from the events. Raise it whenever `evolve` reads
 * an event differently, reads a new event type, or `Contact` changes shape.
 */
export const FOLD_VERSION = 2;

/** Before its first event a stream holds no contact. */
export type ContactState = Contact | null;

export const initialState: ContactState = null;

export function evolve(state: ContactState, event: Recorded): ContactState {
  if (event.type === 'ContactCreated') {
    const d = event.data;
    return {
      id: d.contactId,
      type: d.contactType,
      firstname: d.firstname,
      lastname: d.lastname,
      email: d.email,
      company: d.company,
      address: null,
      grants: [],
      tags: [],
      passwordHash: null,
      invite: null,
      version: event.version,
      created: event.recordedAt,
      updated: event.recordedAt,
    };
  }
  if (state === null) return null;
  const next: Contact = { ...state, version: event.version, updated: event.recordedAt };
  switch (event.type) {
    case 'ContactUpdated':
      return { ...next, ...event.data };
    case 'PasswordSet':
      return { ...next, passwordHash: event.data.passwordHash };
    case 'PrimaryAddressSet':
      return { ...next, address: event.data.address };
    case 'TagsSet':
      return { ...next, tags: event.data.tags };
    case 'RoleGranted': {
      // Who bypassed the approval stays in the event: a grant holds only its terms.
      const { reference, status, expires, pendingReason } = event.data;
      return { ...next, grants: [...state.grants.filter((g) => g.reference !== reference), { reference, status, expires, pendingReason }] };
    }
    case 'RoleActivated':
      return {
        ...next,
        grants: state.grants.map((g) => (g.reference === event.data.reference ? { ...g, status: 'active', pendingReason: null } : g)),
      };
    case 'RoleRevoked':
      return { ...next, grants: state.grants.filter((g) => g.reference !== event.data.reference) };
    case 'InviteIssued':
      return { ...next, invite: { tokenHash: event.data.tokenHash, expiresAt: event.data.expiresAt, status: 'pending' } };
    case 'InviteSent':
      return state.invite?.tokenHash === event.data.tokenHash ? { ...next, invite: { ...state.invite, status: 'sent' } } : next;
    case 'InviteAccepted':
      return state.invite?.tokenHash === event.data.tokenHash ? { ...next, invite: { ...state.invite, status: 'accepted' } } : next;
    case 'InviteRetired':
      return state.invite?.tokenHash === event.data.tokenHash
        ? { ...next, invite: null, retiredInvite: { tokenHash: event.data.tokenHash, reason: event.data.reason } }
        : next;
    case 'ContactDeleted': {
      // Its grants end and a pending invite's link stops working; the person's fields stay, as the history does.
      const pending = state.invite !== null && state.invite.status !== 'accepted' ? state.invite : null;
      return {
        ...next,
        grants: [],
        invite: null,
        ...(pending ? { retiredInvite: { tokenHash: pending.tokenHash, reason: 'contact_deleted' as const } } : {}),
        deleted: event.recordedAt,
      };
    }
    case 'ContactErased':
      // Everything personal goes, whatever the (masked or original) events before it held, so the
      // inline projection and a replay over the masked history fold the same contact. An erased
      // contact is gone as a deleted one is: out of lists and lookups, its email free.
      return {
        ...next,
        firstname: state.firstname === null ? null : ERASED,
        lastname: state.lastname === null ? null : ERASED,
        email: ERASED,
        company: state.company === null ? null : ERASED,
        address: null,
        grants: [],
        tags: [],
        passwordHash: null,
        invite: null,
        retiredInvite: undefined,
        deleted: state.deleted ?? event.recordedAt,
        erased: { erasedAt: event.recordedAt, reason: event.data.reason },
      };
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled event ${(unhandled as { type: string }).type}`);
    }
  }
}

export function fold(events: Iterable<Recorded>, state: ContactState = initialState): ContactState {
  let current = state;
  for (const event of events) current = evolve(current, event);
  return current;
}

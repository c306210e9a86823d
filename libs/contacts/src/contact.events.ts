export const CONTACT_TYPES = ['user', 'guest', 'branch', 'recipient'] as const;
export type ContactType = (typeof CONTACT_TYPES)[number];

export type GrantStatus = 'active' | 'pending';
export type PendingReason = 'email_verification' | 'admin_approval';
export type RevokeReason = 'removed' | 'expired' | 'rejected';

export interface AddressData {
  id: string;
  /** null: inherited from the contact when shown */
  firstname: string | null;
  lastname: string | null;
  company: string | null;
  line1: string | null;
  line2: string | null;
  line3: string | null;
  city: string | null;
  region: string | null;
  countryCode: string | null;
  zip: string | null;
}

export interface ContactCreated {
  type: 'ContactCreated';
  data: {
    contactId: string;
    contactType: ContactType;
    firstname: string | null;
    lastname: string | null;
    email: string;
    company: string | null;
  };
}

export interface ContactUpdated {
  type: 'ContactUpdated';
  data: Partial<Pick<ContactCreated['data'], 'firstname' | 'lastname' | 'email' | 'company'>>;
}

/** Why a password hash was replaced without a new password: a sign-in found it weaker than today's. */
export type PasswordSetReason = 'rehash';

export interface PasswordSet {
  type: 'PasswordSet';
  /** `reason` absent: a password the person or a client chose (and on every event before rehashing existed) */
  data: { passwordHash: string; reason?: PasswordSetReason };
}

export interface PrimaryAddressSet {
  type: 'PrimaryAddressSet';
  data: { address: AddressData };
}

export interface TagsSet {
  type: 'TagsSet';
  data: { tags: string[] };
}

export interface RoleGranted {
  type: 'RoleGranted';
  data: {
    reference: string;
    status: GrantStatus;
    expires: string | null;
    pendingReason: PendingReason | null;
    /** the client that made it active without its role's approval (`status:"active"`); absent otherwise, and on older events */
    bypassedBy?: string;
  };
}

export interface RoleActivated {
  type: 'RoleActivated';
  data: { reference: string; by: 'admin' | 'email' };
}

export interface RoleRevoked {
  type: 'RoleRevoked';
  data: { reference: string; reason: RevokeReason };
}

export interface InviteIssued {
  type: 'InviteIssued';
  data: { tokenHash: string; expiresAt: string };
}

export interface InviteSent {
  type: 'InviteSent';
  data: { tokenHash: string };
}

export interface InviteAccepted {
  type: 'InviteAccepted';
  data: { tokenHash: string };
}

/** Why a pending invite stopped working before it was accepted. */
export type InviteRetiredReason = 'email_changed' | 'password_set';

/** The invite was for an address (or a password) the contact no longer has: its link stops working. */
export interface InviteRetired {
  type: 'InviteRetired';
  data: { tokenHash: string; reason: InviteRetiredReason };
}

/**
 * The contact is deleted (DESIGN §10): it leaves lists and lookups, its email is free for others,
 * its grants end and its pending invite's link stops working. Its history stays for auditors.
 */
export interface ContactDeleted {
  type: 'ContactDeleted';
  data: Record<string, never>;
}

/**
 * The person's data is erased (DESIGN §10, GDPR Art. 17): every personal value of the stream's
 * events is masked as `"[erased]"` and the contact is gone. Who: metadata.clientId; why: `reason`.
 */
export interface ContactErased {
  type: 'ContactErased';
  data: { reason: string };
}

export type ContactEvent =
  | ContactCreated
  | ContactUpdated
  | PasswordSet
  | PrimaryAddressSet
  | TagsSet
  | RoleGranted
  | RoleActivated
  | RoleRevoked
  | InviteIssued
  | InviteSent
  | InviteAccepted
  | InviteRetired
  | ContactDeleted
  | ContactErased;

export type ContactEventType = ContactEvent['type'];

export const CONTACT_EVENT_TYPES: readonly ContactEventType[] = [
  'ContactCreated',
  'ContactUpdated',
  'PasswordSet',
  'PrimaryAddressSet',
  'TagsSet',
  'RoleGranted',
  'RoleActivated',
  'RoleRevoked',
  'InviteIssued',
  'InviteSent',
  'InviteAccepted',
  'InviteRetired',
  'ContactDeleted',
  'ContactErased',
];

/** An event as it was recorded: its place in the stream and the moment it was written. */
export type Recorded<E extends ContactEvent = ContactEvent> = E & { version: number; recordedAt: string };

const KNOWN_TYPES: ReadonlySet<string> = new Set(CONTACT_EVENT_TYPES);

/**
 * An event as stored is one of this domain's events when its type is one the domain knows. The
 * data of a known type is trusted as the domain wrote it: the log is append-only and hash-chained.
 */
export function isContactEvent(event: { type: string; data: unknown }): event is ContactEvent {
  return KNOWN_TYPES.has(event.type) && typeof event.data === 'object' && event.data !== null;
}

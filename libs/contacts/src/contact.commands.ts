import type { ContactType } from './contact.events.js';

export type ApprovalMethod = 'none' | 'email' | 'admin';
export const APPROVAL_METHODS: readonly ApprovalMethod[] = ['none', 'email', 'admin'];

export interface AddressInput {
  firstname?: string | null;
  lastname?: string | null;
  company?: string | null;
  line1?: string | null;
  line2?: string | null;
  line3?: string | null;
  city?: string | null;
  region?: string | null;
  countryCode?: string | null;
  zip?: string | null;
}

/** Evance accepts a role as its reference, or as an object that may set an expiry or bypass approval. */
export type AccessRoleInput = string | { reference: string; expires?: string | null; status?: 'active' | 'pending' | null };

/** The contact part of a request, already checked for shape (types, formats, lengths). */
export interface ContactInput {
  type: ContactType;
  firstname?: string | null;
  lastname?: string | null;
  email?: string | null;
  company?: string | null;
  address?: AddressInput | null;
  accessRoles?: AccessRoleInput[] | null;
  tags?: { contact: string[] } | null;
}

/** The approval method of each role the command names; a reference missing here does not exist. */
export type RoleCatalogue = ReadonlyMap<string, ApprovalMethod>;

/**
 * The client that may make a grant active without its role's approval (it holds the `roles`
 * scope), named on the grant it activates so; null or absent: it may not, and asking is refused.
 */
export type ApprovalBypass = string | null;

/**
 * An invite to issue. Its token is derived from the stream version the `InviteIssued` event takes
 * (so the mail worker can derive it again, and only its hash is ever stored): `tokenHashAt` gives
 * the hash of the token for that version.
 */
export interface NewInvite {
  expiresAt: string;
  tokenHashAt(version: number): string;
}

export interface CreateContact {
  type: 'CreateContact';
  contactId: string;
  input: ContactInput;
  /** bcrypt hash of the password given, computed before `decide` (the domain does no hashing) */
  passwordHash: string | null;
  /** a new invite, when the request asked for one */
  invite: NewInvite | null;
  /** the id a new primary address gets (a sent `id` is never reused) */
  addressId: string;
  catalogue: RoleCatalogue;
  /** see `ApprovalBypass` */
  approvalBypassBy?: ApprovalBypass;
}

/** The fields of a contact an update may carry: only what is sent changes (Evance "Updating a Contact"). */
export type ContactPatch = Partial<Omit<ContactInput, 'type'>> & { type?: string };

export interface UpdateContact {
  type: 'UpdateContact';
  contactId: string;
  patch: ContactPatch;
  /** bcrypt hash of a new password; ignored for contacts that hold none */
  passwordHash: string | null;
  /** a new invite (rotating any earlier token), when the request asked for one */
  invite: NewInvite | null;
  /** the id of the primary address when the contact has none yet */
  addressId: string;
  catalogue: RoleCatalogue;
  /** see `ApprovalBypass` */
  approvalBypassBy?: ApprovalBypass;
}

/** The worker handed the invite with this token to the mail server. */
export interface RecordInviteSent {
  type: 'RecordInviteSent';
  contactId: string;
  tokenHash: string;
}

/**
 * The person followed the invite link: they chose a password (its bcrypt hash), or, holding one
 * already, confirmed their email without a new one (null).
 */
export interface AcceptInvite {
  type: 'AcceptInvite';
  contactId: string;
  tokenHash: string;
  passwordHash: string | null;
}

/** The expiry job fired for the grant of `reference` that expires at `expires`. */
export interface ExpireGrant {
  type: 'ExpireGrant';
  contactId: string;
  reference: string;
  /** the expiry the job was scheduled for: a grant since given other terms is left alone */
  expires: string;
}

/** An administrator approves or rejects a grant waiting for approval. */
export interface DecideGrant {
  type: 'ApproveGrant' | 'RejectGrant';
  contactId: string;
  reference: string;
}

/** A client deletes the contact (DESIGN §10). */
export interface DeleteContact {
  type: 'DeleteContact';
  contactId: string;
}

/** A client erases the person's data (DESIGN §10); `reason` is why, kept on the event. */
export interface EraseContact {
  type: 'EraseContact';
  contactId: string;
  reason: string;
}

/**
 * A sign-in verified the password against `verifiedHash`, a hash weaker than bcrypt at `cost`
 * (or of an old variant): `passwordHash` is the same password hashed at `cost`.
 */
export interface RehashPassword {
  type: 'RehashPassword';
  contactId: string;
  verifiedHash: string;
  passwordHash: string;
  cost: number;
}

export type ContactCommand =
  | CreateContact
  | UpdateContact
  | RecordInviteSent
  | AcceptInvite
  | ExpireGrant
  | DecideGrant
  | DeleteContact
  | EraseContact
  | RehashPassword;

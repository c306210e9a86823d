/** A refusal of one field: `field` is a JSON pointer into the request (`/contact/email`, `/invite`). */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** The command breaks a rule of the domain; nothing is written. */
export class ContactRejected extends Error {
  constructor(
    readonly errors: FieldError[],
    readonly kind: 'invalid' | 'conflict' = 'invalid',
  ) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'ContactRejected';
  }
}

/**
 * The command asks for grants active without their role's approval (`status:"active"` on an
 * `email` or `admin` role), and the client may not decide that: it needs the `roles` scope.
 * `errors` point at each such `status`; nothing is written.
 */
export class ApprovalBypassForbidden extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'ApprovalBypassForbidden';
  }
}

/** The client's `If-Match` names a version the contact has moved past. */
export class StaleVersion extends Error {
  constructor(
    readonly contactId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`contact ${contactId} is at version ${actual}, not ${expected}`);
    this.name = 'StaleVersion';
  }
}

export class ContactNotFound extends Error {
  constructor(readonly contactId: string) {
    super(`contact ${contactId} does not exist`);
    this.name = 'ContactNotFound';
  }
}

export class ContactAlreadyExists extends Error {
  constructor(readonly contactId: string) {
    super(`contact ${contactId} already exists`);
    this.name = 'ContactAlreadyExists';
  }
}

/** The contact was deleted (DESIGN §10): it can no longer be read, changed or invited; its history stays. */
export class ContactIsDeleted extends Error {
  constructor(
    readonly contactId: string,
    readonly deletedAt: string,
  ) {
    super(`contact ${contactId} was deleted at ${deletedAt}`);
    this.name = 'ContactIsDeleted';
  }
}

/** The person's data was erased (DESIGN §10): the contact can no longer be read, changed, invited or exported. */
export class ContactIsErased extends Error {
  constructor(
    readonly contactId: string,
    readonly erasedAt: string,
  ) {
    super(`contact ${contactId} was erased at ${erasedAt}`);
    this.name = 'ContactIsErased';
  }
}

/** The contact holds no grant of this role (or it has expired). */
export class GrantNotFound extends Error {
  constructor(
    readonly contactId: string,
    readonly reference: string,
  ) {
    super(`contact ${contactId} holds no grant of ${reference}`);
    this.name = 'GrantNotFound';
  }
}

/** Why an invite link no longer leads to the password form. */
export type InviteUnusableReason = 'unknown' | 'expired' | 'used' | 'superseded' | 'retired' | 'deleted';

/** The invite token names no invite that can still be accepted. */
export class InviteUnusable extends Error {
  constructor(readonly reason: InviteUnusableReason) {
    super(`the invite cannot be used: ${reason}`);
    this.name = 'InviteUnusable';
  }
}

export const fieldError = (field: string, code: string, message: string): FieldError => ({ field, code, message });

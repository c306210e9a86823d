/**
 * No user with this email holds this password. Deliberately says nothing more: an unknown email,
 * a wrong password, a user without one and a contact of another type all look the same.
 */
export class InvalidCredentials extends Error {
  constructor() {
    super('the email or the password is wrong');
    this.name = 'InvalidCredentials';
  }
}

/** Too many failed sign-ins for this email lately: refused, right password or not, until the window ends. */
export class TooManyAttempts extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed sign-ins for this email; retry in ${retryAfterSeconds} s`);
    this.name = 'TooManyAttempts';
  }
}

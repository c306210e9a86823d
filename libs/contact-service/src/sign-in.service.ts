import bcrypt from 'bcrypt';
import { atMoment, needsRehash, normalizeEmail, type ContactView } from '@app/contacts';
import type { Clock } from '@app/config';
import type { Database } from '@app/database';
import type { EventMetadata } from '@app/event-store';
import { contactsProjection, loadContact, userWithEmail } from '@app/projections';
import type { ContactService } from './contact.service.js';
import { InvalidCredentials, TooManyAttempts } from './sign-in.errors.js';
import { admitAttempt, forgiveAttempt, SIGN_IN_LIMIT } from './signin-attempts.js';

export interface SignInOptions {
  bcryptCost: number;
}

/** No contact has this id: loading it costs the same round trip as loading a user. */
const NO_CONTACT = '00000000-0000-0000-0000-000000000000';

/**
 * Sign-in for the website whose users these are (DESIGN §11). Every attempt costs the same: one
 * statement to count it, one to find the user, one to load them (a contact that does not exist
 * when there is no user), and one bcrypt compare, against a hash of today's cost when there is
 * no hash to compare with. Sign-ins are not events; only a rehash is.
 */
export class SignInService {
  /** A well-formed bcrypt hash at today's cost that no password matches: a failure costs what a wrong password costs. */
  private readonly dummyHash: string;

  constructor(
    private readonly db: Database,
    private readonly contacts: ContactService,
    private readonly clock: Clock,
    private readonly options: SignInOptions,
  ) {
    this.dummyHash = `${bcrypt.genSaltSync(options.bcryptCost)}${'.'.repeat(31)}`;
  }

  /** The user with this email and password, as a read shows them; `InvalidCredentials` or `TooManyAttempts` otherwise. */
  async authenticate(email: string, password: string, metadata: EventMetadata): Promise<ContactView> {
    const key = normalizeEmail(email);
    const attempt = await admitAttempt(this.db, key, this.clock.now(), SIGN_IN_LIMIT);
    if (!attempt.admitted) throw new TooManyAttempts(attempt.retryAfterSeconds);

    const { state } = await loadContact(this.db, (await userWithEmail(this.db, key)) ?? NO_CONTACT);
    const user = state?.type === 'user' ? state : null;
    const hash = user?.passwordHash ?? null;
    const matches = await this.contacts.matchesPassword(password, hash ?? this.dummyHash);
    if (user === null || hash === null || !matches) throw new InvalidCredentials();

    await forgiveAttempt(this.db, key, attempt.windowStart);
    if (needsRehash(hash, this.options.bcryptCost)) return this.contacts.rehashPassword(user.id, password, hash, metadata);
    const row = contactsProjection.toRow(user);
    if (row === null) throw new InvalidCredentials();
    return atMoment(row.view, this.clock.now());
  }
}

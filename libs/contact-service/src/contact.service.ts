import { createHash, randomBytes, randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import {
  checkCreate,
  ContactRejected,
  decide,
  emailReservation,
  evolve,
  formatAtom,
  passwordProblems,
  toContactView,
  atMoment,
  type ContactCommand,
  type ContactInput,
  type ContactState,
  type ContactView,
} from '@app/contacts';
import type { Clock } from '@app/config';
import type { Database } from '@app/database';
import { EMPTY_STREAM, type EventMetadata, type EventStore, type StreamHead } from '@app/event-store';
import { asRecorded, contactsProjection } from '@app/projections';
import type { RoleCatalogue } from '@app/roles';
import { reserveEmail } from './email-reservations.js';

export interface ContactServiceOptions {
  bcryptCost: number;
  inviteTtlMs: number;
}

export interface CreateRequest {
  contact: ContactInput & { password?: string | null };
  invite: boolean;
}

/**
 * Runs the contact commands: load the stream, `decide`, then one short transaction that appends
 * the events, writes the email reservation and projects the read row (DESIGN §2).
 */
export class ContactService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly roles: RoleCatalogue,
    private readonly clock: Clock,
    private readonly options: ContactServiceOptions,
  ) {}

  async create(request: CreateRequest, metadata: EventMetadata): Promise<ContactView> {
    const { password, ...input } = request.contact;
    const now = this.clock.now();
    const isUser = input.type === 'user';
    const catalogue = isUser ? await this.roles.lookup(referencesOf(input)) : new Map();
    const passwordGiven = isUser && typeof password === 'string';
    // Every rule is checked before bcrypt runs: a refused request costs no hashing.
    const errors = checkCreate(input, { passwordGiven, invite: request.invite }, catalogue, now);
    if (passwordGiven) errors.push(...passwordProblems(password));
    if (errors.length > 0) throw new ContactRejected(errors);

    const passwordHash = passwordGiven ? await bcrypt.hash(password, this.options.bcryptCost) : null;
    const command: ContactCommand = {
      type: 'CreateContact',
      contactId: randomUUID(),
      input,
      passwordHash,
      invite: request.invite ? this.newInvite(now) : null,
      addressId: randomUUID(),
      catalogue,
    };
    const state = await this.execute(command, null, EMPTY_STREAM, metadata, now);
    return atMoment(toContactView(state), now);
  }

  /** Decides and commits one command against a loaded stream; returns the contact after it. */
  private async execute(
    command: ContactCommand,
    state: ContactState,
    head: StreamHead,
    metadata: EventMetadata,
    now: Date,
  ): Promise<NonNullable<ContactState>> {
    const events = decide(command, state, now);
    return this.db.transaction(async (tx) => {
      const stored = await this.store.append(tx, command.contactId, head, events, { metadata, recordedAt: now });
      let next = state;
      for (const event of stored) next = evolve(next, asRecorded(event));
      if (next === null) throw new Error(`stream ${command.contactId} holds no contact after ${command.type}`);
      const reservation = emailReservation(next);
      if (reservation && (state === null || emailReservation(state)?.email !== reservation.email)) {
        await reserveEmail(tx, next.id, reservation);
      }
      const row = contactsProjection.toRow(next);
      if (row) await contactsProjection.save(tx, row);
      return next;
    });
  }

  private newInvite(now: Date): { tokenHash: string; expiresAt: string } {
    // The token itself is never stored; the mail (a later worker) needs its own copy.
    const token = randomBytes(32).toString('base64url');
    return {
      tokenHash: createHash('sha256').update(token).digest('hex'),
      expiresAt: formatAtom(new Date(now.getTime() + this.options.inviteTtlMs), 'seconds'),
    };
  }
}

function referencesOf(input: ContactInput): string[] {
  return (input.accessRoles ?? []).map((r) => (typeof r === 'string' ? r : r.reference));
}

import { randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import {
  atMoment,
  checkCreate,
  checkUpdate,
  ContactIsDeleted,
  ContactNotFound,
  ContactRejected,
  decide,
  emailsHeld,
  emailReservation,
  fold,
  formatAtom,
  InviteUnusable,
  inviteUnusableReason,
  maskPersonalData,
  passwordProblems,
  StaleVersion,
  type ContactCommand,
  type ContactInput,
  type ContactPatch,
  type ContactState,
  type ContactView,
  type Contact,
  type ContactEvent,
  type EmailReservation,
  type NewInvite,
} from '@app/contacts';
import { InviteTokens } from '@app/auth';
import type { Clock } from '@app/config';
import type { Database, Queryable, Tx } from '@app/database';
import { ConcurrencyError, EMPTY_STREAM, type EventMetadata, type EventStore, type StreamHead } from '@app/event-store';
import {
  contactIdByInviteToken,
  contactIdByRetiredInviteToken,
  contactsProjection,
  loadContact,
  releaseEmail,
  reserveEmail,
  saveManyAlongside,
  type ContactRow,
} from '@app/projections';
import type { RoleCatalogue } from '@app/roles';
import { forgetAttempts } from './signin-attempts.js';
import { HASH_CONCURRENCY, Slots } from './slots.js';
import { WriteBatcher } from './write-batcher.js';

export interface ContactServiceOptions {
  bcryptCost: number;
  inviteTtlMs: number;
  inviteTokens: InviteTokens;
  /** told of every command's events once they are committed (metrics) */
  onAppended?: (events: readonly ContactEvent[]) => void;
}

/** What the invite page shows of the person a live invite is for. */
export interface InviteeView {
  contactId: string;
  firstname: string | null;
  lastname: string | null;
  email: string;
  expiresAt: string;
  /** the person holds a password already: accepting verifies the email and needs no new one */
  hasPassword: boolean;
}

export interface CreateRequest {
  contact: ContactInput & { password?: string | null };
  invite: boolean;
  /** the client (metadata.clientId) may activate grants without their role's approval: it holds `roles` */
  mayBypassApproval?: boolean;
}

export interface UpdateRequest {
  contact: ContactPatch & { password?: string | null };
  invite: boolean;
  /** the client (metadata.clientId) may activate grants without their role's approval: it holds `roles` */
  mayBypassApproval?: boolean;
  /** the version the client last saw (`If-Match`); a write on a later version is refused */
  expectedVersion?: number;
}

/**
 * Work that must commit with a command's events or not at all (an idempotency record): `begin`
 * runs first in the transaction, `complete` last, with the contact as the response shows it.
 */
export interface CommitHooks {
  begin(tx: Tx): Promise<void>;
  complete(tx: Tx, contact: ContactView): Promise<void>;
}

interface Change {
  contactId: string;
  head: StreamHead;
  events: ContactEvent[];
  next: Contact;
  /** when the events are recorded: never before the stream's last event */
  recordedAt: Date;
  /** the read row of `next`, and the contact as the response shows it */
  row: ContactRow;
  view: ContactView;
  /** email reservations to give up and to take, in that order, in the same transaction */
  reservations: ({ release: EmailReservation } | { reserve: EmailReservation })[];
}

/** An erasure as the API and the CLI show it (DESIGN §10). */
export interface ErasureView {
  contactId: string;
  erasedAt: string;
  reason: string;
}

/** An idempotency record around an erasure: `begin` first in its transaction, `complete` last. */
export interface ErasureHooks {
  begin(tx: Tx): Promise<void>;
  complete(tx: Tx, erasure: ErasureView): Promise<void>;
}

/**
 * Writers of a contact queue on its lock, so an update meets a ConcurrencyError only when a writer
 * that does not take the lock appended first (a direct append to the store); it then retries.
 */
const MAX_ATTEMPTS = 5;

/**
 * Runs the contact commands: `decide` on the contact's stream, then one short transaction that
 * appends the events, keeps the email reservation and projects the read row (DESIGN §2).
 */
export class ContactService {
  private readonly hashing = new Slots(HASH_CONCURRENCY);
  /** Creates that need nothing else in their transaction go out together while others are in flight. */
  private readonly starts = new WriteBatcher<{ change: Change; metadata: EventMetadata }>((items) => this.start(items), {
    maxInFlight: 4,
    maxBatch: 64,
  });

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly roles: RoleCatalogue,
    private readonly clock: Clock,
    private readonly options: ContactServiceOptions,
  ) {}

  async create(request: CreateRequest, metadata: EventMetadata, hooks?: CommitHooks): Promise<ContactView> {
    const { password, ...input } = request.contact;
    const now = this.clock.now();
    const isUser = input.type === 'user';
    const catalogue = isUser ? await this.roles.lookup(referencesOf(input.accessRoles)) : new Map();
    const passwordGiven = isUser && typeof password === 'string';
    // Every rule is checked before bcrypt runs: a refused request costs no hashing.
    const errors = checkCreate(input, { passwordGiven, invite: request.invite }, catalogue, now);
    if (passwordGiven) errors.push(...passwordProblems(password));
    if (errors.length > 0) throw new ContactRejected(errors);

    const contactId = randomUUID();
    const command: ContactCommand = {
      type: 'CreateContact',
      contactId,
      input,
      passwordHash: passwordGiven ? await this.hash(password) : null,
      invite: request.invite ? this.newInvite(contactId, now) : null,
      addressId: randomUUID(),
      catalogue,
      approvalBypassBy: request.mayBypassApproval ? metadata.clientId : null,
    };
    const change = this.plan(command, null, EMPTY_STREAM, now);
    if (!hooks && change.reservations.length === 0) {
      // Nothing else must commit with it: the append and the read row go as one statement, with
      // the other creates of the moment.
      await this.starts.submit({ change, metadata });
    } else {
      await this.db.transaction(async (tx) => {
        await hooks?.begin(tx);
        await this.write(tx, change, metadata);
        await hooks?.complete(tx, change.view);
        return change.next;
      });
    }
    this.options.onAppended?.(change.events);
    return change.view;
  }

  async update(contactId: string, request: UpdateRequest, metadata: EventMetadata, hooks?: CommitHooks): Promise<ContactView> {
    const { password, ...patch } = request.contact;
    const catalogue = await this.roles.lookup(referencesOf(patch.accessRoles));
    let passwordHash: string | null = null;
    if (typeof password === 'string') {
      // A password only means something to a user; judge and hash it before taking any lock.
      const current = (await loadContact(this.db, contactId)).state;
      if (current === null) throw new ContactNotFound(contactId);
      if (current.deleted !== undefined) throw new ContactIsDeleted(contactId, current.deleted);
      if (request.expectedVersion !== undefined && request.expectedVersion !== current.version) {
        throw new StaleVersion(contactId, request.expectedVersion, current.version);
      }
      if (current.type === 'user') {
        const errors = [
          ...checkUpdate(current, patch, { passwordGiven: true, invite: request.invite }, catalogue, this.clock.now()),
          ...passwordProblems(password),
        ];
        if (errors.length > 0) throw new ContactRejected(errors);
        passwordHash = await this.hash(password);
      }
    }

    return this.change(
      contactId,
      (_, now) => ({
        type: 'UpdateContact',
        contactId,
        patch,
        passwordHash,
        invite: request.invite ? this.newInvite(contactId, now) : null,
        addressId: randomUUID(),
        catalogue,
        approvalBypassBy: request.mayBypassApproval ? metadata.clientId : null,
      }),
      metadata,
      { hooks, expectedVersion: request.expectedVersion },
    );
  }

  /** A new invite for a user (DESIGN §6 `invite.json`): the earlier link stops working at once. */
  reinvite(contactId: string, metadata: EventMetadata, hooks?: CommitHooks): Promise<ContactView> {
    return this.update(contactId, { contact: {}, invite: true }, metadata, hooks);
  }

  /**
   * Deletes a contact (DESIGN §10): one `ContactDeleted`, with its email reservation given up in
   * the same transaction. `ContactIsDeleted` when it already was.
   */
  async delete(contactId: string, metadata: EventMetadata): Promise<void> {
    await this.change(contactId, () => ({ type: 'DeleteContact', contactId }), metadata);
  }

  /**
   * Erases the person's data (DESIGN §10), live or deleted, in one transaction: `ContactErased`
   * with the read row and reservations it leaves (no personal value), every personal value of
   * the stream's events masked in the log (`EventStore.maskStream`), and the idempotency records
   * of requests on the contact (they hold its responses) and the sign-in counts of its emails forgotten. A repeat appends nothing and
   * answers with the first erasure (masking again anything still unmasked).
   */
  async erase(contactId: string, reason: string, metadata: EventMetadata, hooks?: ErasureHooks): Promise<ErasureView> {
    let erasure: ErasureView | undefined;
    await this.changed(contactId, () => ({ type: 'EraseContact', contactId, reason }), metadata, {
      hooks: {
        begin: async (tx) => hooks?.begin(tx),
        complete: async (tx) => {
          if (erasure) await hooks?.complete(tx, erasure);
        },
      },
      afterWrite: async (tx, next) => {
        if (next.erased === undefined) throw new Error(`contact ${contactId} is not erased after EraseContact`);
        await forgetAttempts(tx, emailsHeld((await this.store.readStream(contactId, tx)).events));
        await this.store.maskStream(tx, contactId, (event) => maskPersonalData(event.type, event.data));
        await forgetIdempotencyRecords(tx, contactId);
        erasure = { contactId, erasedAt: formatAtom(next.erased.erasedAt, 'seconds'), reason: next.erased.reason };
      },
    });
    if (!erasure) throw new Error(`no erasure of contact ${contactId}`);
    return erasure;
  }

  /** The worker handed the invite to the mail server; recording it again, or for a superseded invite, records nothing. */
  async recordInviteSent(contactId: string, tokenHash: string, metadata: EventMetadata): Promise<void> {
    await this.change(contactId, () => ({ type: 'RecordInviteSent', contactId, tokenHash }), metadata);
  }

  /**
   * Revokes a grant whose expiry has come (the expiry job and the sweep). True when this call
   * revoked it; false when the grant was gone, had other terms, or was not yet due.
   */
  async expireGrant(contactId: string, reference: string, expires: string, metadata: EventMetadata): Promise<boolean> {
    const { events } = await this.changed(contactId, () => ({ type: 'ExpireGrant', contactId, reference, expires }), metadata);
    return events.length > 0;
  }

  /** An administrator's decision on a pending grant (DESIGN §6 approve/reject). */
  decideGrant(
    contactId: string,
    reference: string,
    decision: 'approve' | 'reject',
    metadata: EventMetadata,
    hooks?: CommitHooks,
  ): Promise<ContactView> {
    const type = decision === 'approve' ? 'ApproveGrant' : 'RejectGrant';
    return this.change(contactId, () => ({ type, contactId, reference }), metadata, { hooks });
  }

  /** The person a live invite token is for; `InviteUnusable` when the link no longer leads to the form. */
  async invitee(token: string): Promise<InviteeView> {
    const contact = await this.inviteHolder(InviteTokens.hash(token));
    return {
      contactId: contact.id,
      firstname: contact.firstname,
      lastname: contact.lastname,
      email: contact.email,
      expiresAt: contact.invite?.expiresAt ?? '',
      hasPassword: contact.passwordHash !== null,
    };
  }

  /**
   * Sets the password an invited person chose, verifies their email (pending `email` grants become
   * active) and retires the token. A password that breaks the policy is refused at `/password`.
   */
  async acceptInvite(token: string, password: string | null, metadata: EventMetadata): Promise<ContactView> {
    const tokenHash = InviteTokens.hash(token);
    const contact = await this.inviteHolder(tokenHash);
    const errors = password === null ? [] : passwordProblems(password).map((e) => ({ ...e, field: '/password' }));
    if (errors.length > 0) throw new ContactRejected(errors);
    // Without a password (a verification of a person who holds one) only the email is confirmed.
    const passwordHash = password === null ? null : await this.hash(password);
    return this.change(contact.id, () => ({ type: 'AcceptInvite', contactId: contact.id, tokenHash, passwordHash }), metadata);
  }

  /** bcrypt's compare, on the same slots as hashing: a sign-in takes its turn like a create. */
  matchesPassword(password: string, hash: string): Promise<boolean> {
    // PHP's `$2y$` is bcrypt's `$2b$` under another name; the binding knows only `$2a$` and `$2b$`.
    const comparable = hash.startsWith('$2y$') ? `$2b$${hash.slice(4)}` : hash;
    return this.hashing.run(() => bcrypt.compare(password, comparable));
  }

  /**
   * Replaces the hash a sign-in just verified the password against with one at today's cost
   * (DESIGN §11): `PasswordSet {reason:"rehash"}`, unless the password changed meanwhile.
   */
  async rehashPassword(contactId: string, password: string, verifiedHash: string, metadata: EventMetadata): Promise<ContactView> {
    const passwordHash = await this.hash(password);
    const cost = this.options.bcryptCost;
    return this.change(contactId, () => ({ type: 'RehashPassword', contactId, verifiedHash, passwordHash, cost }), metadata);
  }

  /** The contact whose live invite has this token hash, judged before any hashing or locking. */
  private async inviteHolder(tokenHash: string): Promise<Contact> {
    // A retired invite (its contact's email or password changed) is looked for only when no live one has the token.
    const id = (await contactIdByInviteToken(this.db, tokenHash)) ?? (await contactIdByRetiredInviteToken(this.db, tokenHash));
    // A token of an earlier invite is no longer on any contact: it reads as unknown.
    if (id === undefined) throw new InviteUnusable('unknown');
    const { state } = await loadContact(this.db, id);
    if (state === null) throw new InviteUnusable('unknown');
    if (state.deleted !== undefined) throw new InviteUnusable('deleted');
    if (state.retiredInvite?.tokenHash === tokenHash) throw new InviteUnusable('retired');
    const unusable = inviteUnusableReason(state.invite, tokenHash, this.clock.now());
    if (unusable !== null) throw new InviteUnusable(unusable);
    return state;
  }

  /**
   * Runs a command on an existing contact: one writer of the contact at a time, its stream loaded
   * under the lock, `decide`, and the write in the same short transaction. A stale `If-Match` is
   * refused; an append that still meets a newer head (a writer outside the service) is retried.
   */
  private async change(
    contactId: string,
    command: (state: Contact, now: Date) => ContactCommand,
    metadata: EventMetadata,
    options: { hooks?: CommitHooks; expectedVersion?: number } = {},
  ): Promise<ContactView> {
    return (await this.changed(contactId, command, metadata, options)).view;
  }

  /** `change`, telling also which events it appended (none: the command found nothing to do). */
  private async changed(
    contactId: string,
    command: (state: Contact, now: Date) => ContactCommand,
    metadata: EventMetadata,
    options: { hooks?: CommitHooks; expectedVersion?: number; afterWrite?: (tx: Tx, next: Contact) => Promise<void> } = {},
  ): Promise<{ view: ContactView; events: ContactEvent[] }> {
    const { hooks, expectedVersion, afterWrite } = options;
    for (let attempt = 1; ; attempt++) {
      try {
        const done = await this.db.transaction(async (tx) => {
          await hooks?.begin(tx);
          // One writer of a contact at a time: concurrent updates queue here instead of failing
          // on the expected version and retrying, and none of them is lost.
          await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [contactId]);
          // The moment is read once the lock is held: a writer that waited does not record an
          // earlier time than the one it waited for.
          const now = this.clock.now();
          const { state, head } = await loadContact(tx, contactId);
          if (state === null) throw new ContactNotFound(contactId);
          // A deleted contact is gone whichever version the client saw: `decide` says so.
          if (expectedVersion !== undefined && expectedVersion !== state.version && state.deleted === undefined) {
            throw new StaleVersion(contactId, expectedVersion, state.version);
          }
          const change = this.plan(command(state, now), state, head, now);
          await this.write(tx, change, metadata);
          await afterWrite?.(tx, change.next);
          await hooks?.complete(tx, change.view);
          return { view: change.view, events: change.events };
        });
        this.options.onAppended?.(done.events);
        return done;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** Decides one command against a loaded stream: the events, and the contact and writes they lead to. */
  private plan(command: ContactCommand, state: ContactState, head: StreamHead, now: Date): Change {
    const events = decide(command, state, now);
    // Another replica's clock may run behind the one that wrote the last event: a stream's
    // recorded times never go back, so `asOf` never sees a later version before an earlier one.
    const recordedAt = state !== null && new Date(state.updated) > now ? new Date(state.updated) : now;
    const next = fold(
      events.map((event, i) => ({ ...event, version: head.version + i + 1, recordedAt: recordedAt.toISOString() })),
      state,
    );
    if (next === null) throw new Error(`stream ${command.contactId} holds no contact after ${command.type}`);
    const before = emailReservation(state);
    const after = emailReservation(next);
    const moved = events.length > 0 && (before?.email !== after?.email || before?.kind !== after?.kind);
    const row = contactsProjection.toRow(next);
    if (row === null) throw new Error(`no read row for contact ${command.contactId}`);
    return {
      contactId: command.contactId,
      head,
      events,
      recordedAt,
      next,
      row,
      view: atMoment(row.view, now),
      reservations: moved ? [...(before ? [{ release: before }] : []), ...(after ? [{ reserve: after }] : [])] : [],
    };
  }

  /** Writes a planned change: reservations first, then the events with their read row alongside. */
  private async write(on: Queryable, change: Change, metadata: EventMetadata): Promise<void> {
    if (change.events.length === 0) return;
    for (const step of change.reservations) {
      if ('release' in step) await releaseEmail(on, change.contactId, step.release);
      else await reserveEmail(on, change.contactId, step.reserve);
    }
    // The head hash of the row is filled in by the append it rides along with.
    await this.store.append(on, change.contactId, change.head, change.events, {
      metadata,
      recordedAt: change.recordedAt,
      alongside: contactsProjection.saveAlongside(change.row),
    });
  }

  /** New contacts' events and read rows, in one statement. */
  private async start(items: { change: Change; metadata: EventMetadata }[]): Promise<void> {
    const [only] = items;
    if (items.length === 1 && only) return this.write(this.db, only.change, only.metadata);
    await this.store.startStreams(
      this.db,
      items.map(({ change, metadata }) => ({ streamId: change.contactId, events: change.events, metadata, recordedAt: change.recordedAt })),
      saveManyAlongside(items.map(({ change }) => change.row)),
    );
  }

  /** bcrypt in libuv's thread pool: hashing never blocks the event loop; at most one hash a core at once. */
  private hash(password: string): Promise<string> {
    return this.hashing.run(() => bcrypt.hash(password, this.options.bcryptCost));
  }

  private newInvite(contactId: string, now: Date): NewInvite {
    const tokens = this.options.inviteTokens;
    return {
      expiresAt: formatAtom(new Date(now.getTime() + this.options.inviteTtlMs), 'seconds'),
      tokenHashAt: (version) => tokens.hashAt(contactId, version),
    };
  }
}

/**
 * Stored responses of idempotent requests on the contact hold its personal values (the contact
 * as a create, update, invite or approval returned it): an erasure forgets them.
 */
async function forgetIdempotencyRecords(tx: Queryable, contactId: string): Promise<void> {
  await tx.query(`DELETE FROM idempotency_keys WHERE body #>> '{contact,id}' = $1`, [contactId]);
}

function referencesOf(roles: ContactInput['accessRoles']): string[] {
  return Array.isArray(roles) ? roles.map((r) => (typeof r === 'string' ? r : r.reference)) : [];
}

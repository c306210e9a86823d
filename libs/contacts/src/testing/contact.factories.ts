/**
 * Test data for the contacts domain: factories with partial overrides and a given/when/then
 * helper over `decide`. Used by the specs only; nothing in the domain imports it.
 */
import type {
  AddressInput,
  ApprovalMethod,
  ContactCommand,
  ContactInput,
  ContactPatch,
  CreateContact,
  NewInvite,
  RoleCatalogue,
  UpdateContact,
} from '../contact.commands.js';
import { decide } from '../contact.decide.js';
import { ApprovalBypassForbidden, ContactRejected, type FieldError } from '../contact.errors.js';
import type {
  AddressData,
  ContactCreated,
  ContactEvent,
  InviteIssued,
  PrimaryAddressSet,
  Recorded,
  RoleGranted,
} from '../contact.events.js';
import { fold, type Contact } from '../contact.state.js';

export const aContactId = '3f1c2a9e-5b7d-4e8f-9a01-23456789abcd';
export const anAddressId = '7d2e4f60-1a2b-4c3d-8e9f-0123456789ab';
export const aPasswordHash = '$2b$04$abcdefghijklmnopqrstuu0123456789ABCDEFGHIJKLMNOPQRSTU';
/** When the recorded events of a history were written, as the event store returns it. */
export const aRecordedAt = '2026-01-10T09:00:00.000Z';

export const aUser = (overrides: Partial<ContactInput> = {}): ContactInput => ({
  type: 'user',
  firstname: 'Bob',
  lastname: 'Bobsworth',
  email: 'bob@example.com',
  ...overrides,
});

export const aGuest = (overrides: Partial<ContactInput> = {}): ContactInput => ({
  type: 'guest',
  firstname: 'Gail',
  lastname: 'Guest',
  email: 'gail@example.com',
  ...overrides,
});

export const aBranch = (overrides: Partial<ContactInput> = {}): ContactInput => ({
  type: 'branch',
  company: 'Bobsworth Ipswich',
  email: 'ipswich@example.com',
  ...overrides,
});

export const aRecipient = (overrides: Partial<ContactInput> = {}): ContactInput => ({
  type: 'recipient',
  email: 'reader@example.com',
  ...overrides,
});

/** The address every test uses (Evance's own example), as a client sends it and as it is stored. */
export const SAMPLE_ADDRESS = {
  line1: '2 Sorrel Horse Mews',
  line2: 'Grimwade Street',
  line3: null,
  city: 'Ipswich',
  region: 'Suffolk',
  countryCode: 'GB',
  zip: 'IP4 1LN',
} as const;

export const anAddress = (overrides: Partial<AddressInput> = {}): AddressInput => {
  const { line3: _none, ...lines } = SAMPLE_ADDRESS;
  return { ...lines, ...overrides };
};

/** `anAddress()` as recorded: under `anAddressId`, without names or company of its own (the view inherits them). */
export const aRecordedAddress = (overrides: Partial<AddressData> = {}): AddressData => ({
  id: anAddressId,
  firstname: null,
  lastname: null,
  company: null,
  ...SAMPLE_ADDRESS,
  ...overrides,
});

/** Roles by reference with their approval method; the default holds one role of each method. */
export const aCatalogue = (
  roles: Record<string, ApprovalMethod> = { customer: 'none', newsletter: 'email', 'trade-account': 'admin' },
): RoleCatalogue => new Map(Object.entries(roles));

/** An invite whose token hash names the stream version it was issued at: `invite-hash-at-<version>`. */
export const anInvite = (overrides: Partial<NewInvite> = {}): NewInvite => ({
  expiresAt: '2026-01-22T10:00:00+00:00',
  tokenHashAt: (version) => `invite-hash-at-${version}`,
  ...overrides,
});

export const anInviteIssued = (overrides: Partial<InviteIssued['data']> = {}): InviteIssued => ({
  type: 'InviteIssued',
  data: { tokenHash: 'invite-hash-at-2', expiresAt: '2026-01-22T10:00:00+00:00', ...overrides },
});

/** A create as the service hands it to `decide`: a user comes with a hashed password unless overridden. */
export const aCreateCommand = (
  input: ContactInput = aUser(),
  overrides: Partial<Omit<CreateContact, 'type' | 'input'>> = {},
): CreateContact => ({
  type: 'CreateContact',
  contactId: aContactId,
  input,
  passwordHash: input.type === 'user' ? aPasswordHash : null,
  invite: null,
  addressId: anAddressId,
  catalogue: aCatalogue(),
  ...overrides,
});

/** An update as the service hands it to `decide`: only the patch's fields, no password, no invite unless overridden. */
export const anUpdateCommand = (
  patch: ContactPatch = {},
  overrides: Partial<Omit<UpdateContact, 'type' | 'patch'>> = {},
): UpdateContact => ({
  type: 'UpdateContact',
  contactId: aContactId,
  patch,
  passwordHash: null,
  invite: null,
  addressId: anAddressId,
  catalogue: aCatalogue(),
  ...overrides,
});

/** A grant as recorded: active, without expiry, unless overridden. */
export const aRoleGranted = (overrides: Partial<RoleGranted['data']> = {}): RoleGranted => ({
  type: 'RoleGranted',
  data: { reference: 'customer', status: 'active', expires: null, pendingReason: null, ...overrides },
});

export const aContactCreated = (overrides: Partial<ContactCreated['data']> = {}): ContactCreated => ({
  type: 'ContactCreated',
  data: {
    contactId: aContactId,
    contactType: 'user',
    firstname: 'Bob',
    lastname: 'Bobsworth',
    email: 'bob@example.com',
    company: null,
    ...overrides,
  },
});

export const aPrimaryAddressSet = (overrides: Partial<AddressData> = {}): PrimaryAddressSet => ({
  type: 'PrimaryAddressSet',
  data: { address: aRecordedAddress(overrides) },
});

/** Events as the store returns them: versions from `from` on, all written at `at` unless given per event. */
export const recorded = (
  events: ContactEvent[],
  { from = 1, at = aRecordedAt }: { from?: number; at?: string | string[] } = {},
): Recorded[] =>
  events.map((event, i) => ({
    ...event,
    version: from + i,
    recordedAt: typeof at === 'string' ? at : (at[i] ?? aRecordedAt),
  }));

/** The state a history of events folds into; fails the test when it holds no contact. */
export const aContactFrom = (...events: ContactEvent[]): Contact => {
  const state = fold(recorded(events));
  if (state === null) throw new Error('the history holds no contact (does it start with ContactCreated?)');
  return state;
};

export const aContact = (overrides: Partial<Contact> = {}): Contact => ({
  id: aContactId,
  type: 'user',
  firstname: 'Bob',
  lastname: 'Bobsworth',
  email: 'bob@example.com',
  company: null,
  address: null,
  grants: [],
  tags: [],
  passwordHash: null,
  invite: null,
  version: 1,
  created: aRecordedAt,
  updated: aRecordedAt,
  ...overrides,
});

type ErrorClass = abstract new (...args: never[]) => Error;

export interface Outcome {
  /** `decide` returns exactly these events. */
  then(expected: ContactEvent[]): void;
  /** `decide` refuses with exactly these problems, in this order. */
  thenRejected(expected: Array<Pick<FieldError, 'field' | 'code'>>): void;
  /** `decide` refuses a bypass of approval the client may not decide, pointing at these fields. */
  thenForbidden(expected: Array<Pick<FieldError, 'field' | 'code'>>): void;
  /** `decide` throws this kind of error. */
  thenThrows(expected: ErrorClass): void;
}

/**
 * Given/when/then over `decide`, Emmett-style:
 * `given(aContactCreated()).when(aCreateCommand(), now).thenThrows(ContactAlreadyExists)`.
 */
export const given = (...history: ContactEvent[]) => ({
  when(command: ContactCommand, now: Date): Outcome {
    const state = fold(recorded(history));
    const run = (): ContactEvent[] => decide(command, state, now);
    const failure = (): unknown => {
      try {
        run();
      } catch (error) {
        return error;
      }
      throw new Error('expected decide to throw, but it returned events');
    };
    return {
      then(expected) {
        expect(run()).toEqual(expected);
      },
      thenRejected(expected) {
        const error = failure();
        expect(error).toBeInstanceOf(ContactRejected);
        const problems = (error as ContactRejected).errors.map(({ field, code }) => ({ field, code }));
        expect(problems).toEqual(expected);
      },
      thenForbidden(expected) {
        const error = failure();
        expect(error).toBeInstanceOf(ApprovalBypassForbidden);
        const problems = (error as ApprovalBypassForbidden).errors.map(({ field, code }) => ({ field, code }));
        expect(problems).toEqual(expected);
      },
      thenThrows(expected) {
        expect(failure()).toBeInstanceOf(expected);
      },
    };
  },
});

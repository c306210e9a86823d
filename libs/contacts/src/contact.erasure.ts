import type { ContactEventType } from './contact.events.js';
import { normalizeEmail } from './contact.rules.js';

/** What a personal value reads as once the person's data is erased (DESIGN §10). */
export const ERASED = '[erased]';

const ADDRESS_FIELDS = ['firstname', 'lastname', 'company', 'line1', 'line2', 'line3', 'city', 'region', 'countryCode', 'zip'];

/**
 * The one list of where each event type holds a personal value: names, emails, company, address
 * lines, tags, the password hash, invite token hashes. A path is the field's keys from `data`
 * down. An erasure masks exactly these; anything else (types, references, dates, the erasure's
 * reason) is the log's own and stays.
 */
const PERSONAL_FIELDS: Record<ContactEventType, readonly (readonly string[])[]> = {
  ContactCreated: [['firstname'], ['lastname'], ['email'], ['company']],
  ContactUpdated: [['firstname'], ['lastname'], ['email'], ['company']],
  PasswordSet: [['passwordHash']],
  PrimaryAddressSet: ADDRESS_FIELDS.map((field) => ['address', field]),
  TagsSet: [['tags']],
  RoleGranted: [],
  RoleActivated: [],
  RoleRevoked: [],
  InviteIssued: [['tokenHash']],
  InviteSent: [['tokenHash']],
  InviteAccepted: [['tokenHash']],
  InviteRetired: [['tokenHash']],
  ContactDeleted: [],
  ContactErased: [],
};

/** The paths in an event's `data` that hold a personal value; none for a type the domain does not know. */
export function personalFields(type: string): readonly (readonly string[])[] {
  return Object.hasOwn(PERSONAL_FIELDS, type) ? PERSONAL_FIELDS[type as ContactEventType] : [];
}

/**
 * An event's data with every personal value replaced: a string by `"[erased]"`, a list by a list
 * of one `"[erased]"` (so `evolve` still reads a list). Null or missing stays so: it holds nothing.
 * Masking masked data changes nothing.
 */
export function maskPersonalData(type: string, data: Record<string, unknown>): Record<string, unknown> {
  let masked = data;
  for (const path of personalFields(type)) masked = maskAt(masked, path);
  return masked;
}

function maskAt(data: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined || !Object.hasOwn(data, key)) return data;
  const value = data[key];
  if (value === null || value === undefined) return data;
  if (rest.length > 0) {
    return typeof value === 'object' && !Array.isArray(value) ? { ...data, [key]: maskAt(value as Record<string, unknown>, rest) } : data;
  }
  if (Array.isArray(value)) return { ...data, [key]: value.length === 0 ? [] : [ERASED] };
  return { ...data, [key]: ERASED };
}

/**
 * Every email a stream's events ever gave the contact, as the uniqueness rule and sign-in compare
 * them: what an erasure looks for outside the log (sign-in attempts are counted by email).
 */
export function emailsHeld(events: readonly { type: string; data: Record<string, unknown> }[]): string[] {
  const emails = new Set<string>();
  for (const { type, data } of events) {
    if ((type === 'ContactCreated' || type === 'ContactUpdated') && typeof data.email === 'string' && data.email !== ERASED) {
      emails.add(normalizeEmail(data.email));
    }
  }
  return [...emails];
}

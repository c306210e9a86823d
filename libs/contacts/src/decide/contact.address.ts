import type { AddressInput, ContactInput } from '../contact.commands.js';
import type { AddressData } from '../contact.events.js';
import type { Contact } from '../contact.state.js';
import { clean } from './contact.fields.js';

const ADDRESS_FIELDS = ['firstname', 'lastname', 'company', 'line1', 'line2', 'line3', 'city', 'region', 'countryCode', 'zip'] as const;

const INHERITED_FIELDS = ['firstname', 'lastname', 'company'] as const;

/**
 * Only the fields sent change; the address keeps its id. A name the address shows by inheritance,
 * sent back as shown (a contact read, edited and posted back), stays inherited: otherwise it would
 * be pinned and no longer follow the contact's own name.
 */
export function mergeAddress(contact: Contact, current: AddressData, sent: AddressInput): AddressData {
  const given = toAddress(current.id, sent);
  const merged: AddressData = { ...current };
  for (const field of ADDRESS_FIELDS) if (field in sent) merged[field] = given[field];
  for (const field of INHERITED_FIELDS) {
    if (current[field] === null && given[field] === contact[field]) merged[field] = null;
  }
  return merged;
}

export function sameAddress(a: AddressData, b: AddressData | null): boolean {
  return b !== null && a.id === b.id && ADDRESS_FIELDS.every((f) => a[f] === b[f]);
}

export function toAddress(id: string, a: NonNullable<ContactInput['address']>): AddressData {
  return {
    id,
    firstname: clean(a.firstname),
    lastname: clean(a.lastname),
    company: clean(a.company),
    line1: clean(a.line1),
    line2: clean(a.line2),
    line3: clean(a.line3),
    city: clean(a.city),
    region: clean(a.region),
    countryCode: clean(a.countryCode)?.toUpperCase() ?? null,
    zip: clean(a.zip),
  };
}

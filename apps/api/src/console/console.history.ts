import diff from 'microdiff';
import { evolve, formatAtom, redactSecrets, toContactView, type ContactState, type ContactView } from '@app/contacts';
import { toRecorded, type StoredEvent } from '@app/event-store';

/** A field of the contact an event changed, as shown: its path and its value before and after. */
export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

/** One event of a contact's timeline. */
export interface TimelineEntry {
  version: number;
  type: string;
  recordedAt: string;
  clientId: string;
  changes: FieldChange[];
  /** the event's data as stored, secrets `[redacted]`, as indented JSON */
  data: string;
}

/** Change on every event, so they say nothing about what the event did. */
const BOOKKEEPING = new Set(['version', 'updated']);

const shown = (value: unknown): string =>
  value === undefined ? '—' : value === null ? 'none' : typeof value === 'string' ? value : JSON.stringify(value);

/** The contact as shown (no password or token hash: the view has none) after each event of its stream. */
export function viewsAfterEachEvent(events: readonly StoredEvent[]): (ContactView | null)[] {
  let state: ContactState = null;
  return events.map((event) => {
    state = evolve(state, toRecorded(event));
    return state && toContactView(state);
  });
}

/**
 * The timeline entry of `events[i]`: the fields of the contact it changed, from the views folded
 * before and after it, diffed.
 */
export function timelineEntry(events: readonly StoredEvent[], views: readonly (ContactView | null)[], i: number): TimelineEntry {
  const event = events[i];
  if (!event) throw new RangeError(`no event at index ${i}`);
  const before = (i > 0 ? views[i - 1] : null) ?? {};
  const after = views[i] ?? {};
  const changes = diff(before, after)
    .filter((d) => !BOOKKEEPING.has(String(d.path[0])))
    .map((d) => ({
      field: d.path.join('.'),
      before: shown(d.type === 'CREATE' ? undefined : d.oldValue),
      after: shown(d.type === 'REMOVE' ? undefined : d.value),
    }));
  return {
    version: event.version,
    type: event.type,
    recordedAt: formatAtom(event.recordedAt),
    clientId: event.metadata.clientId ?? 'none',
    changes,
    data: JSON.stringify(redactSecrets(event.type, event.data), null, 2),
  };
}

/** How a person names the contact: full name, else company, else email. */
export function displayName(view: Pick<ContactView, 'firstname' | 'lastname' | 'company' | 'email'>): string {
  const name = [view.firstname, view.lastname].filter((part) => part !== null && part !== '').join(' ');
  return name || view.company || view.email;
}

/** The contact's fields as label and text, in the order a person reads them. */
export function stateRows(view: ContactView): [string, string][] {
  const address = view.address;
  return [
    ['Id', view.id],
    ['Type', view.type],
    ['First name', view.firstname ?? '—'],
    ['Last name', view.lastname ?? '—'],
    ['Email', view.email],
    ['Company', view.company ?? '—'],
    [
      'Address',
      address
        ? [address.line1, address.line2, address.line3, address.city, address.region, address.zip, address.countryCode]
            .filter((part) => part !== null && part !== undefined && part !== '')
            .join(', ')
        : '—',
    ],
    [
      'Access roles',
      view.accessRoles.length === 0
        ? '—'
        : view.accessRoles
            .map(
              (r) =>
                `${r.reference} (${r.status}${r.pendingReason ? `, ${r.pendingReason}` : ''}${r.expires ? `, until ${r.expires}` : ''})`,
            )
            .join('; '),
    ],
    ['Tags', view.tags.contact.length === 0 ? '—' : view.tags.contact.join(', ')],
    ['Password set', view.hasPassword ? 'yes' : 'no'],
    ['Invite', view.invite ? `${view.invite.status}, expires ${view.invite.expiresAt}` : '—'],
    ['Version', String(view.version)],
    ['Created', view.created],
    ['Updated', view.updated],
  ];
}

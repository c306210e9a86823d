import { fieldError, type FieldError } from './contact.errors.js';

export const PASSWORD_MIN_LENGTH = 8;
/** bcrypt reads only the first 72 bytes; a longer password would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;
export const COMPANY_MAX_LENGTH = 200;

/** Evance: at least 8 characters, containing letters and numbers. */
export function passwordProblems(password: string, field = '/contact/password'): FieldError[] {
  // Characters are code points: an emoji is one character, not two UTF-16 units.
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    return [fieldError(field, 'password_too_short', `must be at least ${PASSWORD_MIN_LENGTH} characters`)];
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    return [fieldError(field, 'password_too_long', `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`)];
  }
  if (!/\p{L}/u.test(password) || !/\p{N}/u.test(password)) {
    return [fieldError(field, 'password_too_weak', 'must contain both letters and numbers')];
  }
  return [];
}

/** The form uniqueness is judged on: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Markup in a company name: a tag opener, a closing tag, a comment or a character reference. */
export function looksLikeHtml(value: string): boolean {
  return /<[a-zA-Z!/?]|&#?[a-zA-Z0-9]+;/.test(value);
}

/** RFC 3339 / PHP's DATE_ATOM: `2026-01-31T12:00:00+00:00`, fractional seconds and `Z` tolerated. */
const ATOM = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

export function parseAtom(value: string): Date | null {
  const m = ATOM.exec(value);
  if (!m) return null;
  const date = new Date(value);
  // An offset can push year 9999 into 10000, which ATOM cannot write back.
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) return null;
  // Reject calendar overflow (2026-02-31) that Date silently rolls over.
  const [, y, mo, d] = m;
  const offset = m[8] === 'Z' ? 0 : offsetMinutes(m[8] ?? '+00:00');
  const local = new Date(date.getTime() + offset * 60_000);
  if (local.getUTCFullYear() !== Number(y) || local.getUTCMonth() + 1 !== Number(mo) || local.getUTCDate() !== Number(d)) {
    return null;
  }
  return date;
}

function offsetMinutes(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, min] = offset.slice(1).split(':').map(Number);
  return sign * ((h ?? 0) * 60 + (min ?? 0));
}

/**
 * Dates leave the service in ATOM format, in UTC: `2026-01-31T12:00:00+00:00`. Milliseconds are
 * kept when there are any, so an instant (an expiry) is never moved earlier by formatting.
 */
export function formatAtom(date: Date | string, precision: 'exact' | 'seconds' = 'exact'): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  const iso = d.toISOString();
  return precision === 'seconds' ? iso.replace(/\.\d{3}Z$/, '+00:00') : iso.replace(/(\.000)?Z$/, '+00:00');
}

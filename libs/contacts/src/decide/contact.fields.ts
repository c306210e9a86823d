import { fieldError, type FieldError } from '../contact.errors.js';
import { COMPANY_MAX_LENGTH, looksLikeHtml } from '../contact.rules.js';

/** The fields' own rules and forms, shared by a create and an update. */

export function companyProblems(company: string, field: string): FieldError[] {
  if (company.length > COMPANY_MAX_LENGTH) {
    return [fieldError(field, 'too_long', `must be at most ${COMPANY_MAX_LENGTH} characters`)];
  }
  if (looksLikeHtml(company)) return [fieldError(field, 'html_not_allowed', 'must not contain HTML')];
  return [];
}

export function clean(value: string | null | undefined): string | null {
  if (value == null) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t !== ''))];
}

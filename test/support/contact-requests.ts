import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { ApprovalMethod, ContactView } from '@app/contacts';
import { SAMPLE_ADDRESS } from '../../libs/contacts/src/testing/contact.factories.js';
import type { TestApi } from './test-api.js';

export type Response = LightMyRequestResponse;
export type Body = Record<string, unknown>;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: { pointer: string; code: string; message: string }[];
}

/** Any UUID, as the API writes ids. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sequence = 0;

/** An email no other test uses: tests never share data, even within one database. */
export function uniqueEmail(label = 'contact'): string {
  sequence += 1;
  return `${label}-${sequence}-${randomUUID().slice(0, 8)}@example.com`;
}

/** A role reference no other test uses. */
export function uniqueReference(label = 'role'): string {
  sequence += 1;
  return `${label}-${sequence}-${randomUUID().slice(0, 8)}`;
}

export const aUserPayload = (overrides: Body = {}): Body => ({
  type: 'user',
  firstname: 'Ann',
  lastname: 'Lee',
  email: uniqueEmail('user'),
  password: 'secret123',
  ...overrides,
});

export const aGuestPayload = (overrides: Body = {}): Body => ({
  type: 'guest',
  firstname: 'Gus',
  lastname: 'Guest',
  email: uniqueEmail('guest'),
  ...overrides,
});

export const aBranchPayload = (overrides: Body = {}): Body => ({
  type: 'branch',
  company: 'Acme Ipswich',
  email: uniqueEmail('branch'),
  ...overrides,
});

export const aRecipientPayload = (overrides: Body = {}): Body => ({
  type: 'recipient',
  email: uniqueEmail('recipient'),
  ...overrides,
});

export const anAddressPayload = (overrides: Body = {}): Body => ({ ...SAMPLE_ADDRESS, ...overrides });

/** The address `anAddressPayload()` is shown as: under a new id, with the names of `aUserPayload()` unless overridden. */
export const anAddressView = (overrides: Body = {}): Body => ({
  id: expect.stringMatching(UUID),
  firstname: 'Ann',
  lastname: 'Lee',
  company: null,
  ...anAddressPayload(),
  ...overrides,
});

const auth = (token: string | null): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token}` });

export function post(
  api: TestApi,
  token: string | null,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return api.http.inject({ method: 'POST', url, headers: { ...auth(token), ...headers }, payload: body as Body });
}

export function get(api: TestApi, token: string | null, url: string, headers: Record<string, string> = {}): Promise<Response> {
  return api.http.inject({ method: 'GET', url, headers: { ...auth(token), ...headers } });
}

/** POST /api/contacts.json with `{contact, ...extra}` (extra: e.g. `{ invite: true }`). */
export function createContact(api: TestApi, token: string, contact: Body, extra: Body = {}): Promise<Response> {
  return post(api, token, '/api/contacts.json', { contact, ...extra });
}

/** POST /api/contacts/{id}.json with `{contact, ...extra}`. */
export function updateContact(
  api: TestApi,
  token: string,
  id: string,
  contact: Body,
  extra: Body = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return post(api, token, `/api/contacts/${id}.json`, { contact, ...extra }, headers);
}

/** The contact of a `{contact}` body. */
export const contactOf = (response: Response): ContactView => response.json<{ contact: ContactView }>().contact;

/** Creates a contact that must be accepted and returns it as the API returned it. */
export async function aCreatedContact(api: TestApi, token: string, contact: Body, extra: Body = {}): Promise<ContactView> {
  const response = await createContact(api, token, contact, extra);
  if (response.statusCode !== 201) throw new Error(`create failed (${response.statusCode}): ${response.body}`);
  return contactOf(response);
}

/** GET /api/contacts/{id}.json, which must answer 200, and the contact it returns. */
export async function readContact(api: TestApi, token: string, id: string): Promise<ContactView> {
  const response = await get(api, token, `/api/contacts/${id}.json`);
  expect(response.statusCode).toBe(200);
  return contactOf(response);
}

/** How many contacts the list finds for an email (and a type); the list must answer 200. */
export async function totalWithEmail(api: TestApi, token: string, email: string, type?: string): Promise<number> {
  const query = new URLSearchParams({ email, ...(type ? { type } : {}) });
  const response = await get(api, token, `/api/contacts.json?${query.toString()}`);
  expect(response.statusCode).toBe(200);
  return response.json<{ pagination: { total: number } }>().pagination.total;
}

/** Seeds a role in the catalogue through the API and returns its reference. */
export async function aRole(api: TestApi, token: string, approvalMethod: ApprovalMethod = 'none'): Promise<string> {
  const reference = uniqueReference(approvalMethod);
  const response = await post(api, token, '/api/roles.json', { role: { reference, title: `Role ${reference}`, approvalMethod } });
  if (response.statusCode !== 201) throw new Error(`role create failed (${response.statusCode}): ${response.body}`);
  return reference;
}

/** The problem document of a refusal, after checking the media type and the keys every refusal carries. */
export function problemOf(response: Response): ProblemBody {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<ProblemBody>();
  expect(body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status: response.statusCode,
      detail: expect.any(String),
      errors: expect.any(Array),
    }),
  );
  return body;
}

/** The `{pointer, code}` pairs of a refusal, for `toContainEqual` / `toEqual`. */
export function errorsOf(response: Response): { pointer: string; code: string }[] {
  return problemOf(response).errors.map(({ pointer, code }) => ({ pointer, code }));
}

export async function countEvents(api: TestApi): Promise<number> {
  const { rows } = await api.database.db.query<{ count: string }>('SELECT count(*) FROM events');
  return Number(rows[0]?.count);
}

/** How many ContactCreated events carry an email, in any case. */
export async function countCreatedEvents(api: TestApi, email: string): Promise<number> {
  const { rows } = await api.database.db.query<{ count: string }>(
    `SELECT count(*) FROM events WHERE type = 'ContactCreated' AND lower(data->>'email') = $1`,
    [email.toLowerCase()],
  );
  return Number(rows[0]?.count);
}

export async function countContacts(api: TestApi): Promise<number> {
  const { rows } = await api.database.db.query<{ count: string }>('SELECT count(*) FROM contacts');
  return Number(rows[0]?.count);
}

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from '@hey-api/openapi-ts';
import type { ContactView } from '@app/contacts';
import { contactOf, get, uniqueEmail, UUID } from '../support/contact-requests.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/**
 * What a client program written against the generated SDK does: get a token, create a contact,
 * read it, update it. Type-checked with the generated types before it runs, so a document that
 * generates wrong types fails here as surely as one that describes wrong shapes.
 */
const CLIENT_PROGRAM = `
import { createClient } from './client/client/index.js';
import { createContact, issueToken, readContact, updateContact } from './client/sdk.gen.js';
import type { ContactResponse } from './client/types.gen.js';

// address and invite may be null, and the generated types must say so: this compiles only then.
export const nullable: [null extends ContactResponse['address'] ? true : false, null extends ContactResponse['invite'] ? true : false] = [
  true,
  true,
];

export interface RoundTrip {
  created: ContactResponse;
  read: ContactResponse;
  etag: string | null;
  updated: ContactResponse;
}

export async function roundTrip(baseUrl: string, clientId: string, clientSecret: string, email: string): Promise<RoundTrip> {
  const client = createClient({ baseUrl });
  const token = await issueToken({
    client,
    body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    throwOnError: true,
  });
  client.setConfig({ auth: token.data.access_token });

  const created = await createContact({
    client,
    body: { contact: { type: 'user', firstname: 'Ada', lastname: 'Lovelace', email, password: 'secret123', tags: { contact: ['sdk'] } } },
    throwOnError: true,
  });
  const id: string = created.data.contact.id;
  const read = await readContact({ client, path: { id }, throwOnError: true });
  const etag = read.response.headers.get('etag');
  const updated = await updateContact({
    client,
    path: { id },
    headers: { 'If-Match': etag ?? '*' },
    body: { contact: { company: 'Analytical Engines', address: { line1: '1 Engine Row', city: 'London', countryCode: 'GB' } } },
    throwOnError: true,
  });
  return { created: created.data.contact, read: read.data.contact, etag, updated: updated.data.contact };
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM'],
    types: [],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['**/*.ts'],
};

interface RoundTrip {
  created: ContactView;
  read: ContactView;
  etag: string | null;
  updated: ContactView;
}

describe('a client generated from the OpenAPI document', () => {
  let api: TestApi;
  let baseUrl: string;
  let folder: string;

  beforeAll(async () => {
    api = await createTestApi({ label: 'sdk' });
    await api.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(api.http.server.address() as AddressInfo).port}`;
    // Outside the repository, so that lint never sees generated code; a module folder of its own.
    folder = await mkdtemp(join(tmpdir(), 'openapi-client-'));
    await writeFile(join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
  });
  afterAll(async () => {
    await api.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('type-checks, and creates, reads and updates a contact against the API', async () => {
    const document: unknown = await (await fetch(`${baseUrl}/api/docs-json`)).json();
    await createClient({
      input: { path: document as Record<string, unknown> },
      output: join(folder, 'client'),
      logs: { level: 'silent', file: false },
      plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
    });
    await writeFile(join(folder, 'program.ts'), CLIENT_PROGRAM);
    await writeFile(join(folder, 'tsconfig.json'), JSON.stringify(TSCONFIG));

    const typecheck = await run(process.execPath, [TSC, '-p', join(folder, 'tsconfig.json')]).then(
      () => '',
      (error: Error & { stdout?: string }) => error.stdout || error.message,
    );
    expect(typecheck).toBe('');

    const program = (await import(pathToFileURL(join(folder, 'program.ts')).href)) as {
      roundTrip(baseUrl: string, clientId: string, clientSecret: string, email: string): Promise<RoundTrip>;
    };
    const { client_id, client_secret } = await api.client(['contacts']);
    const email = uniqueEmail('sdk');
    const sut = await program.roundTrip(baseUrl, client_id, client_secret, email);

    expect(sut.created).toMatchObject({ id: expect.stringMatching(UUID), type: 'user', email, address: null, invite: null });
    expect(sut.read).toEqual(sut.created);
    expect(sut.etag).toBe(`"${sut.created.version}"`);
    expect(sut.updated).toMatchObject({
      id: sut.created.id,
      company: 'Analytical Engines',
      address: expect.objectContaining({ line1: '1 Engine Row', city: 'London', countryCode: 'GB', firstname: 'Ada' }),
      tags: { contact: ['sdk'] },
    });
    expect(sut.updated.version).toBeGreaterThan(sut.created.version);
    const stored = await get(api, await api.token(['contacts.readonly']), `/api/contacts/${sut.created.id}.json`);
    expect(contactOf(stored)).toEqual(sut.updated);
  }, 90_000);
});

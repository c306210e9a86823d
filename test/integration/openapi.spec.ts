import { createConfig, lintFromString, type NormalizedProblem } from '@redocly/openapi-core';
import { aUserPayload, createContact, get } from '../support/contact-requests.js';
import { OpenApiContract } from '../support/openapi-contract.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

type Document = {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
};

const shown = (problems: NormalizedProblem[]): string[] =>
  problems.map((p) => `${p.ruleId} at ${p.location.map((l) => l.pointer).join(', ')}: ${p.message}`);

describe('the OpenAPI document at /api/docs-json', () => {
  let api: TestApi;
  let token: string;
  let source: string;
  const document = (): Document => JSON.parse(source) as Document;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'openapi-lint' }));
    source = (await get(api, null, '/api/docs-json')).body;
  });
  afterAll(() => api.close());

  it("passes redocly's recommended rules without an error", async () => {
    const config = await createConfig({ extends: ['recommended'] });

    const sut = await lintFromString({ source, absoluteRef: 'openapi.json', config });

    expect(shown(sut.filter((p) => p.severity === 'error'))).toEqual([]);
    // What is left: no license named, and probes (/health, /metrics) that have no 4xx to document.
    expect(shown(sut.filter((p) => p.severity === 'warn')).length).toBeLessThanOrEqual(4);
  });

  it('declares the public operations public and the server it is served from', () => {
    const { paths, servers } = JSON.parse(source) as { paths: Document['paths']; servers: unknown };
    const security = (path: string, method: string): unknown => (paths[path]?.[method] as { security?: unknown } | undefined)?.security;

    expect(servers).toEqual([expect.objectContaining({ url: '/' })]);
    for (const [path, method] of [
      ['/oauth/token', 'post'],
      ['/invites/{token}', 'get'],
      ['/invites/{token}', 'post'],
      ['/health', 'get'],
      ['/health/live', 'get'],
      ['/metrics', 'get'],
    ] as const) {
      expect([`${method} ${path}`, security(path, method)]).toEqual([`${method} ${path}`, []]);
    }
  });

  describe(OpenApiContract.name, () => {
    it('accepts what the API answers, null address and invite included', async () => {
      const response = await createContact(api, token, aUserPayload());
      const sut = new OpenApiContract(document());

      expect(response.json()).toMatchObject({ contact: { address: null, invite: null } });
      expect(sut.violation(response)).toBeUndefined();
    });

    it('names the field when a body breaks the schema: null where the document allows an object only', async () => {
      const response = await createContact(api, token, aUserPayload());
      const broken = document();
      broken.components.schemas.ContactResponse!.properties.address = {
        type: 'object',
        nullable: true,
        allOf: [{ $ref: '#/components/schemas/AddressResponse' }],
      };

      const sut = new OpenApiContract(broken).violation(response);

      expect(sut).toContain('POST /api/contacts.json');
      expect(sut).toContain('answered 201 application/json');
      expect(sut).toContain('body/contact/address must be object');
    });

    it('refuses a status the operation does not document', async () => {
      const response = await get(api, token, '/api/contacts/00000000-0000-4000-8000-000000000000.json');
      const broken = document();
      delete broken.paths['/api/contacts/{id}.json']!.get!.responses['404'];

      const sut = new OpenApiContract(broken).violation(response);

      expect(response.statusCode).toBe(404);
      expect(sut).toMatch(/^GET \/api\/contacts\/\{id\}\.json .* answered 404 application\/problem\+json: the document lists only 200, /);
    });

    it('accepts a problem document from a route no operation describes, and nothing else there', async () => {
      const unknownRoute = await get(api, token, '/api/nothing-here.json');
      const sut = new OpenApiContract(document());

      expect(unknownRoute.statusCode).toBe(404);
      expect(sut.violation(unknownRoute)).toBeUndefined();
      const withoutProblemSchema = document();
      withoutProblemSchema.components.schemas.ProblemSchema!.properties.status = { type: 'string' };
      expect(new OpenApiContract(withoutProblemSchema).violation(unknownRoute)).toContain('body/status must be string');
    });
  });
});

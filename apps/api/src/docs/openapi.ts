import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { Scope } from '@app/auth';
import { QUEUE_DASHBOARD_PATH } from '../admin/queue-dashboard.js';
import { ProblemSchema } from './problem.schema.js';

export const DOCS_PATH = '/api/docs';
export const DOCS_JSON_PATH = '/api/docs-json';

/** The browser consoles: pages with their own scripts, which get their own CSP (security-headers.ts). */
export const isConsolePage = (url: string): boolean => /^\/api\/docs(?:[-/?#.]|$)/.test(url) || /^\/admin\/queues(?:[/?#]|$)/.test(url);

const SCOPES: Record<Scope, string> = {
  contacts: 'create, read and update contacts, send invites (includes contacts.readonly)',
  'contacts.readonly': 'read and list contacts',
  roles: 'add access roles to the catalogue, approve and reject pending grants (includes roles.readonly)',
  'roles.readonly': 'read the access-role catalogue',
  audit: "read a contact's history, the global event feed, and a contact as of a past moment",
  privacy: 'export everything held about a person (their contact and its whole history), and erase it',
  signin: "check a user's email and password for the website whose users these are (`POST /api/contacts/authenticate.json`)",
};

const DESCRIPTION = `An event-sourced contacts service with the API of Evance's Contacts API.

Every route under \`/api\` needs \`Authorization: Bearer <token>\`; \`POST /oauth/token\` issues tokens
(OAuth2 client credentials). Each operation names the scope it needs. Every refusal is an RFC 9457
problem document (\`application/problem+json\`) whose \`errors\` point into the request with a
stable \`code\`. Every POST under \`/api\` accepts \`Idempotency-Key\`.`;

const problem = { 'application/problem+json': { schema: { $ref: `#/components/schemas/${ProblemSchema.name}` } } };
const page = { 'text/html': { schema: { type: 'string' } } };

/** Refusals of a URL Fastify cannot route, before any route runs, wherever a path takes a parameter. */
const URL_REFUSALS: Record<string, string> = {
  '400': 'the URL is not validly encoded',
  '414': 'a part of the URL is too long',
};

/** Refusals of any POST under /api before its handler runs: the body, the media type, the Idempotency-Key. */
const POST_REFUSALS: Record<string, string> = {
  '400': 'malformed JSON, or a bad `Idempotency-Key`',
  '413': 'the body is over 1 MiB',
  '415': 'the body is not `application/json`',
  '422': 'the `Idempotency-Key` was used for another request (`idempotency_key_reused`)',
};

const UNAVAILABLE = 'the database is busy or unreachable: retry after `Retry-After` seconds';

/**
 * Adds the refusals that come from the framework rather than from an operation's own rules, so
 * that the document lists every status a client can get: a problem document, or a page where the
 * operation answers with pages (the invite page).
 */
function withFrameworkRefusals(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const answersPages = Object.values(operation.responses).some(
        (response) => response !== undefined && 'content' in response && response.content !== undefined && 'text/html' in response.content,
      );
      const add = (refusals: Record<string, string>): void => {
        for (const [status, description] of Object.entries(refusals)) {
          operation.responses[status] ??= { description, content: answersPages ? page : problem };
        }
      };
      if (path.includes('{')) add(URL_REFUSALS);
      if (method === 'post' && path.startsWith('/api/')) add(POST_REFUSALS);
      if (path.startsWith('/api/') || path === '/oauth/token') add({ '503': UNAVAILABLE });
    }
  }
  return document;
}

/** Paths outside Nest's controllers: the queue dashboard is a Fastify plugin. */
function withConsolePaths(document: OpenAPIObject): OpenAPIObject {
  document.paths[QUEUE_DASHBOARD_PATH] = {
    get: {
      tags: ['operations'],
      summary: 'Queue dashboard (bull-board)',
      description: 'HTTP Basic with ADMIN_USER and ADMIN_PASSWORD; 404 while ADMIN_PASSWORD is unset. An HTML application.',
      operationId: 'queueDashboard',
      security: [{ admin: [] }],
      responses: {
        '200': { description: 'the dashboard', content: page },
        '401': { description: 'missing or wrong credentials', content: problem },
        '404': { description: 'the dashboard is off (ADMIN_PASSWORD unset)', content: problem },
      },
    },
  };
  return document;
}

/**
 * The OpenAPI document, built from the controllers' and DTOs' decorators, at /api/docs-json, and
 * Swagger UI at /api/docs. Both are public, like the API's contract itself. The document is built
 * on its first request, not at start.
 */
export function setupOpenApi(app: NestFastifyApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('Contacts API')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addOAuth2({ type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: SCOPES } } }, 'oauth2')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a token from POST /oauth/token' }, 'bearer')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'ADMIN_USER and ADMIN_PASSWORD' }, 'admin')
    .addServer('/', 'the server this document is served from')
    .addTag('contacts', 'create, read, list and update contacts; invites; decisions on pending grants')
    .addTag('roles', 'the access-role catalogue')
    .addTag('audit', "a contact's history and the global event feed")
    .addTag('privacy', "a person's data: the export of everything held about them, and its erasure")
    .addTag('auth', 'access tokens (OAuth2 client credentials)')
    .addTag('invites', 'the page a person opens from the invite mail (HTML)')
    .addTag('operations', 'health, metrics, the queue dashboard')
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => withConsolePaths(withFrameworkRefusals(SwaggerModule.createDocument(app, config))), {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Contacts API',
    // The UI's validator badge would load an image from swagger.io: the CSP allows this origin only.
    swaggerOptions: { validatorUrl: null },
  });
}

import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { DOCS_JSON_PATH, isConsolePage } from '../../apps/api/src/docs/openapi.js';

interface MediaType {
  schema?: unknown;
}

interface ResponseObject {
  content?: Record<string, MediaType>;
}

interface Operation {
  responses: Record<string, ResponseObject>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  operation: Operation;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The document is registered in Ajv under this id; its `#/components/...` refs resolve against it. */
const DOCUMENT_ID = 'openapi.json';

const isJson = (mediaType: string): boolean => /^application\/(?:[\w.-]+\+)?json$/.test(mediaType);

/** `/api/contacts/{id}.json` -> a pattern that takes any one path segment for `{id}`. */
function patternOf(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

const pointer = (...parts: string[]): string =>
  parts.map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

const excerpt = (body: string): string => (body.length > 600 ? `${body.slice(0, 600)}…` : body);

/**
 * What the API's own OpenAPI document says of a response: its status must be documented for the
 * operation, its media type too, and a JSON body must match the schema documented for it.
 * Problem documents are checked like any other body. HTML and text are checked by status and
 * media type only. A request no operation describes (an unknown route) must be refused with a
 * 4xx problem document (under /invites/, a 4xx page).
 */
export class OpenApiContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, formats: { password: true } });
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  /** `document`: an OpenAPI 3.0 document, as parsed from JSON */
  constructor(document: object) {
    formats.default(this.ajv);
    this.ajv.addSchema(document, DOCUMENT_ID);
    this.routes = Object.entries((document as OpenApiDocument).paths)
      .flatMap(([template, item]) =>
        Object.entries(item)
          .filter(([method]) => METHODS.includes(method))
          .map(([method, operation]) => ({ method: method.toUpperCase(), template, pattern: patternOf(template), operation })),
      )
      // A path without parameters wins over a template that would also match it.
      .sort((a, b) => a.template.split('{').length - b.template.split('{').length);
  }

  /** The document a running test API serves. */
  static async served(inject: FastifyInstance['inject']): Promise<OpenApiContract> {
    // From an address of its own, so that fetching it takes nothing from a rate limit a test counts.
    const response = await inject({ method: 'GET', url: DOCS_JSON_PATH, remoteAddress: '192.0.2.1' });
    if (response.statusCode !== 200) throw new Error(`GET ${DOCS_JSON_PATH} answered ${response.statusCode}: ${response.body}`);
    return new OpenApiContract(response.json<OpenApiDocument>());
  }

  /** Why the response breaks the document, or undefined when it does not. */
  violation(response: LightMyRequestResponse): string | undefined {
    const method = (response.raw.req.method ?? 'GET').toUpperCase();
    const url = response.raw.req.url ?? '/';
    const path = url.split('?')[0] ?? url;
    const shown = url.length > 120 ? `${url.slice(0, 120)}…` : url;
    const status = response.statusCode;
    const mediaType = String(response.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    const route = this.routeOf(method === 'HEAD' ? 'GET' : method, path);

    if (!route) {
      // Browser pages outside the API's document: Swagger UI, the queue dashboard, the auditors' console.
      if (isConsolePage(path) || /^\/console(?:[/?#]|$)/.test(path)) return undefined;
      const said = `${method} ${shown} (no operation in the document) answered ${status} ${mediaType}`;
      const refused = status >= 400 && status < 500;
      // Under /invites/ the invite page's error pages answer what is not an invite link.
      if (refused && mediaType === 'text/html' && path.startsWith('/invites/')) return undefined;
      if (!refused || mediaType !== 'application/problem+json') return `${said}: only a 4xx problem document may answer it`;
      return this.bodyViolation(said, response, this.validator(pointer('components', 'schemas', 'ProblemSchema')));
    }

    const said = `${method} ${route.template} (${shown}) answered ${status} ${mediaType || '(no content type)'}`;
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in route.operation.responses);
    if (key === undefined) return `${said}: the document lists only ${Object.keys(route.operation.responses).join(', ')}`;
    const content = route.operation.responses[key]?.content;
    if (method === 'HEAD' || (content === undefined && response.body === '')) return undefined;
    if (content === undefined) return `${said}: the document gives this status no body; the body: ${excerpt(response.body)}`;
    if (!(mediaType in content)) return `${said}: the document lists only ${Object.keys(content).join(', ')}`;
    if (!isJson(mediaType) || content[mediaType]?.schema === undefined) return undefined;
    const schemaAt = pointer('paths', route.template, route.method.toLowerCase(), 'responses', key, 'content', mediaType, 'schema');
    return this.bodyViolation(said, response, this.validator(schemaAt));
  }

  private routeOf(method: string, path: string): Route | undefined {
    return this.routes.find((route) => route.method === method && route.pattern.test(path));
  }

  private validator(at: string): ValidateFunction {
    let validate = this.validators.get(at);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#/${at}` });
      this.validators.set(at, validate);
    }
    return validate;
  }

  private bodyViolation(said: string, response: LightMyRequestResponse, validate: ValidateFunction): string | undefined {
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return `${said}: the body is not JSON: ${excerpt(response.body)}`;
    }
    if (validate(body)) return undefined;
    return `${said}: the body does not match the document: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}; the body: ${excerpt(response.body)}`;
  }
}

/**
 * Checks every response `http.inject` returns against the OpenAPI document the API serves: a
 * response the document does not describe fails the request, and so the test that made it,
 * naming the route, the status and what does not match.
 */
export function checkResponsesAgainstDocument(http: FastifyInstance): void {
  const inject = http.inject.bind(http);
  let contract: Promise<OpenApiContract> | undefined;
  const checked = async (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const response = await inject(options);
    contract ??= OpenApiContract.served(inject);
    const violation = (await contract).violation(response);
    if (violation !== undefined) throw new Error(`The response breaks the OpenAPI document: ${violation}`);
    return response;
  };
  // The chain (`inject()`) and callback forms stay as they are; the tests use the promise form.
  http.inject = ((options?: InjectOptions | string, callback?: unknown) =>
    options === undefined || callback !== undefined
      ? (inject as (...args: unknown[]) => unknown)(options, callback)
      : checked(options)) as FastifyInstance['inject'];
}

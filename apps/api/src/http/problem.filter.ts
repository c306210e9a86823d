import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Busy } from '@app/contact-service';
import {
  ApprovalBypassForbidden,
  ContactAlreadyExists,
  ContactIsDeleted,
  ContactIsErased,
  ContactNotFound,
  ContactRejected,
  formatAtom,
  GrantNotFound,
  StaleVersion,
} from '@app/contacts';
import { InvalidCredentials, TooManyAttempts } from '@app/contact-service';
import { PgError } from '@app/database';
import { ConcurrencyError, UnknownEventType } from '@app/event-store';
import { RoleExists } from '@app/roles';
import { problem, ProblemException, type Problem } from './problem.js';

/** Fastify's own refusals, before a route runs, by error code. */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'send the body as application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', 'the body is larger than 1 MiB'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed_json', 'the body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'the body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'Content-Length does not match the body'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type', 'the Content-Type header is not valid'],
  FST_ERR_BAD_URL: [400, 'bad_url', 'the URL is not validly encoded'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long', 'a part of the URL is too long'],
};

/** Refusals Nest and Fastify raise as plain HTTP exceptions. */
const HTTP_STATUSES: Record<number, [string, string]> = {
  400: ['bad_request', 'the request is malformed'],
  404: ['not_found', 'no such route'],
  405: ['method_not_allowed', 'this route does not take that method'],
  413: ['body_too_large', 'the body is larger than 1 MiB'],
  415: ['unsupported_media_type', 'send the body as application/json'],
};

/**
 * Postgres out of connections or resources (class 53), shutting down or starting (57P01–57P03),
 * a broken connection (class 08), or no route to it: the request was fine, the service is not. A
 * 503 with Retry-After, never a 500.
 */
function isUnavailable(code: string): boolean {
  return /^(53\d{3}|57P0[1-3]|08\d{3})$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code);
}

/** Turns whatever a request threw into a problem document; only the unforeseen is a 500, and it is logged. */
export function toProblem(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof ProblemException) return { problem: error.problem, headers: error.headers };
  if (error instanceof ContactRejected) {
    const status = error.kind === 'conflict' ? 409 : 422;
    const errors = error.errors.map((e) => ({ pointer: e.field, code: e.code, message: e.message }));
    const detail =
      status === 409 ? 'the request conflicts with the current state of the contacts; see errors' : 'the contact breaks a rule; see errors';
    return { problem: problem(status, errors[0]?.code ?? 'invalid', detail, errors), headers: {} };
  }
  if (error instanceof ApprovalBypassForbidden) {
    const errors = error.errors.map((e) => ({ pointer: e.field, code: e.code, message: e.message }));
    return {
      problem: problem(
        403,
        'insufficient_scope',
        "activating a grant without its role's approval needs the scope roles; see errors",
        errors,
      ),
      headers: { 'www-authenticate': 'Bearer realm="contacts", error="insufficient_scope", scope="roles"' },
    };
  }
  if (error instanceof StaleVersion) {
    return {
      problem: problem(412, 'stale_version', `the contact is at version ${error.actual}; read it again and retry`, [], {
        currentVersion: error.actual,
      }),
      headers: { etag: `"${error.actual}"` },
    };
  }
  if (error instanceof InvalidCredentials) {
    // One body for every failure of a sign-in: nothing in it tells which check failed.
    return {
      problem: problem(401, 'invalid_credentials', 'the email or the password is wrong', [
        { pointer: '', code: 'invalid_credentials', message: 'no user with this email has this password' },
      ]),
      headers: {},
    };
  }
  if (error instanceof TooManyAttempts) {
    const seconds = error.retryAfterSeconds;
    return {
      problem: problem(429, 'too_many_attempts', `too many failed sign-ins for this email; retry in ${seconds} s`, [
        { pointer: '/email', code: 'too_many_attempts', message: `this email is locked for ${seconds} s` },
      ]),
      headers: { 'retry-after': String(seconds) },
    };
  }
  if (error instanceof ContactNotFound) return { problem: problem(404, 'not_found', 'no contact has this id'), headers: {} };
  if (error instanceof ContactIsErased) return { problem: contactErased(error.erasedAt), headers: {} };
  if (error instanceof ContactIsDeleted) return { problem: contactDeleted(error.deletedAt), headers: {} };
  if (error instanceof GrantNotFound) {
    return { problem: problem(404, 'grant_not_found', `the contact holds no grant of the access role "${error.reference}"`), headers: {} };
  }
  if (error instanceof ContactAlreadyExists || error instanceof ConcurrencyError) {
    return { problem: problem(409, 'conflict', 'the contact changed while the request ran; retry it'), headers: {} };
  }
  if (error instanceof UnknownEventType) {
    // A newer release wrote an event this one cannot fold: during a rolling upgrade, until every
    // replica runs the newer release. Reads of the read table still answer.
    return {
      problem: problem(503, 'upgrade_in_progress', 'the contact was changed by a newer version of the service; retry shortly'),
      headers: { 'retry-after': '5' },
    };
  }
  if (error instanceof RoleExists) {
    return {
      problem: problem(409, 'role_exists', error.message, [{ pointer: '/role/reference', code: 'role_exists', message: error.message }]),
      headers: {},
    };
  }
  if (error instanceof Busy) {
    return {
      problem: problem(503, 'busy', 'the service has more work waiting than it can do in a few seconds; retry later'),
      headers: { 'retry-after': String(error.retryAfterSeconds) },
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === PgError.lockNotAvailable) {
    return {
      problem: problem(503, 'busy', 'what this request needs is locked by other work; retry shortly'),
      headers: { 'retry-after': '1' },
    };
  }
  if (code === PgError.queryCanceled) {
    return { problem: problem(503, 'timeout', 'the database took too long to answer; retry shortly'), headers: { 'retry-after': '2' } };
  }
  if (typeof code === 'string' && isUnavailable(code)) {
    return { problem: problem(503, 'unavailable', 'the database is busy or unreachable; retry shortly'), headers: { 'retry-after': '1' } };
  }
  if (typeof code === 'string' && code in FASTIFY_ERRORS) {
    const [status, slug, detail] = FASTIFY_ERRORS[code]!;
    return { problem: problem(status, slug, detail), headers: {} };
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return { problem: problem(400, 'malformed_json', 'the body is not valid JSON'), headers: {} };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 400 && /JSON/i.test(error.message)) {
      return {
        problem: problem(400, 'malformed_json', 'the body is not valid JSON, or it uses a __proto__ or constructor key'),
        headers: {},
      };
    }
    const [slug, detail] = HTTP_STATUSES[status] ?? ['http_error', error.message];
    return { problem: problem(status, slug, detail), headers: {} };
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { problem: problem(status, 'bad_request', (error as Error).message), headers: {} };
  }
  return { problem: problem(500, 'internal', 'something went wrong on our side; it has been logged'), headers: {} };
}

/** 410 for any request on a deleted contact (DESIGN §10): it is gone, not unknown. */
export function contactDeleted(deletedAt: string | Date): Problem {
  return problem(410, 'contact_deleted', `the contact was deleted at ${formatAtom(deletedAt)}`, [
    { pointer: '', code: 'contact_deleted', message: 'the contact was deleted; its history stays for auditors' },
  ]);
}

/** 410 for any request on an erased contact (DESIGN §10): the person's data is gone for good. */
export function contactErased(erasedAt: string | Date): Problem {
  return problem(410, 'contact_erased', `the person's data was erased at ${formatAtom(erasedAt)}`, [
    { pointer: '', code: 'contact_erased', message: "the person's data was erased; its history keeps only who did what, and when" },
  ]);
}

export function sendProblem(reply: FastifyReply, error: unknown, logger: Logger): void {
  const { problem: body, headers } = toProblem(error);
  if (body.status >= 500) logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  void reply
    .status(body.status)
    .headers(headers)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(reply, error, this.logger);
  }
}

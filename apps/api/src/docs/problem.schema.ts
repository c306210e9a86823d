import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';

/** One refused field of a problem document (DESIGN §6 Errors). */
export class ProblemErrorSchema {
  @ApiProperty({ type: String, description: 'JSON pointer into the request', example: '/contact/email' })
  pointer!: string;

  @ApiProperty({ type: String, description: 'stable machine-readable code', example: 'email_taken' })
  code!: string;

  @ApiProperty({ type: String, description: 'for people', example: 'a user with this email exists' })
  message!: string;
}

/** RFC 9457 problem document: the body of every refusal, as `application/problem+json`. */
export class ProblemSchema {
  @ApiProperty({ type: String, description: 'a URI reference naming the kind of problem', example: '/problems/email_taken' })
  type!: string;

  @ApiProperty({ type: String, example: 'Conflict' })
  title!: string;

  @ApiProperty({ type: Number, example: 409 })
  status!: number;

  @ApiProperty({ type: String, example: 'the request conflicts with the current state of the contacts; see errors' })
  detail!: string;

  @ApiProperty({ type: [ProblemErrorSchema] })
  errors!: ProblemErrorSchema[];

  // Extension members some refusals carry (RFC 9457 §3.2).
  @ApiPropertyOptional({ type: Number, description: '412: the version the contact is at now', example: 4 })
  currentVersion?: number;

  @ApiPropertyOptional({ type: String, description: '/oauth/token: the RFC 6749 error code', example: 'invalid_client' })
  error?: string;

  @ApiPropertyOptional({ type: String, description: '/oauth/token: the RFC 6749 error description' })
  error_description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "/health: each dependency's status",
    example: { postgres: { status: 'down' }, queue: { status: 'up', backend: 'redis' } },
  })
  checks?: Record<string, unknown>;
}

/** What each refusal status means across the API. */
const MEANINGS: Record<number, string> = {
  400: 'malformed request: invalid JSON, a bad header (`If-Match`, `Idempotency-Key`)',
  401: 'no bearer token, or an invalid or expired one',
  403: 'the token lacks the scope this route needs (`insufficient_scope`)',
  404: 'no such contact, grant or route',
  409: 'conflict with current state, e.g. `email_taken`, `role_exists`, `grant_not_pending`',
  410: 'the contact was deleted (`contact_deleted`; its history stays for auditors) or its data erased (`contact_erased`)',
  412: '`If-Match` names a version the contact is no longer at (`stale_version`)',
  413: 'the body is over 1 MiB',
  415: 'the body is not `application/json`',
  422: 'validation: the request breaks a rule; `errors` names each field (also `idempotency_key_reused`)',
  429: 'rate limit: retry after `Retry-After` seconds',
  414: 'a part of the URL is too long',
  503: 'a dependency is unreachable',
};

/** Documents refusals of an operation as problem documents, one response per status. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemSchema, ProblemErrorSchema),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: MEANINGS[status] ?? 'refused',
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemSchema) } } },
      }),
    ),
  );
}

import { HttpException } from '@nestjs/common';

/** One refused field: `pointer` is a JSON pointer into the request (`/contact/email`). */
export interface ProblemError {
  pointer: string;
  code: string;
  message: string;
}

/** An RFC 9457 problem document, the body of every refusal. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: ProblemError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(
  status: number,
  slug: string,
  detail: string,
  errors: ProblemError[] = [],
  extra: Record<string, unknown> = {},
): Problem {
  return { type: `/problems/${slug}`, title: TITLES[status] ?? 'Error', status, detail, errors, ...extra };
}

/** Thrown anywhere in a request to refuse it with a problem document. */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem, problem.status);
  }

  static of(status: number, slug: string, detail: string, errors: ProblemError[] = []): ProblemException {
    return new ProblemException(problem(status, slug, detail, errors));
  }
}

import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ProblemException, type ProblemError } from './problem.js';

const MAX_DEPTH = 32;

/** Codes for class-validator's constraints where the decorator set no `context.code`. */
const CODES: Record<string, string> = {
  isDefined: 'required',
  isNotEmpty: 'required',
  isString: 'invalid_type',
  isBoolean: 'invalid_type',
  isObject: 'invalid_type',
  isArray: 'invalid_type',
  isInt: 'invalid_type',
  isEmail: 'invalid_email',
  maxLength: 'too_long',
  minLength: 'too_short',
  arrayMaxSize: 'too_many',
  whitelistValidation: 'unknown_field',
  nestedValidation: 'invalid_type',
  min: 'out_of_range',
  max: 'out_of_range',
};

/** A DTO may name the code for a property it does not know (`static unknownFieldCode`), e.g. tags → `invalid_tags`. */
function unknownFieldCode(error: ValidationError, constraint: string): string | undefined {
  if (constraint !== 'whitelistValidation') return undefined;
  return (error.target?.constructor as { unknownFieldCode?: string } | undefined)?.unknownFieldCode;
}

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function flatten(errors: ValidationError[], parent: string, out: ProblemError[]): ProblemError[] {
  for (const error of errors) {
    const pointer = `${parent}/${escapePointer(error.property)}`;
    const constraints = Object.entries(error.constraints ?? {});
    // One message a field, the most basic: a missing value is `required`, whatever else it fails;
    // otherwise the last constraint class-validator reports, as before.
    const first = constraints.find(([name]) => name === 'isDefined') ?? constraints.at(-1);
    if (first) {
      const [name, message] = first;
      const context = error.contexts?.[name] as { code?: string } | undefined;
      out.push({
        pointer,
        code: context?.code ?? unknownFieldCode(error, name) ?? CODES[name] ?? name,
        message: message.replace(/^(\S+ )?(property )?/, ''),
      });
    }
    if (error.children?.length) flatten(error.children, pointer, out);
  }
  return out;
}

/**
 * Keys every object already has (`constructor`, `toString`, `__proto__`…). class-transformer
 * skips them without a word, so the unknown-field check never sees them and a request carrying
 * one would be accepted as if the key were not there.
 */
const INHERITED_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Refuses strings Postgres cannot store or that are not text (NUL, unpaired surrogates), keys
 * named like a member of every object, and nesting deeper than any contact needs, pointing at
 * where they are.
 */
export function inspectJson(value: unknown, pointer = '', depth = 0): ProblemError | null {
  if (depth > MAX_DEPTH) return { pointer, code: 'too_deep', message: `nesting deeper than ${MAX_DEPTH} levels` };
  if (typeof value === 'string') {
    return value.includes('\u0000') || !value.isWellFormed()
      ? { pointer, code: 'invalid_characters', message: 'contains a NUL character or an unpaired surrogate' }
      : null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    const at = `${pointer}/${escapePointer(key)}`;
    if (key.includes('\u0000') || !key.isWellFormed()) {
      return { pointer: at, code: 'invalid_characters', message: 'a key contains a NUL character or an unpaired surrogate' };
    }
    if (INHERITED_KEYS.has(key)) return { pointer: at, code: 'unknown_field', message: `${key} is not a field of this request` };
    const found = inspectJson(child, at, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Checks a JSON body against a DTO class; refuses with one 422 listing every bad field. */
export function validateBody<T extends object>(type: ClassConstructor<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw ProblemException.of(422, 'invalid_body', 'the body must be a JSON object', [
      { pointer: '', code: 'invalid_type', message: 'must be a JSON object' },
    ]);
  }
  const bad = inspectJson(body);
  if (bad) throw ProblemException.of(422, bad.code, bad.message, [bad]);
  return validateObject(type, body);
}

export function validateObject<T extends object>(type: ClassConstructor<T>, plain: object, parent = ''): T {
  const instance = plainToInstance(type, plain, { enableImplicitConversion: false });
  // Every constraint here is synchronous; the sync form skips a promise per constraint.
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    const list = flatten(errors, parent, []);
    throw ProblemException.of(422, list[0]?.code ?? 'invalid', 'the request has invalid fields; see errors', list);
  }
  return instance;
}

/** Checks a query string against a DTO class, refusing NUL and unpaired surrogates first (Postgres cannot take them). */
export function validateQuery<T extends object>(type: ClassConstructor<T>, query: object): T {
  const bad = inspectJson(query, '/query');
  if (bad) throw ProblemException.of(422, bad.code, bad.message, [bad]);
  return validateObject(type, query, '/query');
}

import { ApprovalBypassForbidden, ContactIsDeleted, ContactIsErased, fieldError } from '@app/contacts';
import { UnknownEventType } from '@app/event-store';
import { toProblem } from './problem.filter.js';

describe(toProblem.name, () => {
  it.each([
    ['53300', 'too many connections'],
    ['57P01', 'the server is shutting down'],
    ['08006', 'the connection broke'],
    ['ECONNREFUSED', 'Postgres is not listening'],
  ])('answers a database that cannot serve (%s: %s) with 503 and Retry-After, not 500', (code, message) => {
    const sut = toProblem(Object.assign(new Error(message), { code }));

    expect(sut.problem.status).toBe(503);
    expect(sut.headers['retry-after']).toBe('1');
    expect(JSON.stringify(sut.problem)).not.toContain(message);
  });

  it.each([
    ['55P03', 'busy', 'canceling statement due to lock timeout'],
    ['57014', 'timeout', 'canceling statement due to statement timeout'],
  ])('answers a statement that waited too long (%s) with 503 %s and Retry-After, not 500', (code, slug, message) => {
    const sut = toProblem(Object.assign(new Error(message), { code }));

    expect(sut.problem.status).toBe(503);
    expect(sut.problem.type).toBe(`/problems/${slug}`);
    expect(Number(sut.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.stringify(sut.problem)).not.toContain(message);
  });

  it('answers an event of a type a newer release wrote with 503 upgrade_in_progress and Retry-After', () => {
    const sut = toProblem(new UnknownEventType('ContactMerged'));

    expect(sut.problem).toMatchObject({ status: 503, type: '/problems/upgrade_in_progress' });
    expect(Number(sut.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('still answers an error it does not know with 500', () => {
    expect(toProblem(Object.assign(new Error('boom'), { code: '42P01' })).problem.status).toBe(500);
  });

  it('answers a bypass of approval the client may not decide with 403 insufficient_scope, pointing at each status', () => {
    const sut = toProblem(
      new ApprovalBypassForbidden([fieldError('/contact/accessRoles/2/status', 'insufficient_scope', 'needs the scope roles')]),
    );

    expect(sut.problem).toMatchObject({
      status: 403,
      type: '/problems/insufficient_scope',
      errors: [{ pointer: '/contact/accessRoles/2/status', code: 'insufficient_scope', message: 'needs the scope roles' }],
    });
    expect(sut.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
  });

  it('answers a command on an erased contact with 410 contact_erased, naming the moment', () => {
    const sut = toProblem(new ContactIsErased('3f1c2a9e-5b7d-4e8f-9a01-23456789abcd', '2026-01-15T12:00:00.000Z'));

    expect(sut.problem).toMatchObject({
      status: 410,
      title: 'Gone',
      type: '/problems/contact_erased',
      detail: "the person's data was erased at 2026-01-15T12:00:00+00:00",
      errors: [{ pointer: '', code: 'contact_erased' }],
    });
  });

  it('answers a command on a deleted contact with 410 contact_deleted, naming the moment', () => {
    const sut = toProblem(new ContactIsDeleted('3f1c2a9e-5b7d-4e8f-9a01-23456789abcd', '2026-01-15T12:00:00.000Z'));

    expect(sut.problem).toMatchObject({
      status: 410,
      title: 'Gone',
      type: '/problems/contact_deleted',
      detail: 'the contact was deleted at 2026-01-15T12:00:00+00:00',
      errors: [{ pointer: '', code: 'contact_deleted' }],
    });
  });
});

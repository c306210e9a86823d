import { REDACTED, redactSecrets } from './contact.audit.js';

describe(redactSecrets.name, () => {
  it.each([
    ['PasswordSet', { passwordHash: '$2b$12$abc' }, { passwordHash: REDACTED }],
    [
      'InviteIssued',
      { tokenHash: 'f00d', expiresAt: '2026-01-22T10:00:00+00:00' },
      { tokenHash: REDACTED, expiresAt: '2026-01-22T10:00:00+00:00' },
    ],
    ['InviteSent', { tokenHash: 'f00d' }, { tokenHash: REDACTED }],
    ['InviteAccepted', { tokenHash: 'f00d' }, { tokenHash: REDACTED }],
  ])('hides the secret of %s and keeps the rest', (type, data, shown) => {
    expect(redactSecrets(type, data)).toEqual(shown);
  });

  it('leaves events without secrets as they are, and never changes what it was given', () => {
    const data = { passwordHash: 'not a secret here', firstname: 'Ann' };

    expect(redactSecrets('ContactUpdated', data)).toBe(data);
    redactSecrets('PasswordSet', data);
    expect(data.passwordHash).toBe('not a secret here');
  });
});

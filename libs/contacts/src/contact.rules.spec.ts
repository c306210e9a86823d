import { PASSWORD_MAX_BYTES, formatAtom, looksLikeHtml, normalizeEmail, parseAtom, passwordProblems } from './contact.rules.js';

const codes = (password: string): string[] => passwordProblems(password).map((p) => p.code);

describe(passwordProblems.name, () => {
  const sut = passwordProblems;

  it('accepts letters and numbers of 8 characters or more', () => {
    expect(sut('abcdefg1')).toEqual([]);
    expect(sut('correct horse battery 9')).toEqual([]);
  });

  it('refuses fewer than 8 characters at /password', () => {
    expect(sut('abc1234')).toEqual([{ field: '/contact/password', code: 'password_too_short', message: expect.any(String) }]);
  });

  it('counts characters, not UTF-16 code units, towards the minimum', () => {
    // 2 letters and 3 emoji: 8 UTF-16 code units, but only 5 characters
    expect(codes('a1😀😀😀')).toEqual(['password_too_short']);
  });

  it('accepts exactly 8 characters', () => {
    expect(codes('passwor1')).toEqual([]);
  });

  it('accepts exactly 72 bytes', () => {
    const password = `${'a'.repeat(PASSWORD_MAX_BYTES - 1)}1`;
    expect(Buffer.byteLength(password)).toBe(72);
    expect(codes(password)).toEqual([]);
  });

  it('refuses more than 72 bytes', () => {
    expect(codes(`${'a'.repeat(72)}1`)).toEqual(['password_too_long']);
  });

  it('measures the limit in UTF-8 bytes: 30 characters can be too long', () => {
    const password = `${'密'.repeat(28)}12`;
    expect(password.length).toBe(30);
    expect(Buffer.byteLength(password)).toBeGreaterThan(72);
    expect(codes(password)).toEqual(['password_too_long']);
  });

  it('accepts multibyte letters within 72 bytes', () => {
    expect(codes('pässwörd1')).toEqual([]);
  });

  it.each([
    ['no digit', 'abcdefgh'],
    ['no letter', '12345678'],
    ['only symbols', '!@#$%^&*()'],
    ['symbols and digits only', '!!!!1234'],
  ])('refuses a password with %s as too weak', (_, password) => {
    expect(codes(password)).toEqual(['password_too_weak']);
  });

  it('puts the problem at the field it is given', () => {
    expect(sut('short', '/contact/password').map((p) => p.field)).toEqual(['/contact/password']);
  });
});

describe(normalizeEmail.name, () => {
  const sut = normalizeEmail;

  it('trims and lower-cases', () => {
    expect(sut('  Bob.Bobsworth@Example.COM \n')).toBe('bob.bobsworth@example.com');
  });

  it('leaves a normalized email alone', () => {
    expect(sut('bob@example.com')).toBe('bob@example.com');
  });
});

describe(looksLikeHtml.name, () => {
  const sut = looksLikeHtml;

  it.each(['<b>Acme</b>', 'Acme</b>', '<script>alert(1)</script>', '<!-- x -->Acme', 'Smith &amp; Sons', 'Acme &#169;'])(
    'finds markup in %p',
    (value) => {
      expect(sut(value)).toBe(true);
    },
  );

  it.each(['Smith & Sons', 'AT&T', 'Bobsworth Ltd.', '1 < 2', 'A > B', 'A < B Ltd'])('finds no markup in %p', (value) => {
    expect(sut(value)).toBe(false);
  });
});

describe(parseAtom.name, () => {
  const sut = parseAtom;

  it.each([
    ['2030-01-01T00:00:00+00:00', '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T00:00:00.5+00:00', '2030-01-01T00:00:00.500Z'],
    ['2030-01-01T00:00:00.123456Z', '2030-01-01T00:00:00.123Z'],
    ['2030-01-01T05:30:00+05:30', '2030-01-01T00:00:00.000Z'],
    ['2029-12-31T19:00:00-05:00', '2030-01-01T00:00:00.000Z'],
    ['2028-02-29T12:00:00+00:00', '2028-02-29T12:00:00.000Z'],
  ])('reads %s as %s', (value, instant) => {
    expect(sut(value)?.toISOString()).toBe(instant);
  });

  it('accepts the first day of a month behind an offset that puts it on the previous day in UTC', () => {
    expect(sut('2030-03-01T01:00:00+05:00')?.toISOString()).toBe('2030-02-28T20:00:00.000Z');
  });

  it.each([
    ['a day that does not exist', '2030-02-31T00:00:00+00:00'],
    ['29 February in a common year', '2029-02-29T00:00:00+00:00'],
    ['a month that does not exist', '2030-13-01T00:00:00+00:00'],
    ['an hour that does not exist', '2030-01-01T25:00:00+00:00'],
    ['no offset', '2030-01-01T00:00:00'],
    ['a date only', '2030-01-01'],
    ['a space instead of T', '2030-01-01 00:00:00+00:00'],
    ['an offset without a colon', '2030-01-01T00:00:00+0000'],
    ['garbage', 'next tuesday'],
    ['a year past 9999 once in UTC', '9999-12-31T23:59:59-12:00'],
    ['an empty string', ''],
    ['a timestamp', '1893456000'],
  ])('refuses %s (%p)', (_, value) => {
    expect(sut(value)).toBeNull();
  });
});

describe(formatAtom.name, () => {
  const sut = formatAtom;

  it('writes UTC with a +00:00 offset and no milliseconds when there are none', () => {
    expect(sut(new Date('2030-01-01T05:30:00+05:30'))).toBe('2030-01-01T00:00:00+00:00');
  });

  it('keeps non-zero milliseconds so an instant is never moved earlier', () => {
    expect(sut(new Date('2030-01-01T00:00:00.250Z'))).toBe('2030-01-01T00:00:00.250+00:00');
  });

  it('accepts a date string', () => {
    expect(sut('2026-01-15T10:00:00.000Z')).toBe('2026-01-15T10:00:00+00:00');
  });

  it('writes what parseAtom reads back to the same instant', () => {
    const instant = new Date('2030-06-15T12:34:56.789Z');
    expect(parseAtom(sut(instant))?.getTime()).toBe(instant.getTime());
  });
});

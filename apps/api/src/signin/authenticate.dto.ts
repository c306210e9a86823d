import { IsDefined, IsString, MaxLength } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';

/** Longer than any email (RFC 5321 allows 254): a limit on work, not a rule a real address meets. */
const EMAIL_MAX = 320;
/** Far above bcrypt's 72 bytes (which no password set here exceeds): a limit on work, no more. */
const PASSWORD_MAX = 1024;

/** `POST /api/contacts/authenticate.json` (DESIGN §11). */
export class AuthenticateRequest {
  @ApiProperty({ type: String, maxLength: EMAIL_MAX, description: 'compared trimmed and lower-cased', example: 'ann@example.com' })
  @IsDefined({ message: 'email is required' })
  @IsString({ message: 'email must be a string' })
  @MaxLength(EMAIL_MAX, { message: `email must be at most ${EMAIL_MAX} characters` })
  email!: string;

  @ApiProperty({ type: String, maxLength: PASSWORD_MAX, format: 'password', example: 'secret123' })
  @IsDefined({ message: 'password is required' })
  @IsString({ message: 'password must be a string' })
  @MaxLength(PASSWORD_MAX, { message: `password must be at most ${PASSWORD_MAX} characters` })
  password!: string;
}

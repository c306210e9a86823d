import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength, MinLength } from 'class-validator';

export const REASON_MAX = 500;

/** `POST /api/contacts/{id}/erase.json` (DESIGN §10). */
export class EraseContactRequest {
  @ApiProperty({
    type: String,
    minLength: 1,
    maxLength: REASON_MAX,
    description: 'why the data is erased; kept on `ContactErased` for auditors, so it names no personal value',
    example: 'erasure request of 2026-01-15 (Art. 17)',
  })
  @IsDefined({ message: 'reason is required' })
  @IsString({ message: 'reason must be a string' })
  @MinLength(1, { message: 'reason must not be empty' })
  @MaxLength(REASON_MAX, { message: `reason must be at most ${REASON_MAX} characters` })
  reason!: string;
}

import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { CONTACT_TYPES, type ContactType } from '@app/contacts';

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value);

export class ListContactsQuery {
  @ApiPropertyOptional({ type: String, format: 'email', description: 'contacts with this email (trimmed, case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @ApiPropertyOptional({ enum: CONTACT_TYPES })
  @IsOptional()
  @IsIn(CONTACT_TYPES, { message: 'type must be one of user, guest, branch, recipient', context: { code: 'type_not_allowed' } })
  type?: ContactType;

  @ApiPropertyOptional({ type: String, maxLength: 100, description: 'contacts carrying this tag' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tag?: string;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 1_000_000, default: 1 })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'page must be a whole number from 1', context: { code: 'invalid_page' } })
  @Min(1, { message: 'page must be a whole number from 1', context: { code: 'invalid_page' } })
  @Max(1_000_000, { message: 'page must be at most 1000000', context: { code: 'invalid_page' } })
  page?: number;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be a whole number from 1 to 100', context: { code: 'invalid_limit' } })
  @Min(1, { message: 'limit must be a whole number from 1 to 100', context: { code: 'invalid_limit' } })
  @Max(100, { message: 'limit must be a whole number from 1 to 100', context: { code: 'invalid_limit' } })
  limit?: number;
}

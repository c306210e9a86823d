import { IsIn, IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { CONTACT_EVENT_TYPES } from '@app/contacts';

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value);

/** `GET /api/events.json?after=&limit=&type=&streamId=` */
export class EventsFeedQuery {
  @ApiPropertyOptional({
    type: String,
    pattern: '^\\d{1,18}$',
    description: 'the last position you have (0 or absent: from the start)',
    example: '0',
  })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'after must be the position of an event (a whole number), or 0', context: { code: 'invalid_after' } })
  after?: string;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be a whole number from 1 to 1000', context: { code: 'invalid_limit' } })
  @Min(1, { message: 'limit must be a whole number from 1 to 1000', context: { code: 'invalid_limit' } })
  @Max(1000, { message: 'limit must be a whole number from 1 to 1000', context: { code: 'invalid_limit' } })
  limit?: number;

  @ApiPropertyOptional({ enum: CONTACT_EVENT_TYPES, description: 'only events of this type' })
  @IsOptional()
  @IsIn(CONTACT_EVENT_TYPES, { message: `type must be one of ${CONTACT_EVENT_TYPES.join(', ')}`, context: { code: 'invalid_type' } })
  type?: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', description: "only this contact's events" })
  @IsOptional()
  @IsUUID('all', { message: 'streamId must be a contact id', context: { code: 'invalid_stream_id' } })
  streamId?: string;
}

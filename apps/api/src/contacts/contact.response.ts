import { ApiExtraModels, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CONTACT_TYPES } from '@app/contacts';
import { ApiNullableModel } from '../docs/nullable.js';

/**
 * The OpenAPI shapes of what the contact routes answer (DESIGN §6 "A contact as returned"). The
 * controllers return the domain's `ContactView`; these classes only document it.
 */
const ATOM = {
  type: String,
  format: 'date-time',
  description: 'ATOM (RFC 3339 with offset)',
  example: '2026-01-31T12:00:00+00:00',
} as const;

export class AddressResponse {
  @ApiProperty({ type: String, format: 'uuid', description: 'a new id whenever the address is sent' }) id!: string;
  @ApiProperty({ type: String, nullable: true, description: "the contact's unless given" }) firstname!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "the contact's unless given" }) lastname!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "the contact's unless given" }) company!: string | null;
  @ApiProperty({ type: String, nullable: true }) line1!: string | null;
  @ApiProperty({ type: String, nullable: true }) line2!: string | null;
  @ApiProperty({ type: String, nullable: true }) line3!: string | null;
  @ApiProperty({ type: String, nullable: true }) city!: string | null;
  @ApiProperty({ type: String, nullable: true }) region!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'ISO 3166-1 alpha-2', example: 'GB' }) countryCode!: string | null;
  @ApiProperty({ type: String, nullable: true }) zip!: string | null;
}

export class AccessRoleResponse {
  @ApiProperty({ type: String, example: 'trade' }) reference!: string;
  @ApiProperty({ enum: ['active', 'pending'] }) status!: string;
  @ApiProperty({ ...ATOM, nullable: true, description: 'when the grant ends; never shown active after it' }) expires!: string | null;
  @ApiPropertyOptional({ enum: ['email_verification', 'admin_approval'], description: 'what a pending grant waits for' })
  pendingReason?: string;
}

export class TagsResponse {
  @ApiProperty({ type: [String], example: ['vip'] }) contact!: string[];
}

export class InviteResponse {
  @ApiProperty({ enum: ['pending', 'sent', 'accepted', 'expired'] }) status!: string;
  @ApiProperty(ATOM) expiresAt!: string;
}

@ApiExtraModels(AddressResponse, InviteResponse)
export class ContactResponse {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;
  @ApiProperty({ enum: CONTACT_TYPES }) type!: string;
  @ApiProperty({ type: String, nullable: true }) firstname!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastname!: string | null;
  @ApiProperty({ type: String, format: 'email' }) email!: string;
  @ApiProperty({ type: String, nullable: true }) company!: string | null;
  @ApiNullableModel(AddressResponse) address!: AddressResponse | null;
  @ApiProperty({ type: [AccessRoleResponse] }) accessRoles!: AccessRoleResponse[];
  @ApiProperty({ type: TagsResponse }) tags!: TagsResponse;
  @ApiProperty({ type: Boolean }) hasPassword!: boolean;
  @ApiNullableModel(InviteResponse, { description: 'the pending, sent, accepted or expired invite; null when none was issued' })
  invite!: InviteResponse | null;
  @ApiProperty({ type: Number, description: "the stream's version: the number of events the contact has; its ETag" }) version!: number;
  @ApiProperty(ATOM) created!: string;
  @ApiProperty(ATOM) updated!: string;
}

export class ContactEnvelope {
  @ApiProperty({ type: ContactResponse }) contact!: ContactResponse;
}

export class PaginationResponse {
  @ApiProperty({ type: Number }) page!: number;
  @ApiProperty({ type: Number }) limit!: number;
  @ApiProperty({ type: Number }) total!: number;
  @ApiProperty({ type: Number }) totalPages!: number;
}

export class ContactPageResponse {
  @ApiProperty({ type: [ContactResponse] }) contacts!: ContactResponse[];
  @ApiProperty({ type: PaginationResponse }) pagination!: PaginationResponse;
}

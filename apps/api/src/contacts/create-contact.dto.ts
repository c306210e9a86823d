import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsEmail,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { CONTACT_TYPES, type AccessRoleInput, type ContactInput, type ContactPatch, type ContactType } from '@app/contacts';
import { ApiNullableModel } from '../docs/nullable.js';

const NAME_MAX = 255;
const tags = { context: { code: 'invalid_tags' } };

/** An optional text field that may be null, for the OpenAPI document. */
const text = (
  description?: string,
  maxLength = NAME_MAX,
): { type: StringConstructor; nullable: true; maxLength: number; description?: string } => ({
  type: String,
  nullable: true,
  maxLength,
  ...(description === undefined ? {} : { description }),
});

export class AddressDto {
  /** Evance: an address sent with an id becomes a new address; the id is read and ignored. */
  @ApiPropertyOptional({ description: 'ignored: an address sent with an id becomes a new address with a new id' })
  @Allow()
  id?: unknown;

  @ApiPropertyOptional(text('inherited from the contact unless given')) @IsOptional() @IsString() @MaxLength(NAME_MAX) firstname?:
    string | null;
  @ApiPropertyOptional(text('inherited from the contact unless given')) @IsOptional() @IsString() @MaxLength(NAME_MAX) lastname?:
    string | null;
  @ApiPropertyOptional(text('inherited from the contact unless given')) @IsOptional() @IsString() @MaxLength(NAME_MAX) company?:
    string | null;
  @ApiPropertyOptional(text()) @IsOptional() @IsString() @MaxLength(NAME_MAX) line1?: string | null;
  @ApiPropertyOptional(text()) @IsOptional() @IsString() @MaxLength(NAME_MAX) line2?: string | null;
  @ApiPropertyOptional(text()) @IsOptional() @IsString() @MaxLength(NAME_MAX) line3?: string | null;
  @ApiPropertyOptional(text()) @IsOptional() @IsString() @MaxLength(NAME_MAX) city?: string | null;
  @ApiPropertyOptional(text()) @IsOptional() @IsString() @MaxLength(NAME_MAX) region?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, pattern: '^([A-Za-z]{2})?$', description: 'ISO 3166-1 alpha-2', example: 'GB' })
  @IsOptional()
  @IsString()
  @Matches(/^([A-Za-z]{2})?$/, {
    message: 'countryCode must be an ISO 3166-1 alpha-2 code such as GB',
    context: { code: 'invalid_country_code' },
  })
  countryCode?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 32 }) @IsOptional() @IsString() @MaxLength(32) zip?: string | null;
}

export class TagsDto {
  /** Evance: an object whose only property is `contact`; anything else in it is a bad tags value. */
  static readonly unknownFieldCode = 'invalid_tags';

  @ApiProperty({ type: [String], maxItems: 100, example: ['vip', 'newsletter'] })
  @IsDefined({ message: 'tags must be {"contact": [...]}', ...tags })
  @IsArray(tags)
  @ArrayMaxSize(100, tags)
  @IsString({ each: true, ...tags })
  @MaxLength(100, { each: true, ...tags })
  contact!: string[];
}

export class AccessRoleDto {
  /** true when the client sent the bare reference string */
  @Allow()
  fromString = false;

  @ApiProperty({ type: String, maxLength: 100, description: 'a role of the catalogue (GET /api/roles.json)', example: 'trade' })
  @IsDefined()
  @IsString()
  @MaxLength(100)
  reference!: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'a future ATOM date: the grant ends then' })
  @IsOptional()
  @IsString()
  expires?: string | null;

  @ApiPropertyOptional({
    enum: ['active', 'pending'],
    nullable: true,
    description: '"active" grants at once, whatever the role\'s approval method',
  })
  @IsOptional()
  @IsIn(['active', 'pending'], { message: 'status must be "active" or "pending"', context: { code: 'invalid_status' } })
  status?: 'active' | 'pending' | null;

  /** A grant as the API returns it may carry this; a client sending it back is not refused, and it is not input. */
  @Allow()
  pendingReason?: unknown;
}

/** A role is a reference string or an object; both become AccessRoleDto so each field can be checked. */
function toAccessRoles({ value }: { value: unknown }): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item: unknown) => {
    if (typeof item === 'string') return Object.assign(new AccessRoleDto(), { reference: item, fromString: true });
    if (item !== null && typeof item === 'object' && !Array.isArray(item))
      return Object.assign(plainToInstance(AccessRoleDto, item), { fromString: false });
    return item;
  });
}

/** The fields of a contact a client sends, shared by create and update. */
@ApiExtraModels(AddressDto, TagsDto)
abstract class ContactFieldsDto {
  @ApiPropertyOptional(text('required for users and guests; ignored for branches'))
  @IsOptional()
  @IsString()
  @MaxLength(NAME_MAX)
  firstname?: string | null;
  @ApiPropertyOptional(text('required for users and guests; ignored for branches'))
  @IsOptional()
  @IsString()
  @MaxLength(NAME_MAX)
  lastname?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'email',
    nullable: true,
    maxLength: 254,
    description: "required on create; unique among users, among branches and among recipients (and a recipient's may not be a user's)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  email?: string | null;

  // Length and markup are domain rules (checked in the domain, with their own codes).
  @ApiPropertyOptional({ ...text('required for branches; no HTML', 200) })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  company?: string | null;

  // Past 72 bytes the domain refuses a password; this only bounds what is read, with the same code.
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    writeOnly: true,
    minLength: 8,
    description: 'users only; required on create unless `invite` is true: 8 characters or more, letters and numbers, at most 72 bytes',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1_000, { message: 'password must be at most 72 bytes in UTF-8', context: { code: 'password_too_long' } })
  password?: string | null;

  @ApiNullableModel(AddressDto, { required: false })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AddressDto)
  address?: AddressDto | null;

  @ApiPropertyOptional({
    type: 'array',
    nullable: true,
    maxItems: 50,
    items: { oneOf: [{ type: 'string', description: 'a role reference' }, { $ref: getSchemaPath(AccessRoleDto) }] },
    description: "users only: a reference (the role's approval method applies) or a grant object; in an update it replaces the whole set",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true, message: 'each access role must be a reference or an object with a reference' })
  @Transform(toAccessRoles)
  accessRoles?: AccessRoleDto[] | null;

  @ApiNullableModel(TagsDto, { required: false, description: 'an object whose only property is `contact`' })
  @IsOptional()
  @IsObject(tags)
  @ValidateNested(tags)
  @Type(() => TagsDto)
  tags?: TagsDto | null;

  // Fields of a contact as the API returns it: a client may send one back; they are not input.
  @Allow() id?: unknown;
  @Allow() version?: unknown;
  @Allow() created?: unknown;
  @Allow() updated?: unknown;
  @Allow() hasPassword?: unknown;
  @Allow() invite?: unknown;

  /** The fields the client sent (an absent field stays absent: an update changes only those). */
  protected sentFields(): ContactPatch & { password?: string | null } {
    const fields: ContactPatch & { password?: string | null } = {};
    if ('firstname' in this) fields.firstname = this.firstname;
    if ('lastname' in this) fields.lastname = this.lastname;
    if ('email' in this) fields.email = this.email;
    if ('company' in this) fields.company = this.company;
    if ('password' in this) fields.password = this.password;
    if ('address' in this) fields.address = this.address && { ...this.address };
    if ('accessRoles' in this) {
      fields.accessRoles = this.accessRoles?.map((r): AccessRoleInput =>
        r.fromString ? r.reference : { reference: r.reference, expires: r.expires, status: r.status },
      );
    }
    if ('tags' in this) fields.tags = this.tags && { contact: this.tags.contact };
    return fields;
  }
}

export class ContactDto extends ContactFieldsDto {
  @ApiProperty({ enum: CONTACT_TYPES, description: 'anything else (`hq`) is refused' })
  @IsDefined()
  @IsString({ context: { code: 'type_not_allowed' } })
  @IsIn(CONTACT_TYPES, { message: 'type must be one of user, guest, branch, recipient', context: { code: 'type_not_allowed' } })
  type!: ContactType;

  toInput(): ContactInput & { password?: string | null } {
    return { ...this.sentFields(), type: this.type };
  }
}

/** An update: any subset of the fields; `type` may be sent but not changed. */
export class ContactPatchDto extends ContactFieldsDto {
  @ApiPropertyOptional({
    enum: CONTACT_TYPES,
    description: 'may be sent back as read; a change of type is refused (`type_change_not_allowed`)',
  })
  @IsOptional()
  @IsString({ context: { code: 'type_not_allowed' } })
  type?: string;

  toPatch(): ContactPatch & { password?: string | null } {
    return { ...this.sentFields(), ...('type' in this ? { type: this.type } : {}) };
  }
}

export class UpdateContactRequest {
  @ApiProperty({ type: () => ContactPatchDto, description: 'the fields to change; absent fields stay as they are' })
  @IsDefined({ message: 'contact is required' })
  @IsObject({ message: 'contact must be an object' })
  @ValidateNested()
  @Type(() => ContactPatchDto)
  contact!: ContactPatchDto;

  @ApiPropertyOptional({ type: Boolean, nullable: true, description: 'users only: issue a new invite (the earlier link stops working)' })
  @IsOptional()
  @IsBoolean({ message: 'invite must be true or false' })
  invite?: boolean | null;
}

export class CreateContactRequest {
  @ApiProperty({ type: () => ContactDto })
  @IsDefined({ message: 'contact is required' })
  @IsObject({ message: 'contact must be an object' })
  @ValidateNested()
  @Type(() => ContactDto)
  contact!: ContactDto;

  @ApiPropertyOptional({ type: Boolean, nullable: true, description: 'users only: mail an invite link where the person sets a password' })
  @IsOptional()
  @IsBoolean({ message: 'invite must be true or false' })
  invite?: boolean | null;
}

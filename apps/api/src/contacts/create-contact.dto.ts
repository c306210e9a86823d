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
import { CONTACT_TYPES, type AccessRoleInput, type ContactInput, type ContactPatch, type ContactType } from '@app/contacts';

const NAME_MAX = 255;
const tags = { context: { code: 'invalid_tags' } };

export class AddressDto {
  /** Evance: an address sent with an id becomes a new address; the id is read and ignored. */
  @Allow()
  id?: unknown;

  @IsOptional() @IsString() @MaxLength(NAME_MAX) firstname?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) lastname?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) company?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) line1?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) line2?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) line3?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) city?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) region?: string | null;

  @IsOptional()
  @IsString()
  @Matches(/^([A-Za-z]{2})?$/, { message: 'countryCode must be an ISO 3166-1 alpha-2 code such as GB', context: { code: 'invalid_country_code' } })
  countryCode?: string | null;

  @IsOptional() @IsString() @MaxLength(32) zip?: string | null;
}

export class TagsDto {
  /** Evance: an object whose only property is `contact`; anything else in it is a bad tags value. */
  static readonly unknownFieldCode = 'invalid_tags';

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

  @IsDefined()
  @IsString()
  @MaxLength(100)
  reference!: string;

  @IsOptional()
  @IsString()
  expires?: string | null;

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
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) return Object.assign(plainToInstance(AccessRoleDto, item), { fromString: false });
    return item;
  });
}

/** The fields of a contact a client sends, shared by create and update. */
abstract class ContactFieldsDto {
  @IsOptional() @IsString() @MaxLength(NAME_MAX) firstname?: string | null;
  @IsOptional() @IsString() @MaxLength(NAME_MAX) lastname?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  email?: string | null;

  // Length and markup are domain rules (checked in the domain, with their own codes).
  @IsOptional() @IsString() @MaxLength(10_000) company?: string | null;

  // Past 72 bytes the domain refuses a password; this only bounds what is read, with the same code.
  @IsOptional()
  @IsString()
  @MaxLength(1_000, { message: 'password must be at most 72 bytes in UTF-8', context: { code: 'password_too_long' } })
  password?: string | null;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AddressDto)
  address?: AddressDto | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true, message: 'each access role must be a reference or an object with a reference' })
  @Transform(toAccessRoles)
  accessRoles?: AccessRoleDto[] | null;

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
      fields.accessRoles = this.accessRoles?.map(
        (r): AccessRoleInput => (r.fromString ? r.reference : { reference: r.reference, expires: r.expires, status: r.status }),
      );
    }
    if ('tags' in this) fields.tags = this.tags && { contact: this.tags.contact };
    return fields;
  }
}

export class ContactDto extends ContactFieldsDto {
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
  @IsOptional()
  @IsString({ context: { code: 'type_not_allowed' } })
  type?: string;

  toPatch(): ContactPatch & { password?: string | null } {
    return { ...this.sentFields(), ...('type' in this ? { type: this.type } : {}) };
  }
}

export class UpdateContactRequest {
  @IsDefined({ message: 'contact is required' })
  @IsObject({ message: 'contact must be an object' })
  @ValidateNested()
  @Type(() => ContactPatchDto)
  contact!: ContactPatchDto;

  @IsOptional()
  @IsBoolean({ message: 'invite must be true or false' })
  invite?: boolean | null;
}

export class CreateContactRequest {
  @IsDefined({ message: 'contact is required' })
  @IsObject({ message: 'contact must be an object' })
  @ValidateNested()
  @Type(() => ContactDto)
  contact!: ContactDto;

  @IsOptional()
  @IsBoolean({ message: 'invite must be true or false' })
  invite?: boolean | null;
}

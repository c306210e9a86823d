import type { Type } from '@nestjs/common';
import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

/**
 * null as an OpenAPI 3.0 schema. 3.0 has no `type: 'null'`, and `nullable` only widens a `type`
 * in the same schema object: beside a `$ref` or an `allOf` it lets no null through.
 */
export const NULL_SCHEMA = { type: 'object' as const, nullable: true, enum: [null] };

/**
 * A property that holds an object of `model` or null: two branches, so validators and generated
 * clients accept both. The class declaring the property names `model` in `@ApiExtraModels`.
 */
export function ApiNullableModel(model: Type, options: { description?: string; required?: boolean } = {}): PropertyDecorator {
  return ApiProperty({ ...options, oneOf: [{ $ref: getSchemaPath(model) }, NULL_SCHEMA] });
}

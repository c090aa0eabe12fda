import { Type, type Static } from '@sinclair/typebox';

const RoleName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', description: 'a role name under roles/' });

export const RoleRefSchema = Type.Union([
  RoleName,
  Type.Object({ role: RoleName, vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
]);

export const PlaySchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    hosts: Type.String({ minLength: 1, description: 'a host pattern: group or host names, "a:b", "!x", "&y", "*"' }),
    roles: Type.Array(RoleRefSchema, { minItems: 1 }),
    serial: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^(100|[1-9][0-9]?)%$' })], {
        description: 'a batch size (integer ≥ 1) or a percentage "1%".."100%"',
      }),
    ),
    max_fail_percentage: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), { uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const PlaybookSchema = Type.Array(PlaySchema, { minItems: 1, description: 'a list of plays' });
export type PlayEntry = Static<typeof PlaySchema>;

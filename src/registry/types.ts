import { Type, type Static } from '@sinclair/typebox';

/** What the registry keeps for each member besides the membership bookkeeping. */
export interface ServerPayload {
  readonly role: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly metadata: Record<string, unknown>;
}

export const ServerIdSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$',
  description: 'Server id: letters, digits and . _ : @ - (at most 128 characters).',
});
export const RoleSchema = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,63}$',
  description: 'Role of the server, e.g. `datanode`, `dfs-meta`, `search-node`.',
});
const MetadataSchema = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
  description: 'Free-form: version, rack, capacity, ...',
});

/** A registry record, as every endpoint answers it. Times are Unix seconds with fractions. */
export const ServerRecordSchema = Type.Object({
  server_id: Type.String(),
  role: Type.String(),
  host: Type.String(),
  port: Type.Integer(),
  url: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  status: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
  registered_at: Type.Number(),
  last_heartbeat: Type.Number(),
  recoveries: Type.Integer(),
});
export type ServerRecord = Static<typeof ServerRecordSchema>;

export const RegisterBodySchema = Type.Object(
  {
    server_id: Type.Optional(ServerIdSchema),
    role: RoleSchema,
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/?#@]+$' }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    url: Type.Optional(Type.String({ maxLength: 2048, pattern: '^https?://' })),
    metadata: Type.Optional(MetadataSchema),
  },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBodySchema>;

export const HeartbeatBodySchema = Type.Object(
  { server_id: ServerIdSchema, metadata: Type.Optional(MetadataSchema) },
  { additionalProperties: false },
);
export type HeartbeatBody = Static<typeof HeartbeatBodySchema>;

export const ServerListSchema = Type.Object({
  servers: Type.Array(ServerRecordSchema),
  count: Type.Integer(),
  index: Type.Integer({ description: 'Change index of the table, for blocking queries.' }),
});
export type ServerList = Static<typeof ServerListSchema>;

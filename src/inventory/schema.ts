// The schema of inventory/<env>/hosts.yaml. Validated with ajv before anything else happens.
import { Type, type Static } from '@sinclair/typebox';
import { SUPPORTED_RELEASES } from '../facts/release.js';

const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'letters, digits, _ . -' });

export const HostSpecSchema = Type.Object(
  {
    cpus: Type.Optional(Type.Number({ minimum: 0 })),
    memoryGiB: Type.Optional(Type.Number({ minimum: 0 })),
    diskGiB: Type.Optional(Type.Number({ minimum: 0 })),
    bandwidthMbps: Type.Optional(Type.Number({ minimum: 0 })),
    provider: Type.Optional(Type.String({ minLength: 1 })),
    os: Type.Optional(
      Type.Union(SUPPORTED_RELEASES.map((r) => Type.Literal(r)), {
        description: `the release the host must run (${SUPPORTED_RELEASES.join(', ')}); the lab boots this release`,
      }),
    ),
  },
  { additionalProperties: false },
);

// Connection settings may be given at three levels: defaults < group < host.
const connectionFields = {
  user: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_-]*$', description: 'a login name' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  key: Type.Optional(Type.String({ minLength: 1, description: 'a private key file; relative to the inventory directory' })),
  jump: Type.Optional(Type.Union([Name, Type.Null()], { description: 'the name of an inventory host, or null' })),
  sizing: Type.Optional(Type.Union([Type.Literal('enforce'), Type.Literal('warn')])),
  spec: Type.Optional(HostSpecSchema),
};

export const HostEntrySchema = Type.Object(
  { address: Type.String({ minLength: 1, description: 'an IP address or DNS name' }), ...connectionFields },
  { additionalProperties: false },
);

export const GroupEntrySchema = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Name, { uniqueItems: true })),
    children: Type.Optional(Type.Array(Name, { uniqueItems: true })),
    ...connectionFields,
  },
  { additionalProperties: false },
);

export const HostsFileSchema = Type.Object(
  {
    lab: Type.Optional(
      Type.Object(
        {
          bridge: Type.String({ pattern: '^[a-z0-9_-]{1,15}$', description: 'a Linux interface name, at most 15 characters' }),
          network: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$', description: 'an IPv4 network in CIDR form' }),
          machine: Type.Optional(
            Type.Union([Type.Literal('container'), Type.Literal('vm')], {
              description: 'what the lab boots the hosts as: container (systemd-nspawn, the default) or vm (QEMU: own kernel and file systems)',
            }),
          ),
          vm_packages: Type.Optional(
            Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+$' }), {
              uniqueItems: true,
              description: 'Debian packages baked into the VM base, as a provider image ships them (machine: vm only)',
            }),
          ),
          allow_plaintext_secrets_for_lab_only: Type.Optional(Type.Boolean({ description: 'secret vars may be given in plain YAML (a lab only)' })),
        },
        { additionalProperties: false },
      ),
    ),
    defaults: Type.Optional(
      Type.Object(
        { ...connectionFields, known_hosts: Type.Optional(Type.String({ minLength: 1 })) },
        { additionalProperties: false },
      ),
    ),
    hosts: Type.Record(Name, HostEntrySchema),
    groups: Type.Optional(Type.Record(Name, GroupEntrySchema)),
  },
  { additionalProperties: false },
);

export type HostsFile = Static<typeof HostsFileSchema>;
export type HostEntry = Static<typeof HostEntrySchema>;
export type GroupEntry = Static<typeof GroupEntrySchema>;

// The resource types a role declares: `import * as r from '../../src/resources/index.js'`.
export { ResourceError } from './types.js';
export type { Action, Change, Handler, Resource, ResourceCommon } from './types.js';
export type { Presence } from './common.js';

export { apt, type AptOptions, type AptState } from './apt.js';
export { file, type FileOptions, type FileResource, type FileState } from './file.js';
export { directory, type DirectoryOptions, type DirectoryState } from './directory.js';
export { line, type LineOptions, type LineState } from './line.js';
export { group, type GroupOptions, type GroupState } from './group.js';
export { user, type UserOptions, type UserState } from './user.js';
export { systemdUnit, type SystemdUnitOptions, type SystemdUnitState } from './systemd-unit.js';
export { service, restartHandler, reloadHandler, type ServiceOptions, type ServiceState } from './service.js';
export { sysctl, type SysctlOptions, type SysctlState } from './sysctl.js';
export { nftables, type NftablesOptions, type NftablesState } from './nftables.js';
export { command, type CommandOptions, type CommandState } from './command.js';
export { confDir, type ConfDirOptions, type ConfDirState, type ConfDirReads } from './conf-dir.js';
export { sshdEffective, type SshdEffectiveOptions, type SshdEffectiveState } from './sshd-effective.js';
export { securityUpdates, type SecurityUpdatesOptions, type SecurityUpdatesState, type SecurityUpdate } from './security-updates.js';
export { pamStack, pamRule, PAM_DIR, type PamStackOptions, type PamStackState } from './pam-stack.js';

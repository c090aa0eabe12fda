// The lab fleet: real Debian 12 hosts (systemd-nspawn containers on overlayfs) on a private bridge
// of this machine. Nothing here prints: progress goes out as LabEvents; src/cli decides what to show.
export type { LabEmit, LabEvent, LabFleet, LabHostRef, LabHostStatus, LabUpOptions, LabUpResult } from './types.js';
export { validateLabFleet } from './validate.js';
export { checkLabPrerequisites, LAB_TOOLS } from './prereqs.js';
export { labUp } from './up.js';
export { labDown, type LabDownOptions } from './down.js';
export { labStatus } from './status.js';
export { labReset } from './reset.js';
export { sshArgs } from './ssh.js';
export { nftTableName } from './nft.js';
export { hostPaths, machineName, CACHE_DIR, STATE_DIR } from './paths.js';

// The contract of a resource type: one file per type under src/resources/.
//
// A resource is the desired state of ONE thing on a host. The engine never runs a resource's
// scripts one by one: all probes of a host are concatenated into ONE script run in ONE exec
// (src/plan/probe-script.ts), so every probe must be read-only, POSIX sh, and print only what its
// own `parse` reads. A probe's exit status is passed to `parse`; a probe must not `exit` the shell.
import type { Facts } from '../facts/types.js';

export type Action = 'create' | 'update' | 'delete' | 'run';

/** What the plan shows for one resource that differs. Plain data: serialisable into a plan file. */
export interface Change {
  /** resource id, e.g. "file:/etc/ssh/sshd_config.d/50-provision.conf" */
  id: string;
  type: string;
  action: Action;
  /** one line for humans, e.g. "mode 0644 → 0600" or "install nginx" */
  summary: string;
  /** unified diff (files) or "- old\n+ new" lines; secrets already redacted */
  diff?: string;
  /** the resource holds a secret: summary and diff never show its content */
  sensitive?: boolean;
}

/**
 * What a handler does, declared where it is defined (the role), so the plan can say it before it
 * happens: restartHandler()/reloadHandler() in service.ts build the common ones.
 */
export interface Handler {
  /** POSIX sh run on the host */
  script: string;
  /** for humans, e.g. "service drand will restart", "sshd reloads its configuration" */
  effect: string;
  /** the unit this handler restarts (a plan counts these as service restarts) */
  restarts?: string;
}

export interface ResourceCommon {
  /** handler names to notify when this resource changes (each runs once per host, after all changes) */
  notify?: string[];
  /**
   * Lockout guard: a change to sshd, PAM, the firewall or the login account. After applying it the
   * executor opens a FRESH SSH login; if that fails it restores the previous files listed by
   * `guardPaths()`, runs `guardRestore()` and fails the host.
   */
  guard?: boolean;
  /**
   * never show content or values in a diff or log. Set automatically when the desired state carries
   * a secret var's plaintext (src/secrets); set it by hand only for content made on the controller
   * that no secrets file holds.
   */
  sensitive?: boolean;
  /** skip the resource with a visible reason, decided from facts (e.g. not possible in a container) */
  skipIf?: (facts: Facts) => string | null;
}

export interface Resource<State = unknown> {
  readonly type: string;
  /** unique per host: `${type}:${key}` */
  readonly id: string;
  readonly notify: readonly string[];
  readonly guard: boolean;
  readonly sensitive: boolean;
  readonly skipIf?: (facts: Facts) => string | null;
  /**
   * sha256 of the desired state (the constructor's options). Two declarations of one id with the
   * same hash are one resource; a saved plan is refused when a host's hashes moved.
   */
  readonly desired: string;
  /** read-only POSIX sh snippet; its stdout goes to parse() */
  probe(): string;
  /** turn the probe's stdout (and exit status) into the observed state */
  parse(stdout: string, status: number): State;
  /** null when converged, otherwise what the plan shows */
  diff(state: State): Change | null;
  /** POSIX sh that converges the resource; must fail (non-zero) rather than half-apply */
  apply(state: State): string;
  /** for guarded resources: the files to back up before apply and restore on a failed login test */
  guardPaths?(): string[];
  /** for guarded resources: run after restoring the files (e.g. reload sshd, reload nftables) */
  guardRestore?(): string;
}

/** Thrown by constructors on invalid desired state (a bug in a role, not in user input). */
export class ResourceError extends Error {}

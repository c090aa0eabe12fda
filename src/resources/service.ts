// service: a systemd unit enabled at boot and/or running. Restarts on change are handlers:
// restartHandler()/reloadHandler() give their sh and the effect the plan shows.
import type { Handler, Resource, ResourceCommon } from './types.js';
import { ResourceError } from './types.js';
import { sh } from '../shell/quote.js';
import { common, requireBoolean, resourceParts, seq, type Delta } from './common.js';
import { DAEMON_RELOAD, requireUnitName } from './systemd-unit.js';
import { fieldLines, fieldSummary, type FieldChange } from './render-diff.js';

export interface ServiceOptions extends ResourceCommon {
  /** unit name; without a suffix systemd assumes .service */
  name: string;
  enabled?: boolean;
  running?: boolean;
}

export interface ServiceState {
  /** the unit file state (as `systemctl is-enabled` names it), or "not-found" */
  enabled?: string;
  /** the active state (as `systemctl is-active` names it), or "unknown" when systemd gave no answer */
  active?: string;
}

/**
 * static/indirect/generated/alias/transient units cannot be enabled or disabled by `systemctl
 * enable`: they count as both, so they never fail to converge. enabled-runtime lasts until reboot:
 * not enabled enough for `enabled: true`, too enabled for `enabled: false`.
 */
const NOT_CONTROLLABLE = new Set(['static', 'indirect', 'generated', 'alias', 'transient']);
const enabledConverged = (want: boolean, unitState: string): boolean =>
  NOT_CONTROLLABLE.has(unitState) || (want ? unitState === 'enabled' : !['enabled', 'enabled-runtime'].includes(unitState));
const RUNNING = new Set(['active', 'reloading']);

/** Restart a unit; `daemonReload` first when the handler follows a unit-file change of a unit no resource manages. */
export function restartHandler(name: string, opts: { daemonReload?: boolean } = {}): Handler {
  const unit = requireUnitName('service', name, false);
  return {
    script: `${opts.daemonReload ? `${DAEMON_RELOAD}\n` : ''}systemctl restart -- ${sh(unit)}\n`,
    effect: `${opts.daemonReload ? 'systemd daemon-reload, then ' : ''}service ${unit} will restart`,
    restarts: unit,
  };
}

/** Reload a unit (its process keeps running); `check` runs first and stops the reload when it fails (e.g. `sshd -t`). */
export function reloadHandler(name: string, opts: { check?: string } = {}): Handler {
  const unit = requireUnitName('service', name, false);
  return {
    script: `${opts.check ? `${opts.check}\n` : ''}systemctl reload -- ${sh(unit)}\n`,
    effect: `service ${unit} reloads${opts.check ? ` (after ${opts.check})` : ''}, its process keeps running`,
  };
}

export function service(opts: ServiceOptions): Resource<ServiceState> {
  const type = 'service';
  const name = requireUnitName(type, opts?.name, false);
  const enabled = requireBoolean(type, name, 'enabled', opts.enabled);
  const running = requireBoolean(type, name, 'running', opts.running);
  const c = common(type, name, opts);
  if (enabled === undefined && running === undefined) throw new ResourceError(`${c.id}: say enabled and/or running, or there is nothing to converge`);
  const n = sh(name);

  // One systemctl for both questions (is-enabled + is-active were two): every process counts when
  // fifty hosts probe at once on shared cores. Without a running systemd (a chroot, an image being
  // built) `show` has no answer; is-enabled still reads the unit files.
  const probe = (): string =>
    [
      `o=$(systemctl show --property=LoadState,UnitFileState,ActiveState -- ${n} 2>/dev/null)`,
      `if [ -n "$o" ]; then printf '%s\\n' "$o"; else printf 'UnitFileState=%s\\n' "$(systemctl is-enabled -- ${n} 2>/dev/null)"; fi`,
    ].join('\n');

  const parse = (stdout: string): ServiceState => {
    const props = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
    const s: ServiceState = {};
    // A unit systemd cannot find still loads as LoadState=not-found with an empty UnitFileState.
    if (enabled !== undefined) s.enabled = props.get('LoadState') === 'not-found' ? 'not-found' : props.get('UnitFileState') || 'not-found';
    if (running !== undefined) s.active = props.get('ActiveState') || 'unknown';
    return s;
  };

  const changes = (s: ServiceState): { enable?: boolean; start?: boolean; fields: FieldChange[] } => {
    const r: { enable?: boolean; start?: boolean; fields: FieldChange[] } = { fields: [] };
    const unitState = s.enabled ?? 'not-found';
    if (enabled !== undefined && !enabledConverged(enabled, unitState)) {
      r.enable = enabled;
      r.fields.push({ field: 'enabled', from: unitState, to: enabled ? 'enabled' : 'disabled' });
    }
    const active = s.active ?? 'unknown';
    if (running !== undefined && RUNNING.has(active) !== running) {
      r.start = running;
      r.fields.push({ field: 'active', from: active, to: running ? 'active' : 'inactive' });
    }
    return r;
  };

  const delta = (s: ServiceState): Delta | null => {
    const r = changes(s);
    if (r.fields.length === 0) return null;
    const verbs = [
      ...(r.enable === undefined ? [] : [r.enable ? 'enable' : 'disable']),
      ...(r.start === undefined ? [] : [r.start ? 'start' : 'stop']),
    ];
    const missing = s.enabled === 'not-found' && (r.enable || r.start) ? ' (unit not found yet)' : '';
    return { action: 'update', summary: `${verbs.join(' and ')} ${name}: ${fieldSummary(r.fields)}${missing}`, diff: fieldLines(r.fields) };
  };

  const apply = (s: ServiceState): string => {
    const r = changes(s);
    return seq(
      r.enable === true && s.enabled === 'masked' && `systemctl unmask -- ${n}`,
      r.enable !== undefined && `systemctl ${r.enable ? 'enable' : 'disable'} -- ${n}`,
      r.start !== undefined && `systemctl ${r.start ? 'start' : 'stop'} -- ${n}`,
    );
  };

  return {
    ...c,
    ...resourceParts(c, { probe, parse, delta, apply }),
  };
}

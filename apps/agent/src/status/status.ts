import { existsSync, readFileSync } from 'node:fs';
import { readCertificate } from '@palisade/pki';
import type { StateStore } from '../certs/state-store';
import type { Agent } from '../agent';

type Snapshot = ReturnType<Agent['snapshot']>;

/** How long a status file may be old before the agent is reported as not running. */
const STALE_MS = 10_000;

function ago(iso: string | null | undefined, now: number): string {
  if (!iso) {
    return 'never';
  }
  const s = Math.round((now - Date.parse(iso)) / 1000);
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function until(iso: string, now: number): string {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (s <= 0) {
    return 'EXPIRED';
  }
  return s < 3600 ? `in ${Math.round(s / 60)}m` : `in ${(s / 3600).toFixed(1)}h`;
}

/**
 * `palisade-agent status`: one screen from the state directory — the enrolled identity, whether the running agent
 * is connected, the rule-set revision, the protected ports and services with their counters, and every certificate
 * with its expiry. Works whether or not the agent is running (it says which).
 */
export function renderStatus(store: StateStore, format: 'text' | 'json'): string {
  const now = Date.now();
  if (!store.isEnrolled()) {
    return format === 'json' ? JSON.stringify({ enrolled: false }) + '\n' : `not enrolled (${store.dir})\n`;
  }
  const e = store.enrollment();
  const cert = readCertificate(readFileSync(store.paths.cert, 'utf8'));
  const s = existsSync(store.paths.status) ? (JSON.parse(readFileSync(store.paths.status, 'utf8')) as Snapshot) : null;
  const running = s !== null && now - Date.parse(s.at) < STALE_MS;
  if (format === 'json') {
    return JSON.stringify({ enrolled: true, enrollment: e, agentCertificate: { serial: cert.serial, notAfter: cert.notAfter.toISOString() }, running, status: s }, null, 2) + '\n';
  }
  const lines: string[] = [];
  lines.push(`agent        ${e.agentId}  (${e.namespace})`);
  lines.push(`state dir    ${store.dir}`);
  lines.push(`running      ${running ? `yes, pid ${s!.pid}, ${s!.mode} mode` : s ? `no (last status ${ago(s.at, now)})` : 'no'}`);
  lines.push(`control      ${s?.controlPlane.url ?? e.controlPlaneUrl}  ${running ? (s!.controlPlane.connected ? 'connected' : `DISCONNECTED${s!.controlPlane.lastError ? ` (${s!.controlPlane.lastError})` : ''}`) : ''}`);
  lines.push(`rule set     ${s?.ruleSet ? `revision ${s.ruleSet.revision}, ${String(s.ruleSet.hash).slice(0, 12)}, ${s.ruleSet.policies} policies, ${s.ruleSet.services} services` : 'none yet'}`);
  lines.push('');
  lines.push('protected ports');
  for (const p of s?.protectedPorts ?? []) {
    const st = p.stats;
    const refused = st ? Object.values(st.refused as Record<string, number>).reduce((a, b) => a + b, 0) : 0;
    lines.push(`  ${p.name.padEnd(20)} port ${String(p.port).padEnd(6)} listener ${p.listening ?? 'not started'}  accepted ${st?.accepted ?? 0}  refused ${refused}  active ${st?.active ?? 0}`);
  }
  lines.push('services');
  for (const o of s?.services ?? []) {
    const refused = Object.values(o.stats.refused as Record<string, number>).reduce((a, b) => a + b, 0);
    lines.push(`  ${o.name.padEnd(20)} via ${o.upstream.padEnd(22)} listener ${o.listening}  accepted ${o.stats.accepted}  refused ${refused}`);
  }
  lines.push('certificates');
  lines.push(`  ${'agent'.padEnd(20)} expires ${cert.notAfter.toISOString()} (${until(cert.notAfter.toISOString(), now)})`);
  for (const c of (s?.certificates ?? []).filter((x: { subject: string }) => x.subject !== 'agent')) {
    lines.push(`  ${String(c.subject).padEnd(20)} expires ${c.notAfter} (${until(c.notAfter, now)})`);
  }
  if (s) {
    lines.push('');
    lines.push(`open flows   ${s.openFlows}`);
  }
  return lines.join('\n') + '\n';
}

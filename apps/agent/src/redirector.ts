import { RedirectRules, type RedirectPlan } from './datapath/redirect';
import type { Log } from './agent';

/**
 * Transparent mode's redirect rules, kept in step with the listeners: installed (idempotently, by rebuilding the
 * agent's own chains) whenever the plan changes, removed on exit, and cleaned up at start after a crash.
 */
export class Redirector {
  private readonly rules = new RedirectRules();
  private last = '';

  constructor(private readonly log: Log) {}

  async cleanupStale(): Promise<void> {
    await this.rules.remove();
  }

  async install(plan: RedirectPlan): Promise<void> {
    const key = JSON.stringify(plan);
    if (key === this.last) {
      return;
    }
    await this.rules.install(plan);
    this.last = key;
    this.log('redirect_rules_installed', { inbound: plan.inbound.length, outbound: plan.outbound.length });
  }

  async remove(): Promise<void> {
    await this.rules.remove();
    this.last = '';
  }
}

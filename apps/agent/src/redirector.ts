import { RedirectRules } from './datapath/redirect-rules';
import type { Log } from './agent';

export interface RedirectPlan {
  inbound: { port: number; toPort: number }[];
  outbound: { address: string; port: number; toPort: number }[];
}

/**
 * Transparent mode's redirect rules, kept in step with the listeners: rebuilt (idempotently, in the agent's own
 * chains) whenever the plan changes, removed on exit, and cleaned up at start after a crash. The agent's own
 * sockets are exempt by its group id (see datapath/redirect-rules.ts for why a group and not a port range).
 */
export class Redirector {
  private last = '';
  private rules: RedirectRules | null = null;
  private unhookExit: (() => void) | null = null;

  constructor(
    private readonly log: Log,
    private readonly gid: number,
  ) {}

  private make(plan: RedirectPlan): RedirectRules {
    return new RedirectRules({
      inbound: plan.inbound.map((r) => ({ port: r.port, listenerPort: r.toPort })),
      outbound: plan.outbound.map((r) => ({ ip: r.address, port: r.port, listenerPort: r.toPort })),
      excludeGid: this.gid,
    });
  }

  async cleanupStale(): Promise<void> {
    await this.make({ inbound: [], outbound: [] }).remove();
  }

  async install(plan: RedirectPlan): Promise<void> {
    const key = JSON.stringify(plan);
    if (key === this.last) {
      return;
    }
    const rules = this.make(plan);
    await rules.install();
    this.rules = rules;
    this.last = key;
    // Exit and crash safety: rules come off on exit; a SIGKILL leaves them for cleanupStale at the next start.
    this.unhookExit ??= (() => {
      const onExit = () => this.rules?.removeSync();
      process.once('exit', onExit);
      return () => process.off('exit', onExit);
    })();
    this.log('redirect_rules_installed', { inbound: plan.inbound, outbound: plan.outbound, excludeGid: this.gid });
  }

  async remove(): Promise<void> {
    await this.rules?.remove();
    this.unhookExit?.();
    this.unhookExit = null;
    this.rules = null;
    this.last = '';
  }
}

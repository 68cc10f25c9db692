import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { type TestApp, startTestApp } from '../testing/test-app';
import { backends } from '../testing/test-backends';
import { AGENT_AUTHENTICATED_KEY, AUTHORIZE_KEY, ENROLLMENT_TOKEN_KEY, PUBLIC_KEY } from './authorize.decorator';

describe('every route declares who may call it', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(backends()[0], {}, [DiscoveryModule]);
  });
  after(async () => t?.stop());

  it('walks every registered controller method: /v1 needs @Authorize, @AgentAuthenticated or @EnrollmentTokenAuthenticated; others at least @Public', () => {
    const discovery = t.cp.app.get(DiscoveryService);
    const scanner = new MetadataScanner();
    const reflector = new Reflector();
    const seen: string[] = [];
    const bare: string[] = [];
    for (const wrapper of discovery.getControllers()) {
      const instance = wrapper.instance as object;
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
      const base = String(reflector.get(PATH_METADATA, instance.constructor) ?? '');
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = proto[name] as () => unknown;
        const sub = reflector.get<string | undefined>(PATH_METADATA, handler);
        if (sub === undefined || reflector.get(METHOD_METADATA, handler) === undefined) {
          continue;
        }
        const route = `/${base}/${sub}`.replace(/\/+/g, '/').replace(/\/$/, '');
        seen.push(route);
        const meta = (k: string) => reflector.getAllAndOverride<unknown>(k, [handler, instance.constructor]);
        const guarded = meta(AUTHORIZE_KEY) !== undefined || meta(AGENT_AUTHENTICATED_KEY) === true || meta(ENROLLMENT_TOKEN_KEY) === true;
        if (route.startsWith('/v1') ? !guarded : !guarded && meta(PUBLIC_KEY) !== true) {
          bare.push(`${wrapper.name}.${name} ${route}`);
        }
      }
    }
    assert.ok(seen.length >= 25, `expected the full API, saw ${seen.length} routes`);
    assert.ok(seen.includes('/v1/import') && seen.includes('/healthz'));
    assert.deepEqual(bare, []);
  });

  it('refuses at run time a route with no policy (fail closed), answering the envelope', async () => {
    const r = await t.call('GET', '/v1/definitely-not-a-route');
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'message', 'requestId', 'statusCode']);
  });
});

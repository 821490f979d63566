// Compile-time checks, run by `npm run typecheck` (tsc includes test/): the handler table every
// host builds (Electron's main through StudioService.handlers(), the browser-mode server
// likewise) must cover StudioApi exactly, with the contract's param and result types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Handlers } from '../../../core/api/dispatch.js';
import { methodNames, type Method } from '../../../core/api/contract.js';
import { StudioService } from '../../../core/service/studio-service.js';

// A table missing a method does not compile.
// @ts-expect-error — 'project.open' (and the rest) missing
const incomplete: Handlers = { 'app.info': () => ({ version: '', mode: 'desktop', nativeDialogs: false, schemaVersion: 1, platform: '' }) };

// A handler returning the wrong type does not compile.
type CurrentHandler = Handlers['project.current'];
// @ts-expect-error — project.current returns ProjectSummary | null, not a string
const wrongResult: CurrentHandler = () => 'nope';

// The service's table has exactly the contract's keys (checked in both directions).
type ServiceKeys = keyof ReturnType<StudioService['handlers']>;
const exact: [ServiceKeys] extends [Method] ? ([Method] extends [ServiceKeys] ? true : false) : false = true;

test('the handler table covers every StudioApi method at run time too', () => {
  void incomplete;
  void wrongResult;
  assert.equal(exact, true);
  const service = new StudioService({ mode: 'browser', appHome: '/nonexistent', paths: { check() {}, grant() {} } });
  assert.deepEqual(Object.keys(service.handlers()).sort(), [...methodNames].sort());
});

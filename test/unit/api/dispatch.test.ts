import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDispatcher, type Handlers } from '../../../core/api/dispatch.js';
import { methodNames } from '../../../core/api/contract.js';
import { UserError } from '../../../core/api/errors.js';
import { createIpcHandler, isTrustedSenderUrl } from '../../../core/api/ipc-guard.js';

/** A table whose handlers record their calls; only a few tests care about the values. */
function recordingHandlers(calls: Array<[string, unknown]>): Handlers {
  const table = {} as Record<string, (p: unknown) => unknown>;
  for (const name of methodNames) {
    table[name] = (params: unknown) => {
      calls.push([name, params]);
      if (name === 'project.open') throw new UserError('not-found', '/x.atelier does not exist. Pick the file again.', '/x.atelier');
      if (name === 'project.close') throw new Error('boom');
      return null;
    };
  }
  return table as unknown as Handlers;
}

const ctx = { transport: 'ws' as const };
const silent = { log: () => undefined };

test('an unknown method is refused before any handler runs', async () => {
  const calls: Array<[string, unknown]> = [];
  const dispatch = createDispatcher(recordingHandlers(calls), silent);
  for (const bad of ['project.delete', '__proto__', 'constructor', 42, null]) {
    const r = await dispatch(bad, {}, ctx);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 'unknown-method');
  }
  assert.equal(calls.length, 0);
});

test('invalid params are refused with a message naming the field', async () => {
  const calls: Array<[string, unknown]> = [];
  const dispatch = createDispatcher(recordingHandlers(calls), silent);
  const cases: Array<[string, unknown, RegExp]> = [
    ['project.create', {}, /Invalid project\.create request — path: /],
    ['project.create', { path: '' }, /path: A project path is required/],
    ['project.create', { path: 42 }, /path: /],
    ['project.create', { path: '/a.atelier', name: '   ' }, /name: The project name is empty/],
    ['project.create', { path: '/a.atelier', extra: true }, /unexpected field\(s\) "extra"/],
    ['project.open', { path: '/a\0b' }, /NUL character/],
    ['dialog.pickProject', { mode: 'delete' }, /mode: /],
    ['project.open', 'not an object', /Invalid project\.open request/],
  ];
  for (const [method, params, pattern] of cases) {
    const r = await dispatch(method, params, ctx);
    assert.equal(r.ok, false, `${method} ${JSON.stringify(params)} should fail`);
    if (!r.ok) {
      assert.equal(r.error.code, 'invalid-request');
      assert.match(r.error.message, pattern);
    }
  }
  assert.equal(calls.length, 0);
});

test('valid params reach the handler (trimmed as the schema says); failures come back typed', async () => {
  const calls: Array<[string, unknown]> = [];
  const dispatch = createDispatcher(recordingHandlers(calls), silent);
  assert.deepEqual(await dispatch('project.create', { path: '/tmp/a.atelier', name: '  Sketches ' }, ctx), { ok: true, value: null });
  assert.deepEqual(calls, [['project.create', { path: '/tmp/a.atelier', name: 'Sketches' }]]);
  assert.deepEqual(await dispatch('project.open', { path: '/x.atelier' }, ctx), {
    ok: false,
    error: { code: 'not-found', message: '/x.atelier does not exist. Pick the file again.', subject: '/x.atelier' },
  });
  const crash = await dispatch('project.close', {}, ctx);
  assert.equal(crash.ok, false);
  if (!crash.ok) {
    assert.equal(crash.error.code, 'internal');
    assert.match(crash.error.message, /project\.close failed unexpectedly: boom/);
  }
});

test('IPC: only the studio\'s own top frame may call', async () => {
  const calls: Array<[string, unknown]> = [];
  const handle = createIpcHandler(createDispatcher(recordingHandlers(calls), silent));
  assert.equal(isTrustedSenderUrl('atelier://app/index.html'), true);
  for (const url of ['https://evil.example/', 'file:///etc/passwd', 'atelier://other/index.html', 'data:text/html,hi', '', undefined, 'not a url']) {
    const r = await handle({ url, isMainFrame: true }, 'project.current', {});
    assert.equal(r.ok, false, `${String(url)} must be refused`);
    if (!r.ok) assert.equal(r.error.code, 'forbidden');
  }
  const sub = await handle({ url: 'atelier://app/index.html', isMainFrame: false }, 'project.current', {});
  assert.equal(sub.ok, false);
  assert.equal(calls.length, 0);
  assert.deepEqual(await handle({ url: 'atelier://app/index.html', isMainFrame: true }, 'project.current', {}), { ok: true, value: null });
  const invalid = await handle({ url: 'atelier://app/index.html', isMainFrame: true }, 'project.open', { path: 7 });
  assert.equal(invalid.ok, false);
  if (!invalid.ok) assert.equal(invalid.error.code, 'invalid-request');
});

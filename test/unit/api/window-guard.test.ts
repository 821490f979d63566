/** The window's navigation and link guards (wired into Electron by electron/main.ts; see test/unit/electron/main-wiring.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAllowedExternalUrl, isAppUrl } from '../../../core/api/window-guard.js';

test('our page only; https links to the listed hosts only', () => {
  assert.equal(isAppUrl('atelier://app/x'), true);
  assert.equal(isAppUrl('atelier://app.evil.example/x'), false);
  assert.equal(isAppUrl('not a url'), false);
  assert.equal(isAllowedExternalUrl('https://www.tensorflow.org/js'), true);
  assert.equal(isAllowedExternalUrl('https://arxiv.org.evil.example/'), false);
  assert.equal(isAllowedExternalUrl(''), false);
  assert.equal(isAllowedExternalUrl('https://github.com/NVlabs/stylegan2-ada-pytorch'), true);
  assert.equal(isAllowedExternalUrl('HTTPS://GITHUB.COM/x'), true, 'URLs are compared parsed, not as text');
  assert.equal(isAllowedExternalUrl('https://github.com@evil.example/'), false, 'credentials trick');
});

/**
 * The renderer's project-scoped state (renderer/src/lib/state/project-scoped.svelte.ts, compiled
 * as the build compiles it): the studio tells each state when the open project changes — once,
 * whatever the change came from — an answer about a project no longer open is dropped, and a
 * user action sets `busy` meanwhile and shows its error in the studio's alert.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../helpers/svelte-runes.js';
import type { ModelSummary, ProjectSummary } from '../../../core/api/contract.js';
import type { ApiError } from '../../../core/api/errors.js';
import { FakeBackend, settle } from './fake-backend.js';

const { StudioState } = await import('../../../renderer/src/lib/state/studio.svelte.js');
const { ModelsState } = await import('../../../renderer/src/lib/state/models.svelte.js');

function project(path: string, images = 0): ProjectSummary {
  return { path, id: path, name: path.slice(1), schemaVersion: 1, createdAt: '', createdBy: 'test', sizeBytes: images } as ProjectSummary;
}

function model(id: number, name: string): ModelSummary {
  return { id, name, source: 'checkpoint', resolution: 16, channels: 3, classNames: [], runId: 1, runName: 'r', checkpointId: 1, kimg: 1, step: 1, metrics: {}, importedFrom: null } as unknown as ModelSummary;
}

/** The studio's first load, answered: the app, the open project (or none) and the recent list. */
async function firstLoad(backend: FakeBackend, studio: InstanceType<typeof StudioState>, open: ProjectSummary | null): Promise<void> {
  const done = studio.refresh();
  backend.take('app.info').answer({ mode: 'browser', version: 'test', nativeDialogs: false });
  backend.take('project.current').answer(open);
  backend.take('project.recent').answer([]);
  await done;
}

test('every project-scoped state follows the open project once per change, told by the studio', async () => {
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const models = new ModelsState(backend, studio);
  const lists = (): number => backend.calls.filter((c) => c.method === 'models.list').length;

  // A project already open when the page loads: loaded without any view asking.
  await firstLoad(backend, studio, project('/a'));
  assert.equal(models.projectPath, '/a');
  assert.equal(lists(), 1);
  backend.take('models.list').answer([model(1, 'first')]);
  await settle();
  assert.deepEqual(
    models.models.map((m) => m.name),
    ['first'],
  );
  assert.equal(models.loaded, true);

  // The same project again (its counts changed): nothing is reloaded or forgotten.
  backend.emit({ type: 'project.changed', project: project('/a', 5) });
  assert.equal(lists(), 1);
  assert.equal(models.models.length, 1);

  // Another project: the old one's models are gone at once, the new ones are asked for.
  backend.emit({ type: 'project.changed', project: project('/b') });
  assert.equal(models.projectPath, '/b');
  assert.equal(models.models.length, 0);
  assert.equal(models.loaded, false);
  assert.equal(lists(), 2);
  backend.take('models.list').answer([]);

  // Closed by the user: forgotten, nothing asked for.
  const closing = studio.close();
  backend.take('project.close').answer(null);
  await closing;
  assert.equal(studio.project, null);
  assert.equal(models.projectPath, null);
  assert.equal(lists(), 2);

  // The link comes back: the open project's state is loaded again (events may have been missed).
  backend.emit({ type: 'project.changed', project: project('/c') });
  backend.take('models.list').answer([]);
  backend.setConnection({ state: 'lost', attempts: 0, nextRetryAt: null });
  backend.setConnection({ state: 'open', attempts: 0, nextRetryAt: null });
  assert.equal(backend.pending.filter((c) => c.method === 'models.list').length, 1);
});

test('a state built while a project is open follows it once it is complete', async () => {
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  await firstLoad(backend, studio, project('/a'));
  const models = new ModelsState(backend, studio);
  assert.equal(models.projectPath, null, 'told on the next microtask, not while its fields are being set up');
  await Promise.resolve();
  assert.equal(models.projectPath, '/a');
  assert.equal(backend.pending.filter((c) => c.method === 'models.list').length, 1);
});

test('an answer about a project no longer open is dropped, its error too', async () => {
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const models = new ModelsState(backend, studio);
  await firstLoad(backend, studio, null);

  backend.emit({ type: 'project.changed', project: project('/a') });
  const forA = backend.take('models.list');
  backend.emit({ type: 'project.changed', project: project('/b') });
  const forB = backend.take('models.list');

  // B answers first, then A's late answer arrives: B's models stay.
  forB.answer([model(2, 'of b')]);
  await settle();
  forA.answer([model(1, 'of a')]);
  await settle();
  assert.deepEqual(
    models.models.map((m) => m.name),
    ['of b'],
  );

  // A stale failure is not shown either; a current one is.
  backend.emit({ type: 'project.changed', project: project('/c') });
  const forC = backend.take('models.list');
  backend.emit({ type: 'project.changed', project: project('/d') });
  forC.fail({ code: 'io', message: 'C could not be read' });
  await settle();
  const shownError = (): ApiError | null => studio.error; // read afresh: the assertions narrow `studio.error`
  assert.equal(shownError(), null);
  backend.take('models.list').fail({ code: 'io', message: 'D could not be read' });
  await settle();
  assert.equal(shownError()?.message, 'D could not be read');
  assert.equal(models.loaded, false);
});

test('act(): busy while the call is out; its error shown in the alert, cleared by the next action', async () => {
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const models = new ModelsState(backend, studio);
  await firstLoad(backend, studio, project('/a'));
  backend.take('models.list').answer([model(1, 'old')]);
  await settle();

  const renaming = models.rename(1, 'taken');
  assert.equal(models.busy, true);
  backend.take('models.rename').fail({ code: 'exists', message: 'A model named taken exists.' });
  assert.equal(await renaming, false);
  assert.equal(models.busy, false);
  assert.equal(studio.error?.code, 'exists');

  const again = models.rename(1, 'new');
  assert.equal(studio.error, null, 'the next action clears the old error');
  assert.equal(models.busy, true);
  backend.take('models.rename').answer(model(1, 'new'));
  await settle();
  backend.take('models.list').answer([model(1, 'new')]);
  assert.equal(await again, true);
  assert.equal(models.busy, false);
  assert.equal(studio.error, null);
  assert.deepEqual(
    models.models.map((m) => m.name),
    ['new'],
  );
});

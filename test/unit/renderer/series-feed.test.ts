/**
 * The live charts' series feed (renderer/src/lib/state/series-feed.svelte.ts): the first fetch
 * asks for every point, later ones only for the points after the last kimg held, and what comes
 * back is appended; another run empties it and drops the answers asked for before; a restart
 * keeps the old points on screen until the full answer replaces them; one fetch at a time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../helpers/svelte-runes.js';
import type { Series } from '../../../renderer/src/lib/charts.js';
import { settle } from './fake-backend.js';

const { SeriesFeed } = await import('../../../renderer/src/lib/state/series-feed.svelte.js');

/** A loader whose answers the test gives, one per fetch, in order. */
function loader() {
  const asked: Array<{ afterKimg: number | undefined; answer: (s: Record<string, Series> | null) => void }> = [];
  const load = (afterKimg: number | undefined): Promise<Record<string, Series> | null> => new Promise((answer) => asked.push({ afterKimg, answer }));
  return { asked, load };
}

const kimgs = (s: Series | undefined): number[] => (s ?? []).map((p) => p[0]);

test('append: each series takes only the points after its last; the version moves only when something was added', () => {
  const feed = new SeriesFeed(async () => null, 0);
  const v0 = feed.version;
  assert.equal(feed.afterKimg, undefined, 'nothing held: the next fetch asks for everything');
  assert.equal(
    feed.append({
      'Loss/G': [
        [0.1, 1.5],
        [0.2, 1.4],
      ],
      'Loss/R1': [[0.2, 0.01]],
    }),
    true,
  );
  assert.equal(feed.version, v0 + 1);
  assert.equal(feed.afterKimg, 0.2);
  // An overlapping answer (a tick reported twice, R1 lazy): only what is new is kept.
  feed.append({
    'Loss/G': [
      [0.2, 1.4],
      [0.3, 1.3],
    ],
    'Loss/R1': [[0.2, 0.01]],
  });
  assert.deepEqual(kimgs(feed.series.get('Loss/G')), [0.1, 0.2, 0.3]);
  assert.deepEqual(kimgs(feed.series.get('Loss/R1')), [0.2]);
  assert.equal(feed.afterKimg, 0.3);
  const v = feed.version;
  assert.equal(feed.append({ 'Loss/G': [[0.3, 1.3]] }), false);
  assert.equal(feed.version, v, 'nothing new: the charts are not redrawn');
});

test('fetch: everything first, then only the points after the last kimg held, appended in place', async () => {
  const l = loader();
  const feed = new SeriesFeed(l.load, 0);
  const first = feed.fetch();
  assert.equal(l.asked[0]!.afterKimg, undefined);
  l.asked[0]!.answer({
    'Loss/G': [
      [0.1, 1.5],
      [0.2, 1.4],
    ],
  });
  await first;
  const held = feed.series.get('Loss/G');
  const second = feed.fetch();
  assert.equal(l.asked[1]!.afterKimg, 0.2);
  l.asked[1]!.answer({ 'Loss/G': [[0.3, 1.3]], img_s: [[0.3, 40]] });
  await second;
  assert.equal(feed.series.get('Loss/G'), held, 'the same array, grown: a chart holding it sees the new point');
  assert.deepEqual(kimgs(held), [0.1, 0.2, 0.3]);
  assert.deepEqual(kimgs(feed.series.get('img_s')), [0.3]);
});

test('reset (another run): empty at once, the answer asked for before is dropped, the next fetch asks for everything', async () => {
  const l = loader();
  const feed = new SeriesFeed(l.load, 0);
  feed.append({ 'Loss/G': [[0.5, 1]] });
  const inFlight = feed.fetch();
  assert.equal(l.asked[0]!.afterKimg, 0.5);
  const v = feed.version;
  feed.reset();
  assert.equal(feed.series.size, 0);
  assert.ok(feed.version > v, 'the charts are redrawn empty');
  // The old run's answer arrives: dropped, and the feed asks again for the new run, from the start.
  l.asked[0]!.answer({ 'Loss/G': [[0.6, 0.9]] });
  await inFlight;
  assert.equal(feed.series.size, 0);
  await settle();
  assert.equal(l.asked.length, 2);
  assert.equal(l.asked[1]!.afterKimg, undefined);
  l.asked[1]!.answer({ 'Loss/D': [[0.1, 0.5]] });
  await settle();
  assert.deepEqual([...feed.series.keys()], ['Loss/D']);
});

test('restart: the old points stay shown until the full answer replaces them', async () => {
  const l = loader();
  const feed = new SeriesFeed(l.load, 0);
  feed.append({ 'Metrics/kid': [[1, 0.2]], 'Loss/G': [[1, 1.1]] });
  feed.restart();
  assert.deepEqual(kimgs(feed.series.get('Metrics/kid')), [1], 'no blank chart while the answer comes');
  const refetch = feed.fetch();
  assert.equal(l.asked[0]!.afterKimg, undefined);
  // The evaluation rewrote the value at kimg 1, which appending alone would skip.
  l.asked[0]!.answer({ 'Metrics/kid': [[1, 0.15]] });
  await refetch;
  assert.deepEqual(feed.series.get('Metrics/kid'), [[1, 0.15]]);
  assert.equal(feed.series.has('Loss/G'), false, 'replaced, not merged');
});

test('one fetch at a time: asked for meanwhile, it runs once more after; a failed fetch adds nothing', async () => {
  const l = loader();
  const feed = new SeriesFeed(l.load, 0);
  const a = feed.fetch();
  void feed.fetch();
  void feed.fetch();
  assert.equal(l.asked.length, 1, 'no second request while one is out');
  l.asked[0]!.answer({ 'Loss/G': [[0.1, 1]] });
  await a;
  await settle();
  assert.equal(l.asked.length, 2, 'the requests made meanwhile: one more fetch');
  assert.equal(l.asked[1]!.afterKimg, 0.1);
  const v = feed.version;
  l.asked[1]!.answer(null);
  await settle();
  assert.equal(feed.version, v);
  assert.equal(l.asked.length, 2);
});

test('schedule: at most one fetch per interval, however many progress events ask', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const l = loader();
  const feed = new SeriesFeed(l.load, 400);
  feed.schedule();
  t.mock.timers.tick(0);
  assert.equal(l.asked.length, 1, 'the first fetch goes at once');
  l.asked[0]!.answer({ 'Loss/G': [[0.1, 1]] });
  await settle();
  for (let i = 0; i < 5; i++) feed.schedule();
  t.mock.timers.tick(399);
  assert.equal(l.asked.length, 1, 'not before the interval has passed');
  t.mock.timers.tick(1);
  assert.equal(l.asked.length, 2, 'five events, one fetch');
  assert.equal(l.asked[1]!.afterKimg, 0.1);
  l.asked[1]!.answer({ 'Loss/G': [[0.2, 0.9]] });
  await settle();
  t.mock.timers.tick(1000);
  assert.equal(l.asked.length, 2, 'and none left over');
});

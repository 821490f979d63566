// The hostile probe's zip bombs, imported end to end through `atelier import` (the real import
// worker and its decode threads), with the peak resident memory of the largest process in the
// tree (getrusage(RUSAGE_CHILDREN) via python3, which waits for the CLI, which waits for its
// worker). Prints one JSON document.
//   node --import tsx bench/zip-bomb.ts      (BENCH_BOMB_GIB: size of each big entry, default 1.875)
// Before the streaming inflater: 3 × 1.875 GiB took 200 s and 7.87 GB; 1 MB → 1 GiB took 2.29 GB.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileEntry, writeRawZip, zerosEntry } from '../test/helpers/zip-bomb.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');
const GiB = 2 ** 30;
const BIG = Math.round(Number(process.env.BENCH_BOMB_GIB ?? 1.875) * GiB);
const EMOJI = join(ROOT, 'node_modules/emoji-datasource-twitter/img/twitter/64/1f600.png');

const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-bomb-'));
const RUSAGE = [
  '-c',
  'import resource, subprocess, sys, time\n' +
    't = time.time(); r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n' +
    'print(r.returncode, round(time.time() - t, 2), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n' +
    'print(r.stdout, end="")',
];

async function run(name: string, entries: Awaited<ReturnType<typeof zerosEntry>>[]): Promise<object> {
  const archive = join(dir, `${name}.zip`);
  writeRawZip(archive, [...entries, fileEntry('face.png', readFileSync(EMOJI))]);
  const project = join(dir, `${name}.atelier`);
  execFileSync(process.execPath, [BIN, 'new', project], { cwd: ROOT });
  const r = spawnSync('python3', [...RUSAGE, process.execPath, BIN, 'import', project, archive, '--resolution', '32', '--json'], { cwd: ROOT, encoding: 'utf8' });
  const [head, ...rest] = r.stdout.split('\n');
  const [code, seconds, maxRssKiB] = head!.split(' ').map(Number);
  const report = JSON.parse(rest.join('\n')) as { total: number; imported: number; skipped: Array<{ file: string; reason: string }> };
  return {
    case: name,
    zipBytes: statSync(archive).size,
    declaredBytes: entries.reduce((s, e) => s + e.size, 0),
    exitCode: code,
    seconds,
    peakRssMiB: Math.round((maxRssKiB! / 1024) * 10) / 10,
    total: report.total,
    imported: report.imported,
    skipped: report.skipped.map((s) => ({ file: s.file.slice(archive.length + 2), reason: s.reason })),
  };
}

try {
  const results = [
    await run('three-big-zeros', [await zerosEntry('a.png', BIG), await zerosEntry('b.png', BIG), await zerosEntry('c.png', BIG)]),
    await run('one-gib-zeros', [await zerosEntry('big.png', GiB)]),
  ];
  console.log(JSON.stringify({ loadavg: loadavg().map((l) => Math.round(l * 100) / 100), results }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

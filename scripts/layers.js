// The folder layers of core/, bottom first. A folder may import only folders on a lower layer
// (and itself): never one on its own layer or above. scripts/check-cycles.js enforces it; the
// table in docs/ARCHITECTURE.md is this one, and a test holds the two equal.
export const LAYERS = [
  { layer: 0, folders: ['api', 'random'], what: 'the contract (vocabulary, options table, schemas by domain); the seeded random stream' },
  { layer: 1, folders: ['store'], what: 'the project file: open, migrate, one module per table family, its own row types' },
  { layer: 2, folders: ['jobs'], what: 'engine workers: fork, the worker main, the typed job kinds, the job manager' },
  { layer: 3, folders: ['backend'], what: 'TensorFlow.js backends: choose, probe, kernels a backend lacks' },
  { layer: 4, folders: ['nets', 'augment', 'data'], what: 'networks and their weights format; augmentation; import and the dataset as tensors' },
  { layer: 5, folders: ['presets', 'metrics'], what: 'presets as data; pure metrics (KID, FID, PR, features, health signals)' },
  { layer: 6, folders: ['train'], what: 'the training library: config, loop, losses, optimiser, EMA, checkpoint state' },
  { layer: 7, folders: ['generator', 'vision'], what: 'a trained generator (meta, latents, weights, sources, sampler); vision-aided judges' },
  { layer: 8, folders: ['evaluation', 'export'], what: 'evaluating checkpoints (in training, on demand); generator files' },
  { layer: 9, folders: ['session', 'gallery', 'merge'], what: 'engine sessions: a training session and its worker; the sampling worker; merging generators' },
  { layer: 10, folders: ['service'], what: 'the studio service behind StudioApi, per domain' },
  { layer: 11, folders: ['server'], what: 'browser mode: the local web host' },
  { layer: 12, folders: ['cli'], what: 'the atelier command line' },
];

/** Layer of each core/ folder. */
export const LAYER_OF = new Map(LAYERS.flatMap((l) => l.folders.map((f) => [f, l.layer])));

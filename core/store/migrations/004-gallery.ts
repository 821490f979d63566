/**
 * Migration 4: what the gallery, models and exports need beyond schema 1.
 *
 * - `models`: the run a model was promoted from (kept when its checkpoint is pruned), whether it
 *   came from a checkpoint or an imported file, and when it was last renamed. `weights` holds the
 *   generator's own tensors (G_ema, named as the Generator names them); `metadata` a GeneratorMeta.
 * - `gallery_items`: the run, how the item was made (`origin`: a seed, an interpolation frame,
 *   latent arithmetic) and its recipe (JSON), the z it was drawn from (when there is one), and a
 *   provenance snapshot (JSON: model, run, checkpoint, ψ, noise, backend) that survives deleting
 *   the model or pruning the checkpoint. `latent` (from schema 1) holds the w the image was
 *   synthesised from (float32, after truncation).
 */
import type { Migration } from './migration.js';

export const migration004: Migration = {
  version: 4,
  name: 'gallery and models',
  up(db) {
    db.exec(`
      ALTER TABLE models ADD COLUMN run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
      ALTER TABLE models ADD COLUMN source TEXT NOT NULL DEFAULT 'checkpoint' CHECK (source IN ('checkpoint', 'import'));
      ALTER TABLE models ADD COLUMN updated_at TEXT;

      ALTER TABLE gallery_items ADD COLUMN run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
      ALTER TABLE gallery_items ADD COLUMN origin TEXT NOT NULL DEFAULT 'seed' CHECK (origin IN ('seed', 'interpolation', 'arithmetic'));
      ALTER TABLE gallery_items ADD COLUMN recipe TEXT;
      ALTER TABLE gallery_items ADD COLUMN z BLOB;
      ALTER TABLE gallery_items ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE gallery_items ADD COLUMN updated_at TEXT;
      CREATE INDEX gallery_items_model ON gallery_items(model_id);
      CREATE INDEX gallery_items_checkpoint ON gallery_items(checkpoint_id);
      CREATE INDEX models_checkpoint ON models(checkpoint_id);
    `);
  },
};

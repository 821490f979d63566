/**
 * The open project's services on one JobManager: dataset (import, browsing, edits), training,
 * evaluation, the gallery (models, exports) and merging. Each is created on first use; closing the
 * project cancels the import, asks every worker to save and leave, ends the sampling workers and
 * closes the file.
 */
import type { StudioEvent } from '../api/contract.js';
import { JobManager } from '../jobs/job-manager.js';
import type { Project } from '../store/project.js';
import { DatasetService } from './dataset.js';
import { Evaluation } from './evaluation.js';
import { Gallery } from './gallery.js';
import { Merging } from './merging.js';
import { Training } from './training.js';
import { speedFile } from '../train/speed-table.js';

export class OpenProject {
  private jobManager: JobManager | null = null;
  private datasetService: DatasetService | null = null;
  private trainingService: Training | null = null;
  private evaluationService: Evaluation | null = null;
  private galleryService: Gallery | null = null;
  private mergingService: Merging | null = null;

  /** `appHome`: the per-user folder (the speed table lives there); none: no measured speeds are kept. */
  constructor(
    readonly project: Project,
    private readonly emit: (event: StudioEvent) => void,
    private readonly appHome: string | null = null,
  ) {}

  /** The project's one JobManager: training, evaluation, import and merge jobs. */
  get jobs(): JobManager {
    this.jobManager ??= new JobManager(this.project);
    return this.jobManager;
  }

  get dataset(): DatasetService {
    this.datasetService ??= new DatasetService(this.jobs, this.emit);
    return this.datasetService;
  }

  /** The dataset service if it was used, without creating it. */
  get datasetIfStarted(): DatasetService | null {
    return this.datasetService;
  }

  get training(): Training {
    this.trainingService ??= new Training(this.jobs, () => this.dataset.store, this.emit, this.appHome === null ? null : speedFile(this.appHome));
    return this.trainingService;
  }

  get evaluation(): Evaluation {
    this.evaluationService ??= new Evaluation(this.jobs, this.emit);
    return this.evaluationService;
  }

  get gallery(): Gallery {
    this.galleryService ??= new Gallery(this.project, this.emit);
    return this.galleryService;
  }

  get merging(): Merging {
    this.mergingService ??= new Merging(this.jobs, this.emit);
    return this.mergingService;
  }

  /** Lets go of the project: the import is cancelled, training runs save and pause, workers end. */
  async close(): Promise<void> {
    this.datasetService?.close();
    await Promise.all([this.jobManager?.shutdown(), this.galleryService?.dispose()]);
    this.project.close();
  }
}

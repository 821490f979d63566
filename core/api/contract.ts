/**
 * StudioApi: the one contract between the renderer and the core service — the merge of each
 * domain's slice (project, dataset, train, metrics, gallery, models, merge). Each domain module holds its
 * result shapes, its request schemas and its methods; this file only puts them together, so a
 * method added to a slice without a handler is still a type error in every host.
 *
 * Electron's main process (IPC), the browser-mode server (WebSocket) and the renderer import it;
 * the renderer imports types only (values it needs come from the zod-free ./vocabulary.js and
 * ./train-options.js). Browser-safe: zod and types only, never `node:` modules.
 */
import type { z } from 'zod';
import { type DatasetEvent, datasetMethods } from './dataset.js';
import { type GalleryEvent, galleryMethods } from './gallery.js';
import { type MergeEvent, mergeMethods } from './merge.js';
import { type MetricsEvent, metricsMethods } from './metrics.js';
import { type ModelsEvent, modelsMethods } from './models.js';
import { type ProjectEvent, projectMethods } from './project.js';
import { type TrainEvent, trainMethods } from './train.js';

export * from './vocabulary.js';
export * from './train-options.js';
export type * from './run-config.js';
export type * from './vision.js';
export { AUTO_BACKBONES, BACKBONE_IDS } from './vision.js';
export type * from './project.js';
export type * from './dataset.js';
export type * from './train.js';
export type * from './metrics.js';
export type * from './gallery.js';
export type * from './models.js';
export type * from './merge.js';
export { IPC_EVENT, IPC_INVOKE } from './channels.js';

export const methods = {
  ...projectMethods,
  ...datasetMethods,
  ...trainMethods,
  ...metricsMethods,
  ...galleryMethods,
  ...modelsMethods,
  ...mergeMethods,
} as const;

export type Methods = typeof methods;
export type Method = keyof Methods;
export type Params<M extends Method> = z.infer<Methods[M]['params']>;
export type ResultOf<M extends Method> = Methods[M]['result'];

/** The contract as a callable interface: what the renderer sees through its IBackend. */
export type StudioApi = { [M in Method]: (params: Params<M>) => Promise<ResultOf<M>> };

export const methodNames = Object.keys(methods) as Method[];

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

/** Events pushed from the service to every connected renderer. */
export type StudioEvent = ProjectEvent | DatasetEvent | TrainEvent | MetricsEvent | GalleryEvent | ModelsEvent | MergeEvent;

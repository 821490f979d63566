/**
 * Composition root: picks the backend for this host, builds the state, mounts the app.
 * Electron's preload exposes `window.atelier`; without it this is the browser mode, served by
 * `atelier serve`, and the backend is a WebSocket to the same origin.
 */
import { mount } from 'svelte';
import App from './App.svelte';
import type { IBackend } from './lib/backend/backend.js';
import { ElectronBackend } from './lib/backend/electron-backend.js';
import { WsBackend } from './lib/backend/ws-backend.js';
import { DatasetState } from './lib/state/dataset.svelte.js';
import { GalleryState } from './lib/state/gallery.svelte.js';
import { MergeViewState } from './lib/state/merge.svelte.js';
import { ModelsState } from './lib/state/models.svelte.js';
import { StudioState } from './lib/state/studio.svelte.js';
import { TrainingState } from './lib/state/training.svelte.js';
import './app.css';

const backend: IBackend = window.atelier ? new ElectronBackend(window.atelier) : new WsBackend();
const studio = new StudioState(backend);
const dataset = new DatasetState(backend, studio);
const training = new TrainingState(backend, studio);
const gallery = new GalleryState(backend, studio);
const models = new ModelsState(backend, studio);
const merge = new MergeViewState(backend, studio);
void studio.refresh();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element.');
mount(App, { target, props: { studio, dataset, training, gallery, models, merge } });
